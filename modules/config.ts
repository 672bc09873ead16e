/**
 * The deployment config: one typed object, with defaults, validated in one pass.
 *
 * Operators write a `MirrorConfigInput` (every field optional) in `config.ts`; `resolveConfig` fills in the
 * defaults and reports every problem at once, each naming the field, the bad value and what is allowed.
 * This module is pure (no cdktf, no process.env): tests and `main.ts` call it the same way.
 */
import { CONTROLSHIFT_TABLES } from "../schemas/controlshift-tables";

/** Where ControlShift hosts the instance; it decides which export buckets the download URLs may point at. */
export type ControlShiftRegion = "us" | "eu";

/** ControlShift's export buckets, per region (CONTRACT: download URLs are presigned GETs on `<bucket>.s3.amazonaws.com`). */
export const CONTROLSHIFT_EXPORT_BUCKETS: Readonly<Record<ControlShiftRegion, readonly string[]>> = {
  us: ["agra-data-exports-production"],
  eu: ["agra-data-exports-production-eu-central-1"],
};
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
       * @default "../../terraform.<prefix>.tfstate" (the project folder, beside cdktf.json)
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
      readonly type: "cloud";
      readonly organization: string;
      readonly workspace: string;
      /** @default "app.terraform.io" */
      readonly hostname?: string;
    };

export interface FunctionSizing {
  /** @default per function, see DEFAULTS */
  readonly memoryMiB: number;
  readonly timeoutSeconds: number;
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
  /** The ControlShift tables to mirror. @default every table ControlShift exports today (63) */
  readonly tables: readonly string[];
  readonly controlshift: {
    /** @default "us" */
    readonly region: ControlShiftRegion;
    /** The buckets export URLs may point at. @default the region's production bucket */
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
    /** Larger webhook bodies are answered 413. ControlShift's are about 1 KiB. @default 65536 */
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
}

/** Sections whose fields are filled in one by one; the rest (lists, tags, backend) are taken whole. */
type PartialSections<T> = {
  [K in keyof T]?: K extends "controlshift" | "exports" | "receiver" | "downloader" ? Partial<T[K]> : T[K];
};

/** What an operator writes: every field optional. */
export type MirrorConfigInput = PartialSections<MirrorConfig>;

export const DEFAULT_PREFIX = "cs-mirror";

/** The defaults, in one place. */
export function defaultConfig(prefix = DEFAULT_PREFIX): MirrorConfig {
  return {
    prefix,
    region: "us-east-1",
    tables: [...CONTROLSHIFT_TABLES],
    controlshift: { region: "us", exportBuckets: CONTROLSHIFT_EXPORT_BUCKETS.us },
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
const AWS_REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const TABLE_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;
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
    controlshift: {
      region: csRegion,
      exportBuckets: input.controlshift?.exportBuckets ?? CONTROLSHIFT_EXPORT_BUCKETS[csRegion] ?? [],
    },
    alertEmails: input.alertEmails ?? d.alertEmails,
    exports: { ...d.exports, ...input.exports },
    logRetentionDays: input.logRetentionDays ?? d.logRetentionDays,
    receiver: { ...d.receiver, ...input.receiver },
    downloader: { ...d.downloader, ...input.downloader },
    secretRecoveryDays: input.secretRecoveryDays ?? d.secretRecoveryDays,
    backend: input.backend ?? d.backend,
    tags: input.tags ?? d.tags,
  };
}

/** Every problem of a complete config, in field order; empty when it is valid. */
export function validateConfig(config: MirrorConfig): string[] {
  const c = new Checker();

  if (typeof config.prefix !== "string" || !PREFIX_PATTERN.test(config.prefix)) {
    c.add("prefix", config.prefix, "must be 3 to 20 characters of a-z, 0-9 and -, starting with a letter, not ending with -");
  }
  if (typeof config.region !== "string" || !AWS_REGION_PATTERN.test(config.region)) {
    c.add("region", config.region, "must be an AWS region code such as us-east-1 or eu-central-1");
  }

  if (!Array.isArray(config.tables) || config.tables.length === 0) {
    c.add("tables", config.tables, "must list at least one ControlShift table");
  } else {
    const seen = new Set<string>();
    config.tables.forEach((t, i) => {
      if (typeof t !== "string" || !TABLE_PATTERN.test(t)) {
        c.add(`tables[${i}]`, t, "must be a ControlShift table name: lower-case letters, digits and _, starting with a letter, at most 63 characters");
      } else if (seen.has(t)) {
        c.add(`tables[${i}]`, t, "is listed twice");
      }
      seen.add(t);
    });
  }

  if (!(config.controlshift.region in CONTROLSHIFT_EXPORT_BUCKETS)) {
    c.add("controlshift.region", config.controlshift.region, `must be one of ${Object.keys(CONTROLSHIFT_EXPORT_BUCKETS).join(", ")}`);
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

  config.alertEmails.forEach((e, i) => {
    if (typeof e !== "string" || !EMAIL_PATTERN.test(e)) c.add(`alertEmails[${i}]`, e, "must be an e-mail address");
  });

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
  // S3 multipart parts are at least 5 MiB; a Lambda has at most 10 GiB.
  c.integer("downloader.partSizeMiB", config.downloader.partSizeMiB, 5, 512);
  c.integer("downloader.uploadQueueSize", config.downloader.uploadQueueSize, 1, 16);
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
    if (b.region !== undefined && (typeof b.region !== "string" || !AWS_REGION_PATTERN.test(b.region))) {
      c.add("backend.region", b.region, "must be an AWS region code");
    }
  } else if (b?.type === "cloud") {
    if (typeof b.organization !== "string" || b.organization === "") c.add("backend.organization", b.organization, "must name the Terraform Cloud organization");
    if (typeof b.workspace !== "string" || b.workspace === "") c.add("backend.workspace", b.workspace, "must name the Terraform Cloud workspace");
  } else {
    c.add("backend.type", (b as { type?: unknown } | undefined)?.type, 'must be "local", "s3" or "cloud"');
  }

  for (const [k, v] of Object.entries(config.tags)) {
    if (!TAG_KEY_PATTERN.test(k) || k.startsWith("aws:")) c.add("tags (a key)", k, "must be 1 to 128 tag characters, not starting with aws:");
    if (typeof v !== "string" || v.length > 256) c.add(`tags.${k}`, v, "must be a string of at most 256 characters");
  }

  return c.problems;
}

/** Defaults + validation: the config a stack is built from. Throws ConfigError listing every problem. */
export function resolveConfig(input: MirrorConfigInput = {}): MirrorConfig {
  const config = withDefaults(input);
  const problems = validateConfig(config);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
