/** Every problem of a resolved config, in field order: the top-level fields here, each section in its own file. */
import { PART_SIZE_MIB, UPLOAD_QUEUE_SIZE } from "../../facts/downloads";
import { Checker } from "./checker";
import { CONTROLSHIFT_EXPORT_BUCKETS, CONTROLSHIFT_STAGING_BUCKET } from "./defaults";
import { didYouMean } from "./suggest";
import type { BackendConfig, MirrorConfig } from "./types";
import { checkAlertEmails, checkAlerts } from "./validate-alerts";
import { checkNetwork } from "./validate-network";
import { checkLoaders, checkTables } from "./validate-tables";
import { checkWarehouse } from "./validate-warehouse";

/** The retention values CloudWatch Logs accepts (PutRetentionPolicy). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const PREFIX_PATTERN = /^[a-z][a-z0-9-]{1,18}[a-z0-9]$/;
// S3 bucket naming rules, simplified to what ControlShift's buckets look like.
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const TAG_KEY_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;

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
    if (b.workspace !== undefined && b.tags !== undefined) {
      c.add("backend", { workspace: b.workspace, tags: b.tags }, "must name one workspace or give tags, not both");
    } else if (b.tags === undefined) {
      // Terraform Cloud's workspace names: letters, numbers, - and _, at most 90 characters.
      if (typeof b.workspace !== "string" || !/^[A-Za-z0-9_-]{1,90}$/.test(b.workspace)) {
        c.add(
          "backend.workspace",
          b.workspace,
          "must name the Terraform Cloud workspace: 1 to 90 letters, numbers, - and _ (or give backend.tags instead)",
        );
      }
    } else if (!Array.isArray(b.tags) || b.tags.length === 0) {
      c.add("backend.tags", b.tags, 'must list the workspaces\' tags, such as ["controlshift-mirror", "production"]');
    } else {
      const seen = new Set<unknown>();
      b.tags.forEach((tag: unknown, i: number) => {
        // Terraform Cloud's workspace tags: letters, numbers, colons, hyphens and underscores, at most 255.
        if (typeof tag !== "string" || !/^[A-Za-z0-9:_-]{1,255}$/.test(tag)) {
          c.add(`backend.tags[${i}]`, tag, "must be a Terraform Cloud tag: 1 to 255 letters, numbers, :, - and _");
        } else if (seen.has(tag)) {
          c.add(`backend.tags[${i}]`, tag, "is listed twice");
        }
        seen.add(tag);
      });
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
