/**
 * The defaults, in one place: every field's value when the operator leaves it out. Constructs take the resolved
 * config's values and repeat none of these.
 */
import { CONTROLSHIFT_TABLES } from "../../schemas/controlshift-tables";
import { DEFAULT_DATABASE, DEFAULT_DATA_SCHEMA, DEFAULT_METADATA_SCHEMA } from "../../facts/warehouse";
import type { BackendConfig, ControlShiftRegion, MirrorConfig, WarehouseMode } from "./types";

/** ControlShift's export buckets, per region (download URLs are presigned GETs on `<bucket>.s3.amazonaws.com`: help, "The webhook ControlShift sends, and the export file name"). */
export const CONTROLSHIFT_EXPORT_BUCKETS: Readonly<Record<ControlShiftRegion, readonly string[]>> = {
  us: ["agra-data-exports-production"],
  eu: ["agra-data-exports-production-eu-central-1"],
};
/**
 * Both production buckets: the default allow-list whatever `controlshift.region` says. Both are ControlShift's, and
 * a URL on the other region's bucket would otherwise be quarantined instead of loaded (issue 8).
 */
export const CONTROLSHIFT_PRODUCTION_BUCKETS: readonly string[] = [...CONTROLSHIFT_EXPORT_BUCKETS.us, ...CONTROLSHIFT_EXPORT_BUCKETS.eu];
/** ControlShift's staging exports; allowed only when listed explicitly in `controlshift.exportBuckets`. */
export const CONTROLSHIFT_STAGING_BUCKET = "agra-data-exports-staging";

export const DEFAULT_PREFIX = "cs-mirror";
/** The VPC the stack creates. */
export const DEFAULT_VPC_CIDR = "10.42.0.0/16";
/** Redshift's port, for a cluster and (within its own range) serverless. */
export const DEFAULT_REDSHIFT_PORT = 5439;

/** The description of an allow-list rule that names none (`network.allowedCidrs[].description`). */
export const DEFAULT_RULE_DESCRIPTION = "Redshift clients (config network.allowedCidrs)";

/** A backend with every default filled in, from the prefix and region of its environment. */
export type ResolvedBackend =
  | { readonly type: "local"; readonly path: string }
  | { readonly type: "s3"; readonly bucket: string; readonly key: string; readonly region: string; readonly useLockfile: boolean }
  | ({ readonly type: "cloud"; readonly organization: string; readonly project?: string; readonly hostname: string } & (
      | { readonly workspace: string; readonly tags?: undefined }
      | { readonly tags: readonly string[]; readonly workspace?: undefined }
    ));

/**
 * The backend's defaults. The local state file is relative to the folder terraform runs in
 * (cdktf.out/stacks/<stack>): three levels up is the project folder, beside cdktf.json, so deleting or
 * re-synthesizing cdktf.out never deletes the state.
 */
export function backendWithDefaults(backend: BackendConfig, prefix: string, region: string): ResolvedBackend {
  switch (backend.type) {
    case "local":
      return { type: "local", path: backend.path ?? `../../../terraform.${prefix}.tfstate` };
    case "s3":
      return {
        type: "s3",
        bucket: backend.bucket,
        key: backend.key ?? `controlshift-mirror/${prefix}.tfstate`,
        region: backend.region ?? region,
        useLockfile: backend.useLockfile ?? true,
      };
    case "cloud": {
      const base = {
        type: "cloud",
        organization: backend.organization,
        ...(backend.project !== undefined ? { project: backend.project } : {}),
        hostname: backend.hostname ?? "app.terraform.io",
      } as const;
      if (backend.tags !== undefined) return { ...base, tags: backend.tags };
      // validateConfig refuses a cloud backend with neither; only a resolved config reaches here.
      if (backend.workspace === undefined) throw new Error("backend: a cloud backend needs a workspace or tags");
      return { ...base, workspace: backend.workspace };
    }
  }
}

/** Regions whose AZ letters skip one (no ap-northeast-1b, no ca-central-1c in new accounts). */
const AZ_LETTERS: Readonly<Record<string, readonly string[]>> = {
  "ap-northeast-1": ["a", "c", "d"],
  "ca-central-1": ["a", "b", "d"],
};

/**
 * The default availability zones, named from the region without asking AWS (no data source: `terraform plan` runs
 * offline): `<region>a`, `<region>b`, and `<region>c` for Redshift Serverless, which needs three.
 */
export function defaultAvailabilityZones(region: string, mode: WarehouseMode): string[] {
  const letters = AZ_LETTERS[region] ?? ["a", "b", "c"];
  return letters.slice(0, mode === "serverless" ? 3 : 2).map((l) => `${region}${l}`);
}

/** The defaults, in one place. */
export function defaultConfig(prefix = DEFAULT_PREFIX): MirrorConfig {
  return {
    prefix,
    region: "us-east-1",
    tables: [...CONTROLSHIFT_TABLES],
    extraTables: [],
    controlshift: { region: "us", exportBuckets: CONTROLSHIFT_PRODUCTION_BUCKETS },
    alertEmails: [],
    exports: { expireAfterDays: 30, versioned: true, noncurrentDays: 7 },
    logRetentionDays: 30,
    receiver: {
      memoryMiB: 256,
      timeoutSeconds: 10,
      maxBodyBytes: 65536,
      secretCacheSeconds: 300,
      throttleRatePerSecond: 50,
      throttleBurst: 100,
    },
    downloader: {
      memoryMiB: 512,
      timeoutSeconds: 300,
      partSizeMiB: 8,
      uploadQueueSize: 4,
      maxConcurrency: 10,
      maxReceiveCount: 5,
    },
    secretRecoveryDays: 7,
    backend: { type: "local" },
    tags: { application: "controlshift-mirror" },
    network: {
      vpcCidr: DEFAULT_VPC_CIDR,
      availabilityZones: defaultAvailabilityZones("us-east-1", "cluster"),
      allowedCidrs: [],
      allowPublicInternet: false,
    },
    warehouse: {
      mode: "cluster",
      database: DEFAULT_DATABASE,
      adminUsername: "admin",
      port: DEFAULT_REDSHIFT_PORT,
      nodeType: "ra3.large",
      numberOfNodes: 1,
      snapshotRetentionDays: 7,
      enhancedVpcRouting: false,
      auditLogging: true,
      baseCapacity: 8,
    },
    loaders: {
      dataSchema: DEFAULT_DATA_SCHEMA,
      metadataSchema: DEFAULT_METADATA_SCHEMA,
      memoryMiB: 512,
      timeoutSeconds: 300,
      tables: { signatures: { memoryMiB: 1024, timeoutSeconds: 900 } },
      incrementalBatchSize: 10,
      incrementalBatchingWindowSeconds: 60,
      maxReceiveCount: 5,
    },
    alerts: {
      httpsEndpoints: [],
      freshnessHours: 26,
      downloadsQueueAgeMinutes: 15,
      incrementalQueueAgeMinutes: 60,
      fullQueueAgeMinutes: 360,
      functionErrors: 1,
      webhookUnauthorized: 5,
      webhookRejected: 1,
      webhookServerErrors: 1,
    },
  };
}
