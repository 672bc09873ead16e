/**
 * `quarantine`: the signed webhooks the receiver quarantined (quarantine/pending/ of the exports bucket), each run
 * again through the receiver's own checks (checkPayload, handlers/receiver/receive.ts) with the settings config.ts
 * gives the receiver, and what re-submitting it would do now.
 *
 * Re-submission runs the receiver's core here rather than re-signing the body and posting it to the webhook: that
 * would need the signing secret on the operator's machine (only the receiver reads it) and could not show, in a dry
 * run, what each payload would become. The checks are the same code; the settings are the same function of config.ts
 * that the stack turns into the receiver's TABLES, CONTROLSHIFT_BUCKETS and MAX_BODY_BYTES. So: fix config.ts,
 * deploy, then re-submit. As a guard against re-submitting before the deploy, a payload is sent only when the
 * deployment has its table's loader queues.
 *
 * planQuarantine only reads (bucket, listing, objects, queues); the executor sends each accepted job to the
 * downloads queue and moves its record to quarantine/resubmitted/, so it is no longer listed as pending.
 */
import { type PayloadVerdict, type ReceiverSettings, UnacceptablePayloadError, checkPayload } from "../../handlers/receiver/receive";
import type { DownloadJob } from "../../handlers/shared/export-file";
import { QUARANTINE_PENDING_PREFIX } from "../../facts/quarantine";
import {
  type QuarantineRecord,
  QuarantineRecordError,
  decodeBody,
  parseQuarantineRecord,
} from "../../handlers/shared/quarantine";
import type { QueueRef, ResubmitQuarantinedAction } from "./actions";
import { QueueNotFoundError } from "./errors";
import type { BucketFinder, ObjectLister, ObjectStore, QueueResolver } from "./ports";
import { downloadsQueueName, loaderQueueName } from "./queues";
import { findExportsBucket } from "./reload";

export interface QuarantineRequest {
  readonly prefix: string;
  readonly region: string;
  /** The receiver's settings as config.ts gives them. */
  readonly settings: ReceiverSettings;
  readonly bucket?: string;
  /** Only this pending key. */
  readonly key?: string;
}

export interface QuarantinePorts {
  readonly objects: ObjectLister;
  readonly buckets: BucketFinder;
  readonly store: ObjectStore;
  readonly queues: QueueResolver;
}

/** What re-submitting one pending payload would do now. */
export type PendingVerdict =
  | { readonly type: "resubmit"; readonly job: DownloadJob }
  | { readonly type: "still-quarantined"; readonly reason: string; readonly detail: string }
  | { readonly type: "ignored"; readonly reason: string }
  | { readonly type: "url-expired"; readonly job: DownloadJob; readonly expiredAt: string }
  | { readonly type: "not-deployed"; readonly job: DownloadJob; readonly queue: string }
  | { readonly type: "unreadable"; readonly problem: string };

export interface PendingPayload {
  readonly key: string;
  readonly record?: QuarantineRecord;
  readonly verdict: PendingVerdict;
}

export interface QuarantinePlan {
  readonly bucket: string;
  readonly pending: readonly PendingPayload[];
  readonly actions: readonly ResubmitQuarantinedAction[];
}

/**
 * When a presigned S3 URL stops working: X-Amz-Date + X-Amz-Expires (SigV4 query authentication,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html). Undefined when the URL says neither.
 */
export function presignedUrlExpiry(url: string): Date | undefined {
  let query: URLSearchParams;
  try {
    query = new URL(url).searchParams;
  } catch {
    return undefined;
  }
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(query.get("X-Amz-Date") ?? "");
  const seconds = Number(query.get("X-Amz-Expires") ?? "NaN");
  if (!m || !Number.isFinite(seconds)) return undefined;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) + seconds * 1000);
}

/** The receiver's checks on one record, now: what it would become. Pure. */
export function judgeRecord(record: QuarantineRecord, settings: ReceiverSettings, now: Date): PendingVerdict {
  let verdict: PayloadVerdict;
  try {
    verdict = checkPayload(decodeBody(record), settings, now);
  } catch (err) {
    if (err instanceof UnacceptablePayloadError) return { type: "still-quarantined", reason: err.reason, detail: err.detail };
    throw err;
  }
  if (verdict.type === "ignore") {
    return {
      type: "ignored",
      reason: verdict.reason === "event-type" ? "not a bulk-data export event" : "its table is not in config.ts's tables",
    };
  }
  const expiry = presignedUrlExpiry(verdict.job.url);
  if (expiry !== undefined && expiry.getTime() <= now.getTime()) {
    return { type: "url-expired", job: verdict.job, expiredAt: expiry.toISOString() };
  }
  return { type: "resubmit", job: verdict.job };
}

export async function planQuarantine(request: QuarantineRequest, ports: QuarantinePorts, now: Date): Promise<QuarantinePlan> {
  const bucket = request.bucket ?? (await findExportsBucket(request.prefix, ports.buckets));
  const listed = (await ports.objects.list(bucket, QUARANTINE_PENDING_PREFIX)).filter(
    (o) => request.key === undefined || o.key === request.key,
  );
  const pending: PendingPayload[] = [];
  for (const { key } of listed) {
    let record: QuarantineRecord;
    try {
      record = parseQuarantineRecord(await ports.store.get(bucket, key));
    } catch (err) {
      if (!(err instanceof QuarantineRecordError)) throw err;
      pending.push({ key, verdict: { type: "unreadable", problem: err.message } });
      continue;
    }
    pending.push({ key, record, verdict: judgeRecord(record, request.settings, now) });
  }
  pending.sort((a, b) => (a.record?.receivedAt ?? "").localeCompare(b.record?.receivedAt ?? "") || a.key.localeCompare(b.key));

  const actions: ResubmitQuarantinedAction[] = [];
  const toSend = pending.filter((p) => p.verdict.type === "resubmit");
  if (toSend.length > 0) {
    const downloads = await describeQueue(downloadsQueueName(request.prefix), request.region, ports.queues);
    const deployed = new Map<string, boolean>();
    for (const [i, p] of pending.entries()) {
      if (p.verdict.type !== "resubmit") continue;
      const { job } = p.verdict;
      // Both loaders of the table exist: the stack was deployed with the table in it.
      const loaderQueue = loaderQueueName(request.prefix, job.kind, job.table);
      if (!deployed.has(loaderQueue)) deployed.set(loaderQueue, (await ports.queues.describe(loaderQueue)) !== undefined);
      if (!deployed.get(loaderQueue)) {
        pending[i] = { ...p, verdict: { type: "not-deployed", job, queue: loaderQueue } };
        continue;
      }
      actions.push({ type: "resubmit-quarantined", bucket, key: p.key, record: p.record!, job, queue: downloads });
    }
  }
  return { bucket, pending, actions };
}

async function describeQueue(name: string, region: string, queues: QueueResolver): Promise<QueueRef> {
  const queue = await queues.describe(name);
  if (queue === undefined) throw new QueueNotFoundError(name, region);
  return { name: queue.name, url: queue.url, arn: queue.arn };
}

/** The listing: one block per pending payload, then a count per outcome. */
export function describeQuarantinePlan(plan: QuarantinePlan): string[] {
  const lines = [`exports bucket ${plan.bucket}: ${plan.pending.length} pending under ${QUARANTINE_PENDING_PREFIX}`];
  for (const p of plan.pending) {
    lines.push(`${p.key}`);
    if (p.record !== undefined) {
      lines.push(`  received ${p.record.receivedAt}: quarantined because ${p.record.reason}`);
      lines.push(`  ${p.record.detail}`);
    }
    const v = p.verdict;
    const fileOf = (job: DownloadJob) => `${job.kind} export ${job.fileName} of ${job.table}`;
    switch (v.type) {
      case "resubmit":
        lines.push(`  now: accepted: ${fileOf(v.job)}`);
        break;
      case "still-quarantined":
        lines.push(`  now: still refused: ${v.reason} (${v.detail}); see help: webhook quarantined: ${v.reason}`);
        break;
      case "ignored":
        lines.push(`  now: would be ignored (${v.reason}): nothing to re-submit; delete it when done`);
        break;
      case "url-expired":
        lines.push(
          `  now: accepted, but its URL expired at ${v.expiredAt}: not re-submitted (the download would fail with 403); ` +
            `the next nightly full export of ${v.job.table} brings the data`,
        );
        break;
      case "not-deployed":
        lines.push(`  now: accepted, but the deployment has no queue ${v.queue}: deploy config.ts first (npx cdktf deploy)`);
        break;
      case "unreadable":
        lines.push(`  unreadable: ${v.problem}`);
        break;
    }
  }
  return lines;
}
