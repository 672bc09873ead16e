/**
 * One SQS batch of the loader's queue -> loads on the warehouse -> what SQS should retry.
 *
 * Each message is an S3 "Object Created" event (event.ts). The loader:
 * 1. keeps the keys it can load: an export of its own table and kind in the exports bucket. Anything else (another
 *    bucket, another table or kind, not an export key, another event type) can never load here: it is logged and
 *    acknowledged, not retried. A body that is not an EventBridge event at all is reported as failed, so it ends in
 *    the dead-letter queue, where the operator's alarm sees it.
 * 2. loads each key once (SQS delivers at least once, and EventBridge too), with its compression from the `.bz2`
 *    suffix, after reading and checking its header. A header that cannot be loaded (InvalidHeaderError, naming the
 *    column) fails only its own messages: they go to the dead-letter queue after maxReceiveCount attempts.
 * 3. loads the rest in export-time order, as consecutive transactions of at most the warehouse's
 *    `maxFilesPerTransaction` files (the port says it: a Redshift Data API batch is bounded, PostgreSQL is not),
 *    fewer when the plan creates the table or adds columns (the adapter's PlanTooLargeError says how many fit, and
 *    the chunk is split). Each
 *    transaction is atomic; splitting keeps the mirror's semantics, since a file's merge depends only on the ledger's
 *    full loads and the table, never on a later file. When any message of the batch is a redelivery
 *    (ApproximateReceiveCount > 1), every file is loaded in a transaction of its own, so that one file that can never
 *    load (a bad row) does not take the good files of its batch to the dead-letter queue with it.
 *    An empty object (0 bytes: EmptyExportError) is refused at once: recorded in load_failures through the
 *    warehouse port, logged, counted as a failed load, and acknowledged (never retried: the same object stays empty).
 * 4. reports every message of a transaction that did not commit as a batch item failure (SQS retries it after the
 *    visibility timeout, then the dead-letter queue): LoadFailedError (rolled back, recorded in load_failures),
 *    LoadStillRunningError (the retry re-attaches to the running statement), Data API errors. After a still-running
 *    statement or a Data API error, the remaining transactions of the batch are not started (the next would wait on
 *    the table's lock, or meet the same error), and their messages are retried too.
 *
 * Every decision is also reported as a typed LoaderOutcome through the optional `report` port (npm run local reads
 * these instead of the log lines).
 *
 * The event source mapping must use `FunctionResponseTypes: ["ReportBatchItemFailures"]`.
 */
import type { SQSBatchItemFailure, SQSBatchResponse } from "aws-lambda";
import { ExportFileNameError, parseExportObjectKey, type Compression } from "../shared/export-file";
import type { ExportKind } from "../../facts/exports";
import {
  EmptyExportError,
  ExportChangedError,
  HeaderReadError,
  InvalidHeaderError,
  LoadFailedError,
  LoadPlanError,
  LoadStillRunningError,
  PlanTooLargeError,
  WarehouseCallError,
  messageOf,
} from "../load/errors";
import { loadExports } from "../load/load-exports";
import type { ColumnDef, LoadOutcome } from "../load/plan";
import { checkHeader, refusalOf } from "../load/planner";
import type { LoadResult, Warehouse } from "../load/warehouse";
import { LoaderMessageError, parseLoaderMessage } from "./event";

/** The slice of an SQS record the loader reads. */
export interface LoaderRecord {
  readonly messageId: string;
  readonly body: string;
  readonly attributes?: { readonly ApproximateReceiveCount?: string };
}

export interface LoaderSettings {
  readonly table: string;
  readonly kind: ExportKind;
  readonly dataSchema: string;
  readonly metadataSchema: string;
  readonly exportsBucket: string;
  /** TABLE_SCHEMAS[table], or undefined for a table `schemas/` does not know. */
  readonly knownColumns: readonly ColumnDef[] | undefined;
  /** @default the warehouse's own `maxFilesPerTransaction` */
  readonly maxFilesPerTransaction?: number;
}

/**
 * The subset of Powertools' Logger the core uses. Every line that reports a failure carries `help: "see help: <text>"`:
 * the project's `help` file has an entry whose title holds that text (the error's name, or the line's own message).
 */
export interface LoaderLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

/** One committed load, as the metrics see it. */
export interface LoadSummary {
  readonly rowsLoaded: number;
  readonly filesSkippedStale: number;
  readonly seconds: number;
  /** A full export whose rows were merged (not skipped as stale): the freshness alarm counts these. */
  readonly fullLoaded: boolean;
}

export interface LoaderMetrics {
  loadSucceeded(summary: LoadSummary): void;
  /** A load (one transaction, or one refused file) that did not commit and will be retried or dead-lettered. */
  loadFailed(): void;
}

/**
 * What the core decided, typed (the log lines say the same for people):
 * - `committed`: a transaction of these files committed (`result` has each file's ledger outcome);
 * - `failed`: a transaction did not commit; `retried` says whether its messages go back to the queue;
 * - `refused`: one file can never load as it is (a header that cannot be loaded, an empty object); `retried` says
 *   whether its messages go back to the queue (and so to the dead-letter queue) or were acknowledged;
 * - `ignored`: a message that is not for this loader (acknowledged).
 */
export type LoaderOutcome =
  | { readonly type: "committed"; readonly objectKeys: readonly string[]; readonly messageIds: readonly string[]; readonly result: LoadResult; readonly seconds: number }
  | { readonly type: "failed"; readonly objectKeys: readonly string[]; readonly messageIds: readonly string[]; readonly error: unknown; readonly retried: boolean }
  | { readonly type: "refused"; readonly objectKey: string; readonly messageIds: readonly string[]; readonly error: unknown; readonly retried: boolean }
  | { readonly type: "ignored"; readonly messageId: string; readonly reason: string };

export interface LoaderPorts {
  /** Told every outcome, as it happens. @default nothing */
  readonly report?: (outcome: LoaderOutcome) => void;
  /** The warehouse adapter (per invocation: it follows the invocation's remaining time). */
  readonly warehouse: Warehouse;
  /** `readExportHeader` over the exports bucket. */
  readonly readHeader: (objectKey: string, compression: Compression) => Promise<readonly string[]>;
  readonly logger: LoaderLogger;
  readonly metrics: LoaderMetrics;
  /** Milliseconds since the epoch. */
  readonly clock: () => number;
}

/** One export file of the batch and the messages that carry it. */
interface BatchFile {
  readonly objectKey: string;
  readonly exportedAt: string;
  readonly compression: Compression;
  readonly messageIds: string[];
  receiveCount: number;
}

type ChunkOutcome =
  | { type: "done"; result: LoadResult; seconds: number }
  | { type: "failed"; error: unknown }
  | { type: "stop"; error: unknown }
  | { type: "split"; files: number };

function receiveCount(record: LoaderRecord): number {
  const n = Number(record.attributes?.ApproximateReceiveCount ?? "1");
  return Number.isFinite(n) && n > 0 ? n : 1;
}

export async function loadBatch(
  records: readonly LoaderRecord[],
  settings: LoaderSettings,
  ports: LoaderPorts,
): Promise<SQSBatchResponse> {
  const failed = new Set<string>();
  const { logger } = ports;
  const report = ports.report ?? (() => {});
  const base = { table: settings.table, kind: settings.kind };

  // 1. What can load here, once per key.
  const files = new Map<string, BatchFile>();
  for (const record of records) {
    const context = { ...base, messageId: record.messageId, receiveCount: receiveCount(record) };
    let message;
    try {
      message = parseLoaderMessage(record.body);
    } catch (err) {
      if (!(err instanceof LoaderMessageError)) throw err;
      logger.error("queue message is not an S3 event; it goes to the dead-letter queue", {
        ...context,
        reason: err.message,
        help: "see help: LoaderMessageError",
      });
      failed.add(record.messageId);
      report({ type: "failed", objectKeys: [], messageIds: [record.messageId], error: err, retried: true });
      continue;
    }
    if (message.type !== "object-created") {
      logger.warn("event ignored: not an S3 Object Created event", { ...context, event: message.description });
      report({ type: "ignored", messageId: record.messageId, reason: "not an S3 Object Created event" });
      continue;
    }
    if (message.bucket !== settings.exportsBucket) {
      logger.warn("object ignored: not in the exports bucket", { ...context, bucket: message.bucket, objectKey: message.key });
      report({ type: "ignored", messageId: record.messageId, reason: "not in the exports bucket" });
      continue;
    }
    let exportFile;
    try {
      exportFile = parseExportObjectKey(message.key);
    } catch (err) {
      if (!(err instanceof ExportFileNameError)) throw err;
      logger.warn("object ignored: not an export key", {
        ...context,
        objectKey: message.key,
        reason: err.message,
        help: "see help: ExportFileNameError",
      });
      report({ type: "ignored", messageId: record.messageId, reason: "not an export key" });
      continue;
    }
    if (exportFile.table !== settings.table || exportFile.kind !== settings.kind) {
      const reason = `a ${exportFile.kind} export of ${exportFile.table}, not for this loader`;
      logger.warn(`object ignored: ${reason}`, { ...context, objectKey: message.key });
      report({ type: "ignored", messageId: record.messageId, reason });
      continue;
    }
    const existing = files.get(message.key);
    if (existing) {
      existing.messageIds.push(record.messageId);
      existing.receiveCount = Math.max(existing.receiveCount, context.receiveCount);
      continue;
    }
    files.set(message.key, {
      objectKey: message.key,
      exportedAt: exportFile.exportedAt,
      compression: message.key.endsWith(".bz2") ? "bzip2" : "none",
      messageIds: [record.messageId],
      receiveCount: context.receiveCount,
    });
  }
  const fail = (file: BatchFile) => file.messageIds.forEach((id) => failed.add(id));

  // 2. Headers, read once (the planner asks again, per transaction) and checked before any SQL exists.
  const headers = new Map<string, Promise<readonly string[]>>();
  const readHeader = (objectKey: string, compression: Compression): Promise<readonly string[]> => {
    let header = headers.get(objectKey);
    if (header === undefined) {
      header = ports.readHeader(objectKey, compression);
      headers.set(objectKey, header);
    }
    return header;
  };
  const loadable: BatchFile[] = [];
  const checked = await Promise.all(
    [...files.values()].map(async (file) => {
      try {
        checkHeader(await readHeader(file.objectKey, file.compression), file.objectKey);
        return { file, error: undefined };
      } catch (error) {
        return { file, error };
      }
    }),
  );
  for (const { file, error } of checked) {
    if (error === undefined) {
      loadable.push(file);
      continue;
    }
    const context = { ...base, objectKey: file.objectKey, messageIds: file.messageIds, receiveCount: file.receiveCount };
    if (error instanceof EmptyExportError) {
      // The same object stays empty: retrying it is in vain. Recorded, counted, acknowledged.
      let recordFailureError: unknown;
      try {
        await ports.warehouse.recordRefused(
          refusalOf({
            schema: settings.dataSchema,
            metadataSchema: settings.metadataSchema,
            table: settings.table,
            kind: settings.kind,
            objectKey: file.objectKey,
          }),
          error.message,
        );
      } catch (err) {
        recordFailureError = err;
      }
      logger.error("export refused: the file is empty (0 bytes); nothing was loaded and it is not retried", {
        ...context,
        error,
        recordFailureError: recordFailureError === undefined ? undefined : messageOf(recordFailureError),
        help: "see help: export refused: the file is empty (0 bytes)",
      });
      ports.metrics.loadFailed();
      report({ type: "refused", objectKey: file.objectKey, messageIds: file.messageIds, error, retried: false });
      continue;
    }
    if (error instanceof InvalidHeaderError) {
      logger.error(
        `export refused: ${error.column !== undefined ? `header column ${JSON.stringify(error.column.slice(0, 80))} ` : "its header "}` +
          "cannot be loaded; nothing was loaded, and the message goes to the dead-letter queue after its retries",
        { ...context, column: error.column, error, help: `see help: ${error.name}` },
      );
    } else if (error instanceof HeaderReadError) {
      logger.error("export refused: its header could not be read", { ...context, error, help: `see help: ${error.name}` });
    } else {
      logger.warn("could not read the export's header; the queue will deliver it again", {
        ...context,
        error: error as Error,
        help: "see help: could not read the export's header",
      });
    }
    ports.metrics.loadFailed();
    report({ type: "refused", objectKey: file.objectKey, messageIds: file.messageIds, error, retried: true });
    fail(file);
  }

  // 3. Consecutive transactions in export-time order.
  loadable.sort((a, b) =>
    a.exportedAt !== b.exportedAt ? (a.exportedAt < b.exportedAt ? -1 : 1) : a.objectKey < b.objectKey ? -1 : 1,
  );
  const redelivered = loadable.some((f) => f.receiveCount > 1);
  const perTransaction = redelivered
    ? 1
    : Math.max(1, Math.min(settings.maxFilesPerTransaction ?? Infinity, ports.warehouse.maxFilesPerTransaction));
  const queue: BatchFile[][] = chunk(loadable, perTransaction);
  const keysOf = (group: readonly BatchFile[]) => group.map((f) => f.objectKey);
  const idsOf = (group: readonly BatchFile[]) => group.flatMap((f) => f.messageIds);
  while (queue.length > 0) {
    const files = queue.shift()!;
    const outcome = await loadChunk(files, settings, ports, readHeader);
    if (outcome.type === "split") {
      queue.unshift(...chunk(files, outcome.files));
      continue;
    }
    if (outcome.type === "done") {
      report({ type: "committed", objectKeys: keysOf(files), messageIds: idsOf(files), result: outcome.result, seconds: outcome.seconds });
      continue;
    }
    files.forEach(fail);
    report({ type: "failed", objectKeys: keysOf(files), messageIds: idsOf(files), error: outcome.error, retried: true });
    if (outcome.type === "stop") {
      for (const rest of queue.splice(0)) {
        rest.forEach(fail);
        report({ type: "failed", objectKeys: keysOf(rest), messageIds: idsOf(rest), error: outcome.error, retried: true });
      }
    }
  }

  const batchItemFailures: SQSBatchItemFailure[] = records
    .filter((r) => failed.has(r.messageId))
    .map((r) => ({ itemIdentifier: r.messageId }));
  return { batchItemFailures };
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function outcomeOf(result: LoadResult): LoadOutcome | "mixed" {
  const outcomes = new Set(result.files.map((f) => f.outcome));
  return outcomes.size === 1 ? [...outcomes][0] : "mixed";
}

async function loadChunk(
  files: readonly BatchFile[],
  settings: LoaderSettings,
  ports: LoaderPorts,
  readHeader: (objectKey: string, compression: Compression) => Promise<readonly string[]>,
): Promise<ChunkOutcome> {
  const { logger } = ports;
  const objectKeys = files.map((f) => f.objectKey);
  const context = {
    table: settings.table,
    kind: settings.kind,
    files: objectKeys,
    messageIds: files.flatMap((f) => f.messageIds),
    receiveCount: Math.max(...files.map((f) => f.receiveCount)),
  };
  const started = ports.clock();
  const seconds = () => Math.round((ports.clock() - started) / 10) / 100;
  try {
    const result = await loadExports(
      { warehouse: ports.warehouse, readHeader },
      {
        schema: settings.dataSchema,
        metadataSchema: settings.metadataSchema,
        table: settings.table,
        kind: settings.kind,
        files: files.map((f) => ({ objectKey: f.objectKey, compression: f.compression })),
        knownColumns: settings.knownColumns,
      },
    );
    const rowsLoaded = result.files.reduce((sum, f) => sum + f.rowsLoaded, 0);
    const filesSkippedStale = result.files.filter((f) => f.outcome === "skipped-stale").length;
    const outcome = outcomeOf(result);
    const elapsed = seconds();
    logger.info("load committed", {
      ...context,
      rows: rowsLoaded,
      outcome,
      fileOutcomes: result.files,
      statementId: (result as Partial<{ statementId: string }>).statementId,
      loadId: result.loadId,
      seconds: elapsed,
      addedColumns: result.addedColumns.map((c) => c.name),
      createdTable: result.createdTable,
      ...(result.warnings !== undefined ? { warnings: result.warnings } : {}),
    });
    ports.metrics.loadSucceeded({
      rowsLoaded,
      filesSkippedStale,
      seconds: elapsed,
      fullLoaded: settings.kind === "full" && result.files.some((f) => f.outcome === "loaded"),
    });
    return { type: "done", result, seconds: elapsed };
  } catch (err) {
    const failure = { ...context, outcome: "failed", seconds: seconds() };
    if (err instanceof PlanTooLargeError && err.filesThatFit >= 1 && err.filesThatFit < files.length) {
      logger.info("splitting the batch: the plan needs more statements than one transaction of the warehouse takes", {
        ...context,
        filesPerTransaction: err.filesThatFit,
      });
      return { type: "split", files: err.filesThatFit };
    }
    if (err instanceof LoadStillRunningError) {
      logger.warn("load still running when the Lambda had to stop; it was left running and the retry re-attaches to it", {
        ...failure,
        outcome: "still-running",
        statementId: err.statementId,
        phase: err.phase,
        waitedSeconds: Math.round(err.waitedMs / 1000),
        help: `see help: ${err.name}`,
      });
      return { type: "stop", error: err };
    }
    ports.metrics.loadFailed();
    if (err instanceof ExportChangedError) {
      logger.warn("the export changed after its header was read; nothing was loaded, the queue will deliver it again", {
        ...failure,
        objectKey: err.objectKey,
        error: err,
        help: `see help: ${err.name}`,
      });
      return { type: "failed", error: err };
    }
    if (err instanceof WarehouseCallError) {
      logger[err.transient ? "warn" : "error"]("load failed: the warehouse's API refused a call", {
        ...failure,
        operation: err.operation,
        code: err.code,
        transient: err.transient,
        statementId: err.statementId,
        error: err,
        help: `see help: ${err.name}`,
      });
      return { type: "stop", error: err };
    }
    if (err instanceof LoadFailedError) {
      logger.error("load failed and was rolled back; the failure is recorded in load_failures", {
        ...failure,
        statementId: err.statementId,
        warehouseError: err.warehouseError,
        statement: err.statement?.slice(0, 2000),
        recordFailureError: err.recordFailureError === undefined ? undefined : messageOf(err.recordFailureError),
        error: err,
        help: `see help: ${err.name}`,
      });
      return { type: "failed", error: err };
    }
    if (err instanceof InvalidHeaderError || err instanceof LoadPlanError || err instanceof PlanTooLargeError) {
      logger.error("load refused before it reached the warehouse; nothing was loaded", {
        ...failure,
        column: err instanceof InvalidHeaderError ? err.column : undefined,
        error: err,
        help: `see help: ${err.name}`,
      });
      return { type: "failed", error: err };
    }
    logger.error("load failed unexpectedly", { ...failure, error: err as Error, help: "see help: load failed unexpectedly" });
    return { type: "stop", error: err };
  }
}
