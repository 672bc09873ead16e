import { createHash } from "node:crypto";
import { Construct } from "constructs";
import { ITerraformDependable } from "cdktf";
import { LambdaInvocation } from "@cdktf/provider-aws/lib/lambda-invocation";
import { Grant, setting } from "./access";
import { HandlerBundle } from "./handler-bundles";
import { MirrorFunction } from "./mirror-function";
import { Warehouse } from "./warehouse";
import { BOOTSTRAP_ENV } from "../facts/environment";
import { DEFAULT_LOADER_USER, DEFAULT_READER_GROUP } from "../facts/warehouse";
import { METADATA_MIGRATIONS } from "../handlers/bootstrap/migrations";
import { migrationBatches, ownerTableBatches, type BootstrapNames } from "../handlers/bootstrap/sql";

export interface WarehouseBootstrapProps {
  readonly prefix: string;
  readonly warehouse: Warehouse;
  readonly bundle: HandlerBundle;
  readonly tables: readonly string[];
  readonly dataSchema: string;
  readonly metadataSchema: string;
  /** @default "controlshift_readers" */
  readonly readerGroup?: string;
  readonly logRetentionDays: number;
  readonly metricsNamespace: string;
  /** What the invocation must wait for: the cluster, or the namespace and workgroup. */
  readonly warehouseResources: readonly ITerraformDependable[];
}

/** The bootstrap's names for this warehouse: the loader user is the warehouse's (or the default for a secret). */
export function bootstrapNames(props: Pick<WarehouseBootstrapProps, "warehouse" | "dataSchema" | "metadataSchema" | "readerGroup">): BootstrapNames {
  return {
    loaderUser: props.warehouse.loaderUser ?? DEFAULT_LOADER_USER,
    readerGroup: props.readerGroup ?? DEFAULT_READER_GROUP,
    dataSchema: props.dataSchema,
    metadataSchema: props.metadataSchema,
  };
}

/**
 * What re-runs the bootstrap when it changes: the configured table list, every statement the owner part may run
 * (each table's CREATE TABLE and each metadata migration, rendered for these schema names), and the bundle (new
 * code, new migrations). Hashes only: the invocation's input and triggers are stored in Terraform's state.
 */
export function bootstrapTriggers(names: BootstrapNames, tables: readonly string[], bundleSha256: string): Record<string, string> {
  const sha = (value: unknown) => createHash("sha256").update(JSON.stringify(value)).digest("hex");
  const ddl = [
    ...ownerTableBatches(names, tables, new Set()).flat(),
    ...migrationBatches(names, METADATA_MIGRATIONS, new Set()).flatMap((m) => m.sqls),
  ];
  return { tables: sha(tables), ddl: sha({ names, ddl }), code: bundleSha256 };
}

/**
 * The bootstrap: a function that is the only reader of the warehouse's admin secret, and its invocation at
 * `terraform apply`.
 *
 * Why `aws_lambda_invocation` with `triggers` (lifecycle_scope CREATE_ONLY, the default): the provider invokes the
 * function when the resource is created or replaced, and a change of `triggers` replaces it, so the bootstrap runs on
 * the first apply and again whenever the table list, the DDL, the code or the warehouse itself (a replacement)
 * changes, and never on a plan or an apply
 * that changes none of them. CRUD scope would also invoke it on destroy, where there is nothing to do (the data
 * stays with the final snapshot). A failure of the function fails the apply with its message. Input and result are
 * stored in the state: the input holds the trigger hashes, the result names and counts (no secret, no hash).
 */
export class WarehouseBootstrap extends Construct {
  readonly function: MirrorFunction;
  readonly invocation: LambdaInvocation;
  readonly names: BootstrapNames;

  constructor(scope: Construct, id: string, props: WarehouseBootstrapProps) {
    super(scope, id);
    const w = props.warehouse;
    this.names = bootstrapNames(props);
    const grants: Grant[] = [
      // The loader user's own access (the owner part runs as it): the same grant the loaders get.
      w.grantDataApi(),
      setting(BOOTSTRAP_ENV.mode, w.mode),
      setting(BOOTSTRAP_ENV.loaderUser, this.names.loaderUser),
      setting(BOOTSTRAP_ENV.readerGroup, this.names.readerGroup),
      setting(BOOTSTRAP_ENV.tables, props.tables.join(",")),
      setting(BOOTSTRAP_ENV.dataSchema, props.dataSchema),
      setting(BOOTSTRAP_ENV.metadataSchema, props.metadataSchema),
    ];
    if (w.adminSecretArn !== undefined) {
      grants.push({
        statements: [{ sid: "ReadAdminSecret", actions: ["secretsmanager:GetSecretValue"], resources: [w.adminSecretArn] }],
        environment: { [BOOTSTRAP_ENV.adminSecretArn]: w.adminSecretArn },
      });
    }
    if (w.loaderSecretArn !== undefined) {
      grants.push({
        statements: [{ sid: "StoreLoaderPassword", actions: ["secretsmanager:PutSecretValue"], resources: [w.loaderSecretArn] }],
      });
    }

    this.function = new MirrorFunction(this, "function", {
      functionName: `${props.prefix}-bootstrap`,
      description: "Creates the loader user, schemas, tables and metadata in the warehouse (run by terraform apply)",
      bundle: props.bundle,
      memoryMiB: 256,
      // Lambda's maximum: a first run on a busy cluster creates 60-odd tables.
      timeoutSeconds: 900,
      logRetentionDays: props.logRetentionDays,
      metricsNamespace: props.metricsNamespace,
      grants,
    });

    const triggers = bootstrapTriggers(this.names, props.tables, props.bundle.sha256);
    this.invocation = new LambdaInvocation(this, "run", {
      functionName: this.function.function.functionName,
      input: JSON.stringify({ trigger: triggers }),
      // A new warehouse (a replaced cluster or namespace, or another mode) is empty: bootstrap it again.
      triggers: { ...triggers, warehouse: w.identity },
      dependsOn: [this.function.function, ...props.warehouseResources],
    });
  }
}
