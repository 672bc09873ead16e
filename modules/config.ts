/**
 * The deployment config: one typed object, with defaults, validated in one pass.
 *
 * Operators write a `MirrorConfigInput` (every field optional) in `config.ts`; `resolveConfig` fills in the
 * defaults and reports every problem at once, each naming the field, the bad value and what is allowed.
 * This module is pure (no cdktf, no process.env): tests and `main.ts` call it the same way.
 */
import { CONTROLSHIFT_TABLES } from "../schemas/controlshift-tables";
import {
  CLUSTER_ID_PATTERN,
  DATABASE_NAME_PATTERN,
  DB_USER_PATTERN,
  IAM_ROLE_ARN_PATTERN,
  SECRET_ARN_PATTERN,
  WORKGROUP_NAME_PATTERN,
} from "../facts/aws-names";
import { PART_SIZE_MIB, UPLOAD_QUEUE_SIZE } from "../facts/downloads";
import { TABLE_NAME_PATTERN } from "../facts/exports";
import { DEFAULT_DATABASE, DEFAULT_DATA_SCHEMA, DEFAULT_METADATA_SCHEMA } from "../facts/warehouse";
import { AWS_REGIONS } from "./config/aws-regions";
import { unknownFieldProblems } from "./config/shape";
import { didYouMean } from "./config/suggest";

/** Where ControlShift hosts the instance; it decides which export buckets the download URLs may point at. */
export type ControlShiftRegion = "us" | "eu";

/** ControlShift's export buckets, per region (CONTRACT: download URLs are presigned GETs on `<bucket>.s3.amazonaws.com`). */
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

/** The retention values CloudWatch Logs accepts (PutRetentionPolicy). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

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
       * in this workspace (one workspace per environment).
       */
      readonly type: "cloud";
      readonly organization: string;
      readonly workspace: string;
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

/**
 * What a provisioned node type looks like (family.size: ra3.large, ra3.xlplus, ra3.4xlarge, dc2.8xlarge). A pattern,
 * not a list, so a node type AWS adds later is accepted; AWS checks that it exists at apply.
 */
export const REDSHIFT_NODE_TYPE_PATTERN = /^[a-z]{2,3}[0-9]?\.[0-9]{0,2}(large|xlarge|xlplus)$/;
/**
 * Node types that run only as multi-node clusters (2 nodes or more).
 * https://docs.aws.amazon.com/redshift/latest/mgmt/working-with-clusters.html#rs-node-type-info
 */
export const MULTI_NODE_ONLY_NODE_TYPES: readonly string[] = ["ra3.16xlarge", "dc2.8xlarge"];

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

export const DEFAULT_PREFIX = "cs-mirror";

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
      vpcCidr: "10.42.0.0/16",
      availabilityZones: defaultAvailabilityZones("us-east-1", "cluster"),
      allowedCidrs: [],
      allowPublicInternet: false,
    },
    warehouse: {
      mode: "cluster",
      database: DEFAULT_DATABASE,
      adminUsername: "admin",
      port: 5439,
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

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `The deployment config has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
        problems.map((p) => `  - ${p}`).join("\n") +
        "\nFix them in config.ts (see `help`, section Config) and run the command again.",
    );
    this.name = "ConfigError";
  }
}

const PREFIX_PATTERN = /^[a-z][a-z0-9-]{1,18}[a-z0-9]$/;
// S3 bucket naming rules, simplified to what ControlShift's buckets look like.
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const TAG_KEY_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;

const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

/** Collects problems; every check adds one line naming the field, the value and what is allowed. */
class Checker {
  readonly problems: string[] = [];

  add(field: string, value: unknown, allowed: string): void {
    this.problems.push(`${field} is ${show(value)}: ${allowed}`);
  }

  integer(field: string, value: unknown, min: number, max: number): void {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      this.add(field, value, `must be a whole number from ${min} to ${max}`);
    }
  }

  boolean(field: string, value: unknown): void {
    if (typeof value !== "boolean") this.add(field, value, "must be true or false");
  }

  /** An AWS region code from the list of regions (config/aws-regions.ts), with the closest one for a typo. */
  region(field: string, value: unknown): void {
    if (typeof value === "string" && AWS_REGIONS.includes(value)) return;
    const hint = typeof value === "string" ? didYouMean(value, AWS_REGIONS) : "";
    this.add(field, value, hint ? `is not an AWS region code: ${hint}` : "must be an AWS region code such as us-east-1 or eu-central-1");
  }

  sizing(field: string, value: FunctionSizing, maxTimeout = 900): void {
    this.integer(`${field}.memoryMiB`, value.memoryMiB, 128, 10240);
    this.integer(`${field}.timeoutSeconds`, value.timeoutSeconds, 1, maxTimeout);
  }
}

/** Fills in defaults. Sections merge one level deep; lists replace the default list. */
export function withDefaults(input: MirrorConfigInput = {}): MirrorConfig {
  const d = defaultConfig(input.prefix ?? DEFAULT_PREFIX);
  const csRegion = (input.controlshift?.region ?? d.controlshift.region) as ControlShiftRegion;
  return {
    prefix: input.prefix ?? d.prefix,
    region: input.region ?? d.region,
    tables: input.tables ?? d.tables,
    extraTables: input.extraTables ?? d.extraTables,
    controlshift: {
      region: csRegion,
      exportBuckets: input.controlshift?.exportBuckets ?? d.controlshift.exportBuckets,
    },
    alertEmails: input.alertEmails ?? d.alertEmails,
    exports: { ...d.exports, ...input.exports },
    logRetentionDays: input.logRetentionDays ?? d.logRetentionDays,
    receiver: { ...d.receiver, ...input.receiver },
    downloader: { ...d.downloader, ...input.downloader },
    secretRecoveryDays: input.secretRecoveryDays ?? d.secretRecoveryDays,
    backend: input.backend ?? d.backend,
    tags: input.tags ?? d.tags,
    network: {
      ...d.network,
      ...input.network,
      // Derived from the region and mode actually chosen, not the default region's.
      availabilityZones:
        input.network?.availabilityZones ??
        defaultAvailabilityZones(input.region ?? d.region, input.warehouse?.mode ?? d.warehouse.mode),
    },
    warehouse: { ...d.warehouse, ...input.warehouse },
    loaders: {
      ...d.loaders,
      ...input.loaders,
      // The default sizing of `signatures` applies only when it is mirrored; a table list of one's own is checked.
      tables:
        input.loaders?.tables ??
        Object.fromEntries(
          Object.entries(d.loaders.tables).filter(([t]) => [...(input.tables ?? d.tables), ...(input.extraTables ?? [])].includes(t)),
        ),
    },
    alerts: { ...d.alerts, ...input.alerts },
  };
}

/** Every problem of a complete config, in field order; empty when it is valid. */
export function validateConfig(config: MirrorConfig): string[] {
  const c = new Checker();

  if (typeof config.prefix !== "string" || !PREFIX_PATTERN.test(config.prefix)) {
    c.add("prefix", config.prefix, "must be 3 to 20 characters of a-z, 0-9 and -, starting with a letter, not ending with -");
  }
  c.region("region", config.region);
  checkTables(c, config);

  if (typeof config.controlshift.region !== "string" || !Object.hasOwn(CONTROLSHIFT_EXPORT_BUCKETS, config.controlshift.region)) {
    const regions = Object.keys(CONTROLSHIFT_EXPORT_BUCKETS);
    const hint = typeof config.controlshift.region === "string" ? didYouMean(config.controlshift.region, regions) : "";
    c.add("controlshift.region", config.controlshift.region, `must be one of ${regions.join(", ")}${hint ? `: ${hint}` : ""}`);
  }
  const knownBuckets = [...Object.values(CONTROLSHIFT_EXPORT_BUCKETS).flat(), CONTROLSHIFT_STAGING_BUCKET];
  if (!Array.isArray(config.controlshift.exportBuckets) || config.controlshift.exportBuckets.length === 0) {
    c.add("controlshift.exportBuckets", config.controlshift.exportBuckets, `must list at least one of ${knownBuckets.join(", ")}`);
  } else {
    config.controlshift.exportBuckets.forEach((b, i) => {
      if (typeof b !== "string" || !BUCKET_PATTERN.test(b)) {
        c.add(`controlshift.exportBuckets[${i}]`, b, "must be an S3 bucket name (3 to 63 characters of a-z, 0-9 and -)");
      } else if (!knownBuckets.includes(b) && !b.startsWith("agra-data-exports-")) {
        c.add(`controlshift.exportBuckets[${i}]`, b, `is not a ControlShift export bucket; known: ${knownBuckets.join(", ")}`);
      }
    });
  }

  checkAlertEmails(c, config.alertEmails);

  c.integer("exports.expireAfterDays", config.exports.expireAfterDays, 1, 3650);
  c.boolean("exports.versioned", config.exports.versioned);
  c.integer("exports.noncurrentDays", config.exports.noncurrentDays, 1, 3650);

  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(config.logRetentionDays)) {
    c.add("logRetentionDays", config.logRetentionDays, `must be one of CloudWatch's values: ${LOG_RETENTION_DAYS.join(", ")}`);
  }

  // API Gateway cuts HTTP API integrations at 30 s; ControlShift needs an answer well before.
  c.sizing("receiver", config.receiver, 29);
  c.integer("receiver.maxBodyBytes", config.receiver.maxBodyBytes, 1024, 10 * 1024 * 1024);
  c.integer("receiver.secretCacheSeconds", config.receiver.secretCacheSeconds, 0, 3600);
  c.integer("receiver.throttleRatePerSecond", config.receiver.throttleRatePerSecond, 1, 10000);
  c.integer("receiver.throttleBurst", config.receiver.throttleBurst, 1, 5000);

  c.sizing("downloader", config.downloader);
  // Why these limits: facts/downloads.ts.
  c.integer("downloader.partSizeMiB", config.downloader.partSizeMiB, PART_SIZE_MIB.min, PART_SIZE_MIB.max);
  c.integer("downloader.uploadQueueSize", config.downloader.uploadQueueSize, UPLOAD_QUEUE_SIZE.min, UPLOAD_QUEUE_SIZE.max);
  // SQS event sources accept a maximum concurrency from 2 to 1000.
  c.integer("downloader.maxConcurrency", config.downloader.maxConcurrency, 2, 1000);
  c.integer("downloader.maxReceiveCount", config.downloader.maxReceiveCount, 1, 1000);
  const buffers = config.downloader.partSizeMiB * (config.downloader.uploadQueueSize + 1);
  if (Number.isInteger(buffers) && buffers + 128 > config.downloader.memoryMiB) {
    c.add(
      "downloader.memoryMiB",
      config.downloader.memoryMiB,
      `must be at least partSizeMiB x (uploadQueueSize + 1) + 128 = ${buffers + 128} for the upload buffers`,
    );
  }

  c.integer("secretRecoveryDays", config.secretRecoveryDays, 0, 30);
  if (config.secretRecoveryDays > 0 && config.secretRecoveryDays < 7) {
    c.add("secretRecoveryDays", config.secretRecoveryDays, "must be 0 (delete at once) or from 7 to 30 (Secrets Manager's range)");
  }

  const b = config.backend as BackendConfig & Record<string, unknown>;
  if (b?.type === "local") {
    if (b.path !== undefined && (typeof b.path !== "string" || b.path.startsWith("/"))) {
      c.add("backend.path", b.path, "must be a relative path, so the synthesized stack does not depend on this machine");
    }
  } else if (b?.type === "s3") {
    if (typeof b.bucket !== "string" || !BUCKET_PATTERN.test(b.bucket)) c.add("backend.bucket", b.bucket, "must be an S3 bucket name");
    if (b.region !== undefined) c.region("backend.region", b.region);
  } else if (b?.type === "cloud") {
    if (typeof b.organization !== "string" || b.organization === "") c.add("backend.organization", b.organization, "must name the Terraform Cloud organization");
    // Terraform Cloud's workspace names: letters, numbers, - and _, at most 90 characters.
    if (typeof b.workspace !== "string" || !/^[A-Za-z0-9_-]{1,90}$/.test(b.workspace)) {
      c.add("backend.workspace", b.workspace, "must name the Terraform Cloud workspace: 1 to 90 letters, numbers, - and _");
    }
    if (b.project !== undefined && (typeof b.project !== "string" || b.project.trim() === "")) {
      c.add("backend.project", b.project, "must name a Terraform Cloud project, or be left out for the default project");
    }
  } else {
    c.add("backend.type", (b as { type?: unknown } | undefined)?.type, 'must be "local", "s3" or "cloud"');
  }

  for (const [k, v] of Object.entries(config.tags)) {
    if (!TAG_KEY_PATTERN.test(k) || k.startsWith("aws:")) c.add("tags (a key)", k, "must be 1 to 128 tag characters, not starting with aws:");
    if (typeof v !== "string" || v.length > 256) c.add(`tags.${k}`, v, "must be a string of at most 256 characters");
  }

  checkNetwork(c, config);
  checkWarehouse(c, config);

  checkLoaders(c, config);
  checkAlerts(c, config.alerts);

  return c.problems;
}

// ---------------------------------------------------------------------------------------------------------------
// Network and warehouse: CIDR arithmetic (pure, shared with modules/network.ts) and validation.

/** An IPv4 or IPv6 CIDR, parsed. */
export interface ParsedCidr {
  readonly family: 4 | 6;
  /** The address as a number (host bits may be set). */
  readonly address: bigint;
  readonly prefixLength: number;
  /** The network address with its prefix, in canonical text (IPv6 per RFC 5952: lower case, zeros compressed). */
  readonly network: string;
}

const IPV4_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const IPV6_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** The text form of an address: dotted quad, or RFC 5952 for IPv6. */
export function formatAddress(family: 4 | 6, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join(".");
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  // The longest run of two or more zero groups becomes "::" (the first one on a tie).
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length && j - i >= 2) best = { start: i, length: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.start < 0) return hex.join(":");
  return `${hex.slice(0, best.start).join(":")}::${hex.slice(best.start + best.length).join(":")}`;
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => IPV4_OCTET.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
}

function parseIpv6(text: string): bigint | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const split = (h: string) => (h === "" ? [] : h.split(":"));
  const head = split(halves[0]);
  const tail = halves.length === 2 ? split(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!groups.every((g) => IPV6_GROUP.test(g))) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** Parses "a.b.c.d/n" or "x:y::z/n"; undefined when it is not a CIDR. */
export function parseCidr(text: unknown): ParsedCidr | undefined {
  if (typeof text !== "string") return undefined;
  const m = /^([^/]+)\/(0|[1-9][0-9]{0,2})$/.exec(text);
  if (!m) return undefined;
  const family: 4 | 6 = m[1].includes(":") ? 6 : 4;
  const address = family === 4 ? parseIpv4(m[1]) : parseIpv6(m[1]);
  const prefixLength = Number(m[2]);
  const bits = family === 4 ? 32 : 128;
  if (address === undefined || prefixLength > bits) return undefined;
  const hostMask = (1n << BigInt(bits - prefixLength)) - 1n;
  return { family, address, prefixLength, network: `${formatAddress(family, address & ~hostMask)}/${prefixLength}` };
}

/**
 * CIDRs this wide count as the public internet: `0.0.0.0/0` and `::/0`, and anything wider than /8 (two rules for
 * `0.0.0.0/1` and `128.0.0.0/1` are the whole internet too).
 */
export const PUBLIC_INTERNET_MAX_PREFIX = 7;

export function isPublicInternet(cidr: ParsedCidr): boolean {
  return cidr.prefixLength <= PUBLIC_INTERNET_MAX_PREFIX;
}

/** What synth should warn about (printed by `cdktf synth` as a construct warning, and by anyone calling this). */
export function configWarnings(config: MirrorConfig): string[] {
  const audit =
    config.warehouse.mode !== "existing" && !config.warehouse.auditLogging
      ? [
          "warehouse.auditLogging is false: the warehouse holds members' personal data, and without the connection, " +
            "user and user-activity logs nobody can tell who read or changed it. Remove the setting to log (the default).",
        ]
      : [];
  return [...audit, ...publicInternetWarnings(config), ...noSubscriberWarnings(config)];
}

/** The first line of the warning for a config whose alarms notify nobody; help's entry is titled by it. */
export const NO_ALERT_SUBSCRIBER_WARNING = "no alert subscriber: the alarms notify nobody";

function noSubscriberWarnings(config: MirrorConfig): string[] {
  if (config.alertEmails.length > 0 || config.alerts.httpsEndpoints.length > 0) return [];
  return [
    `${NO_ALERT_SUBSCRIBER_WARNING}. alertEmails and alerts.httpsEndpoints are both empty, so a failed load, a ` +
      "dead-lettered download or a stale table raises an alarm that reaches no one. Add alertEmails in config.ts and " +
      "deploy again, or subscribe after the deploy: aws sns subscribe --topic-arn <alerts_topic_arn from npx cdktf output> " +
      "--protocol email --notification-endpoint <address> (see help, entry: WARNING: no alert subscriber).",
  ];
}

function publicInternetWarnings(config: MirrorConfig): string[] {
  if (config.warehouse.mode === "existing" || !config.network.allowPublicInternet) return [];
  const open = config.network.allowedCidrs.map((a) => a.cidr).filter((c) => {
    const parsed = parseCidr(c);
    return parsed !== undefined && isPublicInternet(parsed);
  });
  return open.length === 0
    ? []
    : [
        `network.allowedCidrs opens the Redshift port to the whole internet (${open.join(", ")}), as ` +
          "network.allowPublicInternet allows: anyone can try passwords on it. List your offices' addresses instead.",
      ];
}

const VPC_ID_PATTERN = /^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/;
const SUBNET_ID_PATTERN = /^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/;
// Security group rule descriptions: up to 255 of a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*
const RULE_DESCRIPTION_PATTERN = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]{1,255}$/;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Redshift Serverless accepts these ports only.
const SERVERLESS_PORTS = "5431 to 5455 or 8191 to 8215";
const isServerlessPort = (p: number) => (p >= 5431 && p <= 5455) || (p >= 8191 && p <= 8215);

function checkNetwork(c: Checker, config: MirrorConfig): void {
  const n = config.network;
  const mode = config.warehouse.mode;
  if (mode === "existing") {
    // The stack creates no network for an existing warehouse: settings here would silently do nothing.
    if (Array.isArray(n.allowedCidrs) && n.allowedCidrs.length > 0) {
      c.add(
        "network.allowedCidrs",
        n.allowedCidrs.map((a) => a?.cidr),
        'has no effect with warehouse.mode "existing" (the stack creates no network): allow these addresses on your warehouse\'s own security group',
      );
    }
    if (n.existingVpc !== undefined) {
      c.add("network.existingVpc", n.existingVpc, 'has no effect with warehouse.mode "existing" (the stack creates no network): remove it');
    }
    return;
  }
  const minZones = mode === "serverless" ? 3 : 2;
  const zonesWhy =
    mode === "serverless"
      ? "Redshift Serverless needs subnets in 3 availability zones"
      : "Redshift needs subnets in at least 2 availability zones";

  if (n.existingVpc === undefined) {
    const vpc = parseCidr(n.vpcCidr);
    if (!vpc || vpc.family !== 4 || vpc.prefixLength < 16 || vpc.prefixLength > 24) {
      c.add("network.vpcCidr", n.vpcCidr, 'must be an IPv4 CIDR from /16 to /24, such as "10.42.0.0/16"');
    } else if (vpc.network !== n.vpcCidr) {
      c.add("network.vpcCidr", n.vpcCidr, `has host bits set: write the network address "${vpc.network}"`);
    }
    const zones = n.availabilityZones;
    if (!Array.isArray(zones)) {
      c.add("network.availabilityZones", zones, `must list availability zones of ${config.region}: ${zonesWhy}`);
    } else {
      const seen = new Set<string>();
      zones.forEach((z, i) => {
        if (typeof z !== "string" || !z.startsWith(config.region) || !/^[a-z]$/.test(z.slice(config.region.length))) {
          c.add(`network.availabilityZones[${i}]`, z, `must be an availability zone of the region ${config.region}, such as "${config.region}a"`);
          return;
        }
        if (seen.has(z)) c.add(`network.availabilityZones[${i}]`, z, "is listed twice");
        seen.add(z);
      });
      if (seen.size < minZones) {
        c.add("network.availabilityZones", zones, `must list at least ${minZones} different zones: ${zonesWhy}`);
      } else if (zones.length > 6) {
        c.add("network.availabilityZones", zones, "must list at most 6 zones (one subnet each)");
      }
    }
  } else {
    const e = n.existingVpc;
    if (typeof e.vpcId !== "string" || !VPC_ID_PATTERN.test(e.vpcId)) {
      c.add("network.existingVpc.vpcId", e.vpcId, 'must be a VPC id such as "vpc-0123456789abcdef0"');
    }
    if (!Array.isArray(e.subnetIds)) {
      c.add("network.existingVpc.subnetIds", e.subnetIds, `must list subnet ids: ${zonesWhy}`);
    } else {
      const seen = new Set<string>();
      e.subnetIds.forEach((id, i) => {
        if (typeof id !== "string" || !SUBNET_ID_PATTERN.test(id)) {
          c.add(`network.existingVpc.subnetIds[${i}]`, id, 'must be a subnet id such as "subnet-0123456789abcdef0"');
          return;
        }
        if (seen.has(id)) c.add(`network.existingVpc.subnetIds[${i}]`, id, "is listed twice");
        seen.add(id);
      });
      if (seen.size < minZones) {
        c.add("network.existingVpc.subnetIds", e.subnetIds, `must list at least ${minZones} subnets, each in a different availability zone: ${zonesWhy}`);
      }
    }
  }

  c.boolean("network.allowPublicInternet", n.allowPublicInternet);
  if (!Array.isArray(n.allowedCidrs)) {
    c.add("network.allowedCidrs", n.allowedCidrs, 'must be a list of { cidr, description? } (empty for a private warehouse)');
    return;
  }
  const seen = new Map<string, number>();
  n.allowedCidrs.forEach((entry, i) => {
    const field = `network.allowedCidrs[${i}]`;
    if (typeof entry !== "object" || entry === null) {
      c.add(field, entry, 'must be { cidr: "203.0.113.7/32", description: "Berlin office" }');
      return;
    }
    const parsed = parseCidr(entry.cidr);
    if (!parsed) {
      c.add(`${field}.cidr`, entry.cidr, 'must be an IPv4 or IPv6 CIDR such as "203.0.113.7/32", "198.51.100.0/24" or "2001:db8::/48"');
    } else if (parsed.network !== entry.cidr) {
      const hostBits = parsed.network.split("/")[0] !== formatAddress(parsed.family, parsed.address);
      c.add(
        `${field}.cidr`,
        entry.cidr,
        hostBits
          ? `has host bits set: write "${parsed.network}" for the network, or "${formatAddress(parsed.family, parsed.address)}/${parsed.family === 4 ? 32 : 128}" for this one address`
          : `must be written as "${parsed.network}" (lower case, zeros compressed), the form AWS reports back`,
      );
    } else if (isPublicInternet(parsed) && n.allowPublicInternet !== true) {
      c.add(
        `${field}.cidr`,
        entry.cidr,
        "opens the Redshift port to the whole internet: list your offices' addresses, or set network.allowPublicInternet to true if you really mean it",
      );
    } else if (seen.has(parsed.network)) {
      c.add(`${field}.cidr`, entry.cidr, `is listed twice (also network.allowedCidrs[${seen.get(parsed.network)}])`);
    }
    if (parsed) seen.set(parsed.network, seen.get(parsed.network) ?? i);
    if (entry.description !== undefined && (typeof entry.description !== "string" || !RULE_DESCRIPTION_PATTERN.test(entry.description))) {
      c.add(`${field}.description`, entry.description, "must be 1 to 255 characters of letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*");
    }
  });
}

function checkWarehouse(c: Checker, config: MirrorConfig): void {
  const w = config.warehouse;
  const modes: readonly WarehouseMode[] = ["cluster", "serverless", "existing"];
  if (!modes.includes(w.mode)) c.add("warehouse.mode", w.mode, 'must be "cluster", "serverless" or "existing"');

  if (typeof w.database !== "string" || !DATABASE_NAME_PATTERN.test(w.database)) {
    c.add("warehouse.database", w.database, "must be 1 to 64 characters of a-z, 0-9 and _, not starting with a digit");
  }
  if (typeof w.adminUsername !== "string" || !DB_USER_PATTERN.test(w.adminUsername)) {
    c.add("warehouse.adminUsername", w.adminUsername, "must be 1 to 128 characters of a-z, 0-9 and _, not starting with a digit");
  }
  if (w.mode === "serverless") {
    if (typeof w.port !== "number" || !Number.isInteger(w.port) || !isServerlessPort(w.port)) {
      c.add("warehouse.port", w.port, `must be a port Redshift Serverless accepts: ${SERVERLESS_PORTS}`);
    }
  } else {
    c.integer("warehouse.port", w.port, 1150, 65535);
  }

  if (w.mode === "cluster") {
    if (typeof w.nodeType !== "string" || !REDSHIFT_NODE_TYPE_PATTERN.test(w.nodeType)) {
      c.add("warehouse.nodeType", w.nodeType, 'must be a Redshift node type such as "ra3.large", "ra3.xlplus", "ra3.4xlarge" or "ra3.16xlarge"');
    }
    c.integer("warehouse.numberOfNodes", w.numberOfNodes, 1, 128);
    if (w.numberOfNodes === 1 && MULTI_NODE_ONLY_NODE_TYPES.includes(w.nodeType)) {
      c.add("warehouse.numberOfNodes", w.numberOfNodes, `must be at least 2: ${w.nodeType} runs only as a multi-node cluster`);
    }
    c.integer("warehouse.snapshotRetentionDays", w.snapshotRetentionDays, 1, 35);
  }
  if (w.mode === "serverless") {
    const rpu = (field: string, value: unknown, min: number, max: number) => {
      if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max || value % 8 !== 0) {
        c.add(field, value, `must be a multiple of 8 RPUs from ${min} to ${max}`);
      }
    };
    rpu("warehouse.baseCapacity", w.baseCapacity, 8, 1024);
    if (w.maxCapacity !== undefined) {
      rpu("warehouse.maxCapacity", w.maxCapacity, typeof w.baseCapacity === "number" ? Math.max(8, w.baseCapacity) : 8, 5632);
    }
  }
  if (w.mode !== "existing") {
    c.boolean("warehouse.enhancedVpcRouting", w.enhancedVpcRouting);
    c.boolean("warehouse.auditLogging", w.auditLogging);
  }

  if (w.mode === "cluster" && typeof config.prefix === "string" && config.prefix.includes("--")) {
    c.add("prefix", config.prefix, 'must not contain "--" with warehouse.mode "cluster": the cluster identifier <prefix>-warehouse would be refused');
  }

  if (w.mode !== "existing") {
    if (w.existing !== undefined) c.add("warehouse.existing", w.existing, 'is used only with warehouse.mode "existing": remove it, or set the mode');
    return;
  }
  checkExistingWarehouse(c, config, w.existing);
}

function checkExistingWarehouse(c: Checker, config: MirrorConfig, e: ExistingWarehouseConfig | undefined): void {
  if (typeof e !== "object" || e === null) {
    c.add(
      "warehouse.existing",
      e,
      'must name the warehouse with warehouse.mode "existing": { clusterIdentifier, database, auth } or { workgroupName, workgroupId, database, auth }',
    );
    return;
  }
  const cluster = e.clusterIdentifier !== undefined;
  const workgroup = e.workgroupName !== undefined;
  if (cluster === workgroup) {
    c.add(
      "warehouse.existing",
      { clusterIdentifier: e.clusterIdentifier, workgroupName: e.workgroupName },
      "must name exactly one of clusterIdentifier (a provisioned cluster) and workgroupName (a Redshift Serverless workgroup)",
    );
  }
  if (cluster && (typeof e.clusterIdentifier !== "string" || !CLUSTER_ID_PATTERN.test(e.clusterIdentifier) || e.clusterIdentifier.endsWith("-"))) {
    c.add("warehouse.existing.clusterIdentifier", e.clusterIdentifier, "must be a Redshift cluster identifier: 1 to 63 characters of a-z, 0-9 and -, starting with a letter, no -- and no trailing -");
  }
  if (workgroup) {
    if (typeof e.workgroupName !== "string" || !WORKGROUP_NAME_PATTERN.test(e.workgroupName)) {
      c.add("warehouse.existing.workgroupName", e.workgroupName, "must be a Redshift Serverless workgroup name: 3 to 64 characters of a-z, 0-9 and -");
    }
    if (typeof e.workgroupId !== "string" || !UUID_PATTERN.test(e.workgroupId)) {
      c.add(
        "warehouse.existing.workgroupId",
        e.workgroupId,
        "must be the workgroup's id, a UUID (IAM names workgroups by id): aws redshift-serverless get-workgroup --workgroup-name <name> --query workgroup.workgroupId",
      );
    }
  } else if (e.workgroupId !== undefined) {
    c.add("warehouse.existing.workgroupId", e.workgroupId, "is used only with workgroupName");
  }
  if (typeof e.database !== "string" || !DATABASE_NAME_PATTERN.test(e.database)) {
    c.add("warehouse.existing.database", e.database, "must name the database to load into: 1 to 64 characters of a-z, 0-9 and _");
  }

  const auth = e.auth as (ExistingWarehouseAuth & Record<string, unknown>) | undefined;
  if (auth?.type === "secret") {
    const m = typeof auth.secretArn === "string" ? SECRET_ARN_PATTERN.exec(auth.secretArn) : null;
    if (!m) {
      c.add("warehouse.existing.auth.secretArn", auth.secretArn, "must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)");
    } else if (m[2] !== config.region) {
      c.add("warehouse.existing.auth.secretArn", auth.secretArn, `must be a secret in the deployment region ${config.region}, where the loaders call the Data API`);
    }
  } else if (auth?.type === "iam") {
    if (workgroup) {
      c.add(
        "warehouse.existing.auth",
        auth,
        "must be { type: \"secret\", secretArn } for a workgroup: with IAM, Redshift Serverless makes each loader's role its own database user (IAMR:<role name>), and only one owner can ADD COLUMN or replace a view",
      );
    } else if (cluster && (typeof auth.dbUser !== "string" || !DB_USER_PATTERN.test(auth.dbUser))) {
      c.add("warehouse.existing.auth.dbUser", auth.dbUser, "must name the existing database user the loaders act as: 1 to 128 characters of a-z, 0-9 and _");
    }
  } else {
    c.add("warehouse.existing.auth", auth, 'must be { type: "secret", secretArn } or { type: "iam", dbUser } (dbUser only for a cluster)');
  }

  if (e.copyRoleArn !== undefined && (typeof e.copyRoleArn !== "string" || !IAM_ROLE_ARN_PATTERN.test(e.copyRoleArn))) {
    c.add("warehouse.existing.copyRoleArn", e.copyRoleArn, "must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), or left out for the stack to create one");
  }
}

/** The longest function name a loader gets: `<prefix>-load-incremental-<table>`; Lambda allows 64 characters. */
export function loaderFunctionName(prefix: string, kind: "full" | "incremental", table: string): string {
  return `${prefix}-load-${kind}-${table}`;
}

const SCHEMA_NAME_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

function checkLoaders(c: Checker, config: MirrorConfig): void {
  const l = config.loaders;
  for (const field of ["dataSchema", "metadataSchema"] as const) {
    if (typeof l[field] !== "string" || !SCHEMA_NAME_PATTERN.test(l[field])) {
      c.add(`loaders.${field}`, l[field], "must be a schema name: lower-case letters, digits and _, not starting with a digit, at most 63 characters");
    }
  }
  if (l.dataSchema === l.metadataSchema) {
    c.add("loaders.metadataSchema", l.metadataSchema, "must differ from loaders.dataSchema (a ControlShift table could be named like the ledger)");
  }
  c.sizing("loaders", l);
  const mirrored = [...(Array.isArray(config.tables) ? config.tables : []), ...(Array.isArray(config.extraTables) ? config.extraTables : [])];
  for (const [table, sizing] of Object.entries(l.tables ?? {})) {
    if (!mirrored.includes(table)) {
      c.add(`loaders.tables.${table}`, sizing, "names a table that is not in tables or extraTables: size only tables you mirror");
      continue;
    }
    if (sizing.memoryMiB !== undefined) c.integer(`loaders.tables.${table}.memoryMiB`, sizing.memoryMiB, 128, 10240);
    if (sizing.timeoutSeconds !== undefined) c.integer(`loaders.tables.${table}.timeoutSeconds`, sizing.timeoutSeconds, 1, 900);
  }
  // SQS event sources take at most 10 messages a batch with a batching window, at most 300 s of window.
  c.integer("loaders.incrementalBatchSize", l.incrementalBatchSize, 1, 10);
  c.integer("loaders.incrementalBatchingWindowSeconds", l.incrementalBatchingWindowSeconds, 0, 300);
  c.integer("loaders.maxReceiveCount", l.maxReceiveCount, 1, 1000);
  if (typeof config.prefix === "string") {
    for (const field of ["tables", "extraTables"] as const) {
      for (const table of Array.isArray(config[field]) ? config[field] : []) {
        const name = loaderFunctionName(config.prefix, "incremental", String(table));
        if (name.length > 64) {
          c.add(field, table, `gives the loader name ${JSON.stringify(name)}, longer than Lambda's 64 characters: use a shorter prefix`);
        }
      }
    }
  }
}

/** Every table the stack mirrors: `tables`, then `extraTables` (the ones schemas/ does not know yet). */
export function mirroredTables(config: MirrorConfig): readonly string[] {
  return [...config.tables, ...config.extraTables];
}

const TABLE_PATTERN_RULE = "lower-case letters, digits and _, starting with a letter, at most 63 characters";

function checkTables(c: Checker, config: MirrorConfig): void {
  const extra = Array.isArray(config.extraTables) ? config.extraTables : [];
  if (!Array.isArray(config.tables) || (config.tables.length === 0 && extra.length === 0)) {
    c.add("tables", config.tables, "must list at least one ControlShift table");
  } else {
    const seen = new Set<string>();
    config.tables.forEach((t, i) => {
      if (typeof t !== "string" || !TABLE_NAME_PATTERN.test(t)) {
        c.add(`tables[${i}]`, t, `must be a ControlShift table name: ${TABLE_PATTERN_RULE}`);
      } else if (seen.has(t)) {
        c.add(`tables[${i}]`, t, "is listed twice");
      } else if (!CONTROLSHIFT_TABLES.includes(t)) {
        const hint = didYouMean(t, CONTROLSHIFT_TABLES);
        c.add(
          `tables[${i}]`,
          t,
          `is not a ControlShift table this project knows (schemas/controlshift-tables.ts): ${hint ? `${hint} A` : "a"} ` +
            "table ControlShift added after schemas/ was generated goes in extraTables (see help, Config: extraTables)",
        );
      }
      seen.add(t);
    });
  }
  if (!Array.isArray(config.extraTables)) {
    c.add("extraTables", config.extraTables, 'must be a list of table names, such as ["new_table"] (empty for none)');
    return;
  }
  const listed = new Set(Array.isArray(config.tables) ? config.tables : []);
  const seen = new Set<string>();
  config.extraTables.forEach((t, i) => {
    if (typeof t !== "string" || !TABLE_NAME_PATTERN.test(t)) {
      c.add(`extraTables[${i}]`, t, `must be a table name: ${TABLE_PATTERN_RULE}`);
    } else if (CONTROLSHIFT_TABLES.includes(t)) {
      c.add(
        `extraTables[${i}]`,
        t,
        `is a ControlShift table this project knows: list it in tables instead (its real column types)${listed.has(t) ? "; it is in tables already" : ""}`,
      );
    } else if (seen.has(t)) {
      c.add(`extraTables[${i}]`, t, "is listed twice");
    }
    seen.add(t);
  });
}

/** The sizing of one table's loaders: the table's own, else every loader's. */
export function loaderSizing(config: MirrorConfig, table: string): LoaderSizing {
  const own = config.loaders.tables[table] ?? {};
  return {
    memoryMiB: own.memoryMiB ?? config.loaders.memoryMiB,
    timeoutSeconds: own.timeoutSeconds ?? config.loaders.timeoutSeconds,
  };
}

/**
 * Defaults + validation: the config a stack is built from. Throws ConfigError listing every problem at once: fields
 * the config does not have (at any depth, with the closest known field), then every bad value.
 */
export function resolveConfig(input: MirrorConfigInput = {}): MirrorConfig {
  const config = withDefaults(input);
  const problems = [...unknownFieldProblems(input), ...validateConfig(config)];
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

// ---------------------------------------------------------------------------------------------------------------
// Alerts: subscriptions and alarm thresholds.

/**
 * The part of an e-mail address or URL host a construct id is made of: lower case, every other character "-".
 * Two entries with the same id would be one subscription, so validation refuses them.
 */
export function subscriptionSlug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

/** An https URL SNS can deliver to: parsed, with a host, at most 2048 characters. */
export function isHttpsEndpoint(value: unknown): value is string {
  if (typeof value !== "string" || value.length > 2048 || /\s/.test(value)) return false;
  try {
    const url = new URL(value);
    return url.protocol === "https:" && url.hostname !== "";
  } catch {
    return false;
  }
}

function checkAlertEmails(c: Checker, emails: unknown): void {
  if (!Array.isArray(emails)) {
    c.add("alertEmails", emails, 'must be a list of e-mail addresses, such as ["data-team@example.org"] (empty for none)');
    return;
  }
  const seen = new Map<string, number>();
  emails.forEach((e, i) => {
    if (typeof e !== "string" || !EMAIL_PATTERN.test(e)) {
      c.add(`alertEmails[${i}]`, e, "must be an e-mail address");
      return;
    }
    const slug = subscriptionSlug(e);
    if (seen.has(slug)) c.add(`alertEmails[${i}]`, e, `is listed twice (also alertEmails[${seen.get(slug)}], ignoring case and punctuation)`);
    else seen.set(slug, i);
  });
}

/** ControlShift's download URLs expire 6 hours after the webhook: a downloads alarm must leave time to act. */
const MAX_DOWNLOADS_QUEUE_AGE_MINUTES = 300;
/** Loader queues keep a message 4 days (modules/table-loader.ts): an age alarm must leave time to act. */
const MAX_LOADER_QUEUE_AGE_MINUTES = 2 * 24 * 60;

function checkAlerts(c: Checker, a: AlertsConfig): void {
  if (typeof a !== "object" || a === null) {
    c.add("alerts", a, "must be an object such as { freshnessHours: 26 } (every field optional)");
    return;
  }
  if (!Array.isArray(a.httpsEndpoints)) {
    c.add("alerts.httpsEndpoints", a.httpsEndpoints, 'must be a list of https URLs (empty for none)');
  } else {
    const seen = new Map<string, number>();
    a.httpsEndpoints.forEach((url, i) => {
      if (!isHttpsEndpoint(url)) {
        c.add(
          `alerts.httpsEndpoints[${i}]`,
          url,
          'must be an https URL of at most 2048 characters, such as "https://events.pagerduty.com/integration/<key>/enqueue"',
        );
      } else if (seen.has(url)) {
        c.add(`alerts.httpsEndpoints[${i}]`, url, `is listed twice (also alerts.httpsEndpoints[${seen.get(url)}])`);
      } else {
        seen.set(url, i);
      }
    });
  }
  // Periods of an hour allow CloudWatch an evaluation range of 7 days; full exports come nightly, so a range
  // under a day and a bit alarms between two of them.
  if (typeof a.freshnessHours !== "number" || !Number.isInteger(a.freshnessHours) || a.freshnessHours < 25 || a.freshnessHours > 168) {
    c.add(
      "alerts.freshnessHours",
      a.freshnessHours,
      "must be a whole number from 25 to 168: full exports come nightly (a shorter window alarms between two of them), and CloudWatch looks back at most 7 days",
    );
  }
  if (
    typeof a.downloadsQueueAgeMinutes !== "number" ||
    !Number.isInteger(a.downloadsQueueAgeMinutes) ||
    a.downloadsQueueAgeMinutes < 1 ||
    a.downloadsQueueAgeMinutes > MAX_DOWNLOADS_QUEUE_AGE_MINUTES
  ) {
    c.add(
      "alerts.downloadsQueueAgeMinutes",
      a.downloadsQueueAgeMinutes,
      `must be a whole number from 1 to ${MAX_DOWNLOADS_QUEUE_AGE_MINUTES}: ControlShift's download URLs expire 6 hours after the webhook, so a later alarm comes too late to save the export`,
    );
  }
  for (const field of ["incrementalQueueAgeMinutes", "fullQueueAgeMinutes"] as const) {
    const v = a[field];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > MAX_LOADER_QUEUE_AGE_MINUTES) {
      c.add(
        `alerts.${field}`,
        v,
        `must be a whole number from 1 to ${MAX_LOADER_QUEUE_AGE_MINUTES}: loader queues drop a file after 4 days, so the alarm must leave time to act`,
      );
    }
  }
  c.integer("alerts.functionErrors", a.functionErrors, 1, 1000);
  c.integer("alerts.webhookUnauthorized", a.webhookUnauthorized, 1, 10000);
  c.integer("alerts.webhookRejected", a.webhookRejected, 1, 10000);
  c.integer("alerts.webhookServerErrors", a.webhookServerErrors, 1, 10000);
}
