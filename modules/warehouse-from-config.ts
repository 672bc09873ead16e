import { Construct } from "constructs";
import { MirrorConfig } from "./config";
import { ExportsBucket } from "./exports-bucket";
import { Network } from "./network";
import { Warehouse } from "./warehouse";
import { ClusterWarehouse } from "./warehouse-cluster";
import { ExistingWarehouse } from "./warehouse-existing";
import { ServerlessWarehouse } from "./warehouse-serverless";

/** The network a config's warehouse needs, or undefined for an existing warehouse (the stack creates none). */
export function networkFromConfig(scope: Construct, id: string, config: MirrorConfig): Network | undefined {
  const w = config.warehouse;
  if (w.mode === "existing") return undefined;
  const n = config.network;
  return new Network(scope, id, {
    prefix: config.prefix,
    region: config.region,
    vpcCidr: n.vpcCidr,
    availabilityZones: n.availabilityZones,
    existingVpc: n.existingVpc,
    allowedCidrs: n.allowedCidrs,
    allowPublicInternet: n.allowPublicInternet,
    port: w.port,
    redshiftSubnetGroup: w.mode === "cluster",
    enhancedVpcRouting: w.enhancedVpcRouting,
  });
}

/** The warehouse of the config's mode: a provisioned cluster, Redshift Serverless, or an existing one. */
export function warehouseFromConfig(
  scope: Construct,
  id: string,
  config: MirrorConfig,
  exportsBucket: ExportsBucket,
  network: Network | undefined,
): Warehouse {
  const w = config.warehouse;
  const needNetwork = (): Network => {
    if (!network) throw new Error(`A ${w.mode} warehouse needs a network.`);
    return network;
  };
  switch (w.mode) {
    case "cluster":
      return new ClusterWarehouse(scope, id, {
        prefix: config.prefix,
        network: needNetwork(),
        exportsBucket,
        database: w.database,
        adminUsername: w.adminUsername,
        port: w.port,
        nodeType: w.nodeType,
        numberOfNodes: w.numberOfNodes,
        snapshotRetentionDays: w.snapshotRetentionDays,
        enhancedVpcRouting: w.enhancedVpcRouting,
        auditLogging: w.auditLogging,
        logRetentionDays: config.logRetentionDays,
      });
    case "serverless":
      return new ServerlessWarehouse(scope, id, {
        prefix: config.prefix,
        network: needNetwork(),
        exportsBucket,
        database: w.database,
        adminUsername: w.adminUsername,
        port: w.port,
        baseCapacity: w.baseCapacity,
        maxCapacity: w.maxCapacity,
        enhancedVpcRouting: w.enhancedVpcRouting,
        auditLogging: w.auditLogging,
        secretRecoveryDays: config.secretRecoveryDays,
      });
    case "existing": {
      const e = w.existing;
      if (!e) throw new Error('warehouse.existing is required with warehouse.mode "existing".');
      return new ExistingWarehouse(scope, id, {
        prefix: config.prefix,
        region: config.region,
        exportsBucket,
        clusterIdentifier: e.clusterIdentifier,
        workgroupName: e.workgroupName,
        workgroupId: e.workgroupId,
        database: e.database,
        auth: e.auth,
        copyRoleArn: e.copyRoleArn,
      });
    }
  }
}
