/**
 * The config's types: what an operator writes (`MirrorConfigInput`) and what a stack is built from (`MirrorConfig`).
 * Each field's documented default is the value in ./defaults.ts, its one home.
 */

/** Where ControlShift hosts the instance; it decides which export buckets the download URLs may point at. */
/** Where ControlShift hosts the instance; it decides which export buckets the download URLs may point at. */
export type ControlShiftRegion = "us" | "eu";

export type BackendConfig =
  | {
      readonly type: "local";
      /**
       * State file path, relative to the stack's folder in `cdktf.out/stacks/<stack>`.
       * @default "../../../terraform.<prefix>.tfstate" (the project folder, beside cdktf.json, outside cdktf.out)
       */
      readonly path?: string;
    }
  | {
      readonly type: "s3";
      readonly bucket: string;
      /** @default "controlshift-mirror/<prefix>.tfstate" */
      readonly key?: string;
      /** @default the deployment region */
      readonly region?: string;
      /** S3-native state locking (Terraform >= 1.10). @default true */
      readonly useLockfile?: boolean;
    }
  | {
      /**
       * Terraform Cloud or Enterprise, CLI-driven: `cdktf deploy <environment>` runs the plan and apply remotely
       * in this environment's workspace. Exactly one of `workspace` and `tags`.
       */
      readonly type: "cloud";
      readonly organization: string;
      /** The one workspace this environment's state lives in, e.g. "controlshift-mirror-production". */
      readonly workspace?: string;
      /**
       * Instead of `workspace`: the tags of this environment's workspaces, e.g. ["controlshift-mirror", "production"].
       * Terraform works with any workspace that has all of them (TF_WORKSPACE picks one; a new one gets the tags), so
       * give each environment a tag of its own: an environment whose tags are all another's is refused.
       */
      readonly tags?: readonly string[];
      /** The Terraform Cloud project the workspace is created in. @default the organization's default project */
      readonly project?: string;
      /** @default "app.terraform.io" */
      readonly hostname?: string;
    };

export interface FunctionSizing {
  /** @default per function, see DEFAULTS */
  readonly memoryMiB: number;
  readonly timeoutSeconds: number;
}

/** One entry of the Redshift allow-list: who may connect with psql (or a BI tool) on the warehouse port. */
export interface AllowedCidr {
  /** An IPv4 or IPv6 CIDR, written as its network address: "203.0.113.7/32", "198.51.100.0/24", "2001:db8::/48". */
  readonly cidr: string;
  /** Shown on the security group rule (who this is). @default "Redshift clients (config network.allowedCidrs)" */
  readonly description?: string;
}

export interface NetworkConfig {
  /** CIDR of the VPC the stack creates (not used with `existingVpc`). @default "10.42.0.0/16" */
  readonly vpcCidr: string;
  /**
   * The availability zones of the VPC's subnets, one subnet each; at least 2 (3 for Redshift Serverless).
   * Named in the config, not looked up, so `terraform plan` runs offline.
   * @default `<region>a`, `<region>b` (and `<region>c` for serverless); ap-northeast-1 and ca-central-1 skip their missing letter
   */
  readonly availabilityZones: readonly string[];
  /** Use this VPC and these subnets instead of creating a VPC. @default undefined (the stack creates a VPC) */
  readonly existingVpc?: {
    readonly vpcId: string;
    /** At least 2 subnets in different availability zones (3 for serverless). */
    readonly subnetIds: readonly string[];
  };
  /**
   * Who may connect to the warehouse port: one security group rule per entry. Empty means a private warehouse
   * that only the Redshift Data API (the loaders, the query editor) reaches. @default []
   */
  readonly allowedCidrs: readonly AllowedCidr[];
  /**
   * Must be true for `allowedCidrs` to contain the whole internet (`0.0.0.0/0`, `::/0`, or any CIDR wider than /8);
   * synth then warns. @default false
   */
  readonly allowPublicInternet: boolean;
}

/** How the loaders authenticate to an existing warehouse through the Data API. */
export type ExistingWarehouseAuth =
  | {
      /**
       * A Secrets Manager secret with `username` and `password` of the one database user every loader acts as (never
       * the admin's: the bootstrap refuses a superuser; see help, "Existing warehouse: the grants to run once").
       */
      readonly type: "secret";
      readonly secretArn: string;
    }
  | {
      /**
       * IAM temporary credentials, for a cluster only: `dbUser` names the database user every loader acts as (it
       * must exist). Refused for a workgroup: Redshift Serverless derives the user from each loader's role
       * (`IAMR:<role name>`), so every loader would be a different user, and only the owner may ADD COLUMN.
       */
      readonly type: "iam";
      readonly dbUser?: string;
    };

export interface ExistingWarehouseConfig {
  /** The provisioned cluster to load into. Exactly one of clusterIdentifier and workgroupName. */
  readonly clusterIdentifier?: string;
  /** The Redshift Serverless workgroup to load into. */
  readonly workgroupName?: string;
  /**
   * The workgroup's id (a UUID: `aws redshift-serverless get-workgroup --workgroup-name <name> --query workgroup.workgroupId`).
   * Required with workgroupName: IAM names a workgroup by id, so the loaders' permissions need it.
   */
  readonly workgroupId?: string;
  readonly database: string;
  readonly auth: ExistingWarehouseAuth;
  /**
   * A role the warehouse already has for COPY from the exports bucket. @default undefined (the stack creates the
   * role `<prefix>-copy`; attach it to your cluster or namespace yourself, see `help`)
   */
  readonly copyRoleArn?: string;
}

export type WarehouseMode = "cluster" | "serverless" | "existing";

export interface WarehouseConfig {
  /** A provisioned cluster, a Redshift Serverless namespace + workgroup, or an existing warehouse. @default "cluster" */
  readonly mode: WarehouseMode;
  /** The database the stack creates (cluster, serverless). @default "controlshift" */
  readonly database: string;
  /** The admin user; its password is generated and kept by Redshift in Secrets Manager. @default "admin" */
  readonly adminUsername: string;
  /** @default 5439 (serverless accepts 5431-5455 and 8191-8215) */
  readonly port: number;
  /** Cluster node type (family.size, e.g. ra3.large, ra3.xlplus, ra3.4xlarge). @default "ra3.large" */
  readonly nodeType: string;
  /** @default 1 (a single-node cluster) */
  readonly numberOfNodes: number;
  /** Days automated cluster snapshots are kept (1-35). @default 7 */
  readonly snapshotRetentionDays: number;
  /** Route COPY traffic through the VPC (an S3 gateway endpoint is added to the stack's VPC). @default false */
  readonly enhancedVpcRouting: boolean;
  /**
   * Connection, user and user-activity logs to CloudWatch Logs (kept logRetentionDays for a cluster). The warehouse
   * holds members' personal data: turning it off is allowed, and synth warns. @default true
   */
  readonly auditLogging: boolean;
  /** Serverless base capacity in RPUs (8 to 1024, a multiple of 8). @default 8 */
  readonly baseCapacity: number;
  /** Serverless maximum capacity in RPUs, a cost ceiling. @default undefined (no ceiling but AWS's) */
  readonly maxCapacity?: number;
  /** Required with mode "existing", refused otherwise. @default undefined */
  readonly existing?: ExistingWarehouseConfig;
}

export interface MirrorConfig {
  /**
   * Starts every physical name (functions, queues, roles, buckets, log groups), so that two deployments
   * (staging, production) fit in one AWS account. Also the stack's name.
   * @default "cs-mirror"
   */
  readonly prefix: string;
  /** AWS region of the deployment. @default "us-east-1" */
  readonly region: string;
  /**
   * The ControlShift tables to mirror, each one `schemas/` knows (schemas/controlshift-tables.ts).
   * @default every table ControlShift exports today (63)
   */
  readonly tables: readonly string[];
  /**
   * Tables ControlShift exports that this project's `schemas/` does not know yet, mirrored anyway: each loader creates
   * its table from the first export's header (`id` BIGINT, every other column VARCHAR(MAX)) and adds columns as they
   * appear. An opt-in, so a misspelt entry of `tables` is refused instead of mirroring a table that never comes;
   * regenerate schemas/ (`npm run schemas`) to move a table into `tables` with its real types. @default []
   */
  readonly extraTables: readonly string[];
  readonly controlshift: {
    /** @default "us" */
    readonly region: ControlShiftRegion;
    /** The buckets export URLs may point at. @default both production buckets (CONTROLSHIFT_PRODUCTION_BUCKETS) */
    readonly exportBuckets: readonly string[];
  };
  /** E-mail addresses subscribed to the alerts topic. @default [] */
  readonly alertEmails: readonly string[];
  readonly exports: {
    /** Export files are deleted from our bucket after this many days. @default 30 */
    readonly expireAfterDays: number;
    /**
     * Keep overwritten or deleted exports for `noncurrentDays` (protects against a mistaken overwrite
     * during a manual re-load). @default true
     */
    readonly versioned: boolean;
    /** @default 7 */
    readonly noncurrentDays: number;
  };
  /** Retention of every log group (functions, API access logs); one of LOG_RETENTION_DAYS. @default 30 */
  readonly logRetentionDays: number;
  readonly receiver: FunctionSizing & {
    /**
     * A signed bulk-data webhook larger than this is quarantined, not loaded (other event types are never checked).
     * ControlShift's are about 1 KiB. At most 10 MiB, the receiver's size guard. @default 65536
     */
    readonly maxBodyBytes: number;
    /** How long the receiver caches the signing secret; a rotated secret is picked up after at most this. @default 300 */
    readonly secretCacheSeconds: number;
    /** API Gateway throttling of the webhook route. @default 50 requests/s, burst 100 */
    readonly throttleRatePerSecond: number;
    readonly throttleBurst: number;
  };
  readonly downloader: FunctionSizing & {
    /** Multipart part size; memory use is about partSizeMiB x uploadQueueSize. @default 8 */
    readonly partSizeMiB: number;
    /** Parts uploaded in parallel. @default 4 */
    readonly uploadQueueSize: number;
    /** At most this many downloads at once. @default 10 */
    readonly maxConcurrency: number;
    /** Deliveries of a job before the queue moves it to the dead-letter queue. @default 5 */
    readonly maxReceiveCount: number;
  };
  /** Days Secrets Manager keeps a deleted signing secret recoverable (0 deletes at once). @default 7 */
  readonly secretRecoveryDays: number;
  readonly backend: BackendConfig;
  /** Tags on every resource (through the provider's default_tags). @default { application: "controlshift-mirror" } */
  readonly tags: Readonly<Record<string, string>>;
  /** The warehouse's VPC, subnets and allow-list (not used with warehouse.mode "existing"). */
  readonly network: NetworkConfig;
  readonly warehouse: WarehouseConfig;
  readonly loaders: LoadersConfig;
  /** Where alarms are sent besides alertEmails, and when they fire. */
  readonly alerts: AlertsConfig;
}

/**
 * The alarms' thresholds (modules/alerts.ts). Every alarm notifies the `<prefix>-alerts` topic on ALARM and on OK.
 * Counts are per 5 minutes.
 */
export interface AlertsConfig {
  /**
   * HTTPS endpoints subscribed to the alerts topic: an incident or chat tool's SNS integration URL, which confirms
   * the subscription itself (a plain Slack or Teams incoming webhook cannot: see `help`). @default []
   */
  readonly httpsEndpoints: readonly string[];
  /** A table alarms when its last successful full load is older than this many hours (full exports are nightly). @default 26 */
  readonly freshnessHours: number;
  /** The downloads queue alarms when its oldest job is older than this (ControlShift's URLs expire after 6 h). @default 15 */
  readonly downloadsQueueAgeMinutes: number;
  /** An incremental loader's queue alarms when its oldest file is older than this. @default 60 */
  readonly incrementalQueueAgeMinutes: number;
  /** A full loader's queue alarms when its oldest file is older than this. @default 360 */
  readonly fullQueueAgeMinutes: number;
  /** A function alarms at this many errors (crashes, timeouts) in 5 minutes. @default 1 */
  readonly functionErrors: number;
  /** The receiver alarms at this many 401 answers in 5 minutes (a secret rotation costs a few). @default 5 */
  readonly webhookUnauthorized: number;
  /** The receiver alarms at this many 413 answers in 5 minutes (bodies over its 10 MiB size guard). @default 1 */
  readonly webhookRejected: number;
  /** The receiver and the API alarm at this many 5xx answers in 5 minutes (each kind its own alarm). @default 1 */
  readonly webhookServerErrors: number;
}

/** Memory and timeout of one table's two loaders. */
export interface LoaderSizing {
  readonly memoryMiB: number;
  readonly timeoutSeconds: number;
}

export interface LoadersConfig {
  /** The warehouse schema the mirrored tables live in. @default "controlshift" */
  readonly dataSchema: string;
  /** The schema of the load ledger, the failures table and the freshness view. @default "controlshift_mirror_meta" */
  readonly metadataSchema: string;
  /** Every loader's memory. @default 512 */
  readonly memoryMiB: number;
  /**
   * Every loader's timeout. A load still running when it nears the timeout is left running in the warehouse and
   * picked up again by the queue's retry. @default 300
   */
  readonly timeoutSeconds: number;
  /** Per-table sizing (`signatures` is the giant). @default { signatures: { memoryMiB: 1024, timeoutSeconds: 900 } } */
  readonly tables: Readonly<Record<string, Partial<LoaderSizing>>>;
  /** Incremental files of one table loaded together in one transaction (fewer commits on the cluster). @default 10 */
  readonly incrementalBatchSize: number;
  /** How long an incremental queue waits to fill a batch. @default 60 */
  readonly incrementalBatchingWindowSeconds: number;
  /** Deliveries of a load before its message moves to the loader's dead-letter queue. @default 5 */
  readonly maxReceiveCount: number;
}

/** Sections whose fields are filled in one by one; the rest (lists, tags, backend) are taken whole. */
type PartialSections<T> = {
  [K in keyof T]?: K extends "controlshift" | "exports" | "receiver" | "downloader" | "network" | "warehouse" | "loaders" | "alerts"
    ? Partial<T[K]>
    : T[K];
};

/** What an operator writes: every field optional. */
export type MirrorConfigInput = PartialSections<MirrorConfig>;
