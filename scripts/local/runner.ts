/**
 * The local mirror: the receiver's, downloader's and loader's own code on one machine, no AWS account.
 *
 *   POST /webhook --> receiveWebhook (receiver core) --> "downloads" queue (in-process, bounded, journaled)
 *   downloads --> processDownloadBatch (downloader core) --> exports bucket (s3rver on disk, through the S3 client)
 *   bucket ObjectCreated --> "loads" queue (the EventBridge rule's routing: exports/{kind}/{table}/... of a configured
 *   table, as the rule's Object Created event) --> loadBatch (the loader Lambda's core, one message per batch) -->
 *   PostgreSQL adapter (PGlite on disk, or a server)
 *
 * Only the edges differ from AWS: the webhook server stands in for API Gateway, LocalQueue for SQS (with its
 * dead-letter queue), s3rver for S3, its ObjectCreated records for EventBridge.
 */
import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { CONTROLSHIFT_EXPORT_BUCKETS, CONTROLSHIFT_STAGING_BUCKET } from "../../modules/config";
import { DEFAULT_DATA_SCHEMA, DEFAULT_METADATA_SCHEMA } from "../../facts/warehouse";
import { defaultConfig } from "../../modules/config";
import { TABLE_SCHEMAS } from "../../schemas/table-schemas";
import { libStorageUploader } from "../../handlers/downloader/adapters";
import { CONTENT_TYPES, exportObjectMetadata } from "../../handlers/downloader/download";
import type { DownloaderLogger, DownloaderOutcome, ExportUploader, Fetch } from "../../handlers/downloader/ports";
import { systemClock } from "../../handlers/downloader/ports";
import { processDownloadBatch } from "../../handlers/downloader/process-batch";
import { s3ObjectOpener } from "../../handlers/load/header";
import { PostgresWarehouse } from "../../handlers/load/postgres-adapter";
import { s3HeaderReader } from "../../handlers/loader/adapters";
import { parseLoaderMessage } from "../../handlers/loader/event";
import { loadBatch, type LoaderLogger, type LoaderOutcome } from "../../handlers/loader/load-batch";
import { QueueSendError, type WebhookOutcome } from "../../handlers/receiver/ports";
import { REQUEST_SIZE_GUARD_BYTES, type ReceiverSettings, receiveWebhook } from "../../handlers/receiver/receive";
import { S3QuarantineStore } from "../../handlers/receiver/aws-adapters";
import { type DownloadJob, type ExportFile, exportObjectKey, parseExportFileName, parseExportObjectKey } from "../../handlers/shared/export-file";
import { type ExportKind, EXPORTS_PREFIX } from "../../facts/exports";
import type { LoopbackUrlPrefix } from "../../handlers/shared/export-url";
import { startLocalHttpServer, type LocalHttpServer } from "./http-server";
import { formatBytes, formatProgress, formatRows, type Progress } from "./lines";
import { openLocalMirror, type LocalMirror, type PgliteClass } from "./mirror";
import { LOCAL_S3_REGION, startLocalObjectStore, type LocalObjectStore, type ObjectCreated } from "./object-store";
import { type DeadLetter, LocalQueue, messageOf, PermanentFailure, QueueFullError, type QueueStats } from "./queue";
import { objectCreatedEvent } from "../object-created-event";

/** The cores' log lines are for the Lambdas' CloudWatch; the local runner prints their typed outcomes instead. */
const QUIET_LOGGER: LoaderLogger & DownloaderLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Every ControlShift export bucket: a real webhook payload posted to the local runner is accepted as on AWS. */
export const CONTROLSHIFT_BUCKETS: readonly string[] = [
  ...CONTROLSHIFT_EXPORT_BUCKETS.us,
  ...CONTROLSHIFT_EXPORT_BUCKETS.eu,
  CONTROLSHIFT_STAGING_BUCKET,
];

/** `<table>_<YYYYMMDDHHMMSS>.csv[.bz2]`: the table part, for a replayed file. */
const EXPORT_FILE_NAME = /^([a-z][a-z0-9_]{0,62})_\d{14}\.csv(?:\.bz2)?$/;

export interface WebhookOptions {
  /** 0: any free port. */
  readonly port: number;
  readonly secret: string;
  readonly loopbackUrlPrefixes: readonly LoopbackUrlPrefix[];
  /** @default CONTROLSHIFT_BUCKETS */
  readonly buckets?: readonly string[];
  /** @default the config's receiver.maxBodyBytes (64 KiB), as the receiver Lambda */
  readonly maxBodyBytes?: number;
  /** Enables `POST /sql` with this bearer token (the CLI's `sql` command while the runner holds PGlite). */
  readonly sqlToken?: string;
}

export interface QueueOptions {
  /** @default 3 deliveries, then the dead-letter list */
  readonly maxAttempts?: number;
  /** @default 1 s, 2 s, 4 s, ... */
  readonly retryDelayMs?: (attempt: number) => number;
  /** @default 100 download jobs */
  readonly downloadCapacity?: number;
  /** @default 1000 loads */
  readonly loadCapacity?: number;
  /** @default 2 downloads at once */
  readonly downloadConcurrency?: number;
}

export interface LocalRunnerOptions {
  /** Where the bucket, the database and the queues' journals live unless given one by one (`.local`). */
  readonly stateDir: string;
  /** @default <stateDir>/s3 */
  readonly s3Dir?: string;
  /** @default 0: any free port */
  readonly s3Port?: number;
  /** @default <stateDir>/pglite */
  readonly pgliteDir?: string;
  /** A PostgreSQL server instead of PGlite. */
  readonly databaseUrl?: string;
  readonly pglite?: PgliteClass;
  /** The tables to mirror: webhooks and objects of other tables are ignored, as on AWS. */
  readonly tables: readonly string[];
  /** @default DEFAULT_DATA_SCHEMA */
  readonly dataSchema?: string;
  /** @default DEFAULT_METADATA_SCHEMA */
  readonly metadataSchema?: string;
  /** The webhook server; without it, the runner only replays files (`load`). */
  readonly webhook?: WebhookOptions;
  readonly queues?: QueueOptions;
  /** @default true: queue messages are kept in <stateDir>/queues until handled, and survive a restart */
  readonly journal?: boolean;
  /** @default the global fetch */
  readonly fetch?: Fetch;
  /** Where progress lines go. */
  readonly print: (line: string) => void;
}

/** What happened to an object key the last time it was loaded. */
export interface LoadRecord {
  /** `ignored`: no loader takes the object (not an export key, or a table not in the list), as no rule would match. */
  readonly outcome: "loaded" | "skipped-stale" | "dead-letter" | "ignored";
  /** When the load ended (ISO 8601). */
  readonly at: string;
  readonly rows?: number;
  readonly reason?: string;
}

export interface LocalRunner {
  /** `http://127.0.0.1:<port>/webhook`, when the webhook server runs. */
  readonly webhookUrl: string | undefined;
  readonly httpOrigin: string | undefined;
  readonly store: LocalObjectStore;
  readonly mirror: LocalMirror;
  readonly tables: ReadonlySet<string>;
  readonly dataSchema: string;
  readonly metadataSchema: string;
  /** Resolves when no download or load is waiting, running or waiting for a retry. */
  idle(): Promise<void>;
  stats(): { readonly downloads: QueueStats; readonly loads: QueueStats };
  deadLetters(): readonly DeadLetter[];
  /** The last load of an object key in this run. */
  lastLoad(key: string): LoadRecord | undefined;
  /**
   * Copies a ControlShift export file into the bucket at its key (`exports/{kind}/{table}/{YYYYMMDD}/{file}`) with the
   * downloader's uploader; the bucket's ObjectCreated record then queues its load. Returns the key.
   */
  replay(path: string, kind: ExportKind): Promise<string>;
  /** Stops the server, then the queues (what is not handled stays journaled), the bucket and the database. */
  close(): Promise<void>;
}

/** Checks a replayed file's name, as the receiver checks a webhook's. Throws an Error saying what is expected. */
export function exportFileOf(path: string, kind: ExportKind): ExportFile {
  const name = basename(path);
  const m = EXPORT_FILE_NAME.exec(name);
  if (!m) {
    throw new Error(
      `${name} is not named as ControlShift names its exports, <table>_<YYYYMMDDHHMMSS>.csv or .csv.bz2 ` +
        "(e.g. petitions_20240301020304.csv.bz2): the loader takes the table and the export time from the name",
    );
  }
  return parseExportFileName(kind, m[1], name);
}

/** The fields of a download job a progress line shows, read leniently (the body may be malformed). */
function jobFields(body: string): Pick<Progress, "table" | "kind" | "file"> {
  try {
    const job = JSON.parse(body) as Partial<DownloadJob>;
    return { table: job.table, kind: job.kind, file: job.fileName };
  } catch {
    return {};
  }
}

function keyFields(key: string): Pick<Progress, "table" | "kind" | "file"> {
  try {
    const file = parseExportObjectKey(key);
    return { table: file.table, kind: file.kind, file: file.fileName };
  } catch {
    return { file: key };
  }
}

/** The message the loads queue carries: the EventBridge event the table's rule forwards to its loader's queue on AWS. */
function loadsMessage(event: ObjectCreated): string {
  return objectCreatedEvent({
    bucket: event.bucket,
    key: event.key,
    size: event.size,
    account: "000000000000",
    region: LOCAL_S3_REGION,
    time: new Date(),
    id: randomUUID(),
    reason: event.eventName === "ObjectCreated:Post" ? "CompleteMultipartUpload" : event.eventName === "ObjectCreated:Copy" ? "CopyObject" : "PutObject",
  });
}

/** The object key of a loads message, or undefined when the body is not an S3 Object Created event. */
function eventKey(body: string): string | undefined {
  try {
    const message = parseLoaderMessage(body);
    return message.type === "object-created" ? message.key : undefined;
  } catch {
    return undefined;
  }
}

function loadFields(body: string): Pick<Progress, "table" | "kind" | "file"> {
  const key = eventKey(body);
  return key === undefined ? {} : keyFields(key);
}

export async function startLocalRunner(options: LocalRunnerOptions): Promise<LocalRunner> {
  const print = (p: Progress) => options.print(formatProgress(p));
  const tables = new Set(options.tables);
  const dataSchema = options.dataSchema ?? DEFAULT_DATA_SCHEMA;
  const metadataSchema = options.metadataSchema ?? DEFAULT_METADATA_SCHEMA;
  const q = options.queues ?? {};
  const journalDir = (name: string) => (options.journal === false ? undefined : join(options.stateDir, "queues", name));
  const loadRecords = new Map<string, LoadRecord>();
  const fetchPort: Fetch = options.fetch ?? ((url, init) => fetch(url, init));

  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  };

  try {
    const mirror = await openLocalMirror({
      databaseUrl: options.databaseUrl,
      pgliteDir: options.pgliteDir ?? join(options.stateDir, "pglite"),
      pglite: options.pglite,
    });
    closers.push(() => mirror.close());

    // The loads queue exists before the bucket, so that no ObjectCreated record can come first.
    let store: LocalObjectStore | undefined;
    let warehouse: PostgresWarehouse | undefined;
    const loads = new LocalQueue({
      name: "loads",
      capacity: q.loadCapacity ?? 1000,
      maxAttempts: q.maxAttempts ?? 3,
      retryDelayMs: q.retryDelayMs,
      // PGlite has one connection; on a server, the table lock would serialise one table's loads anyway.
      concurrency: 1,
      journalDir: journalDir("loads"),
      // The loader Lambda's own batch core, one message per batch: it parses the EventBridge event, reads and checks
      // the header, loads, and reports a failed message for the queue to retry (then dead-letter).
      handler: async ({ id, body, attempt }) => {
        const key = eventKey(body);
        let file: ExportFile;
        try {
          file = parseExportObjectKey(key ?? "");
        } catch (err) {
          throw new PermanentFailure(`not an export object: ${messageOf(err)}`, { cause: err });
        }
        if (store === undefined || warehouse === undefined) throw new Error("the local bucket is not ready");
        let problem: string | undefined;
        // The core's typed outcomes, not its log lines (which are for people, and the Lambda's CloudWatch).
        const report = (reported: LoaderOutcome) => {
          switch (reported.type) {
            case "committed": {
              const { result } = reported;
              const loaded = result.files.find((f) => f.objectKey === key);
              const outcome = loaded?.outcome ?? "loaded";
              const rows = loaded?.rowsLoaded ?? 0;
              loadRecords.set(key!, { outcome, rows, at: new Date().toISOString() });
              const added = result.addedColumns.map((c) => c.name);
              const notes = [
                result.createdTable
                  ? `created ${dataSchema}.${file.table} (${result.createdTable === "schemas" ? "from schemas/" : "from the header"})`
                  : "",
                added.length > 0 ? `added column(s) ${added.join(", ")}` : "",
                outcome === "skipped-stale" ? "a newer full export is already loaded" : "",
              ].filter((n) => n !== "");
              print({
                step: "load",
                ...keyFields(key!),
                amount: formatRows(rows),
                seconds: reported.seconds,
                outcome,
                detail: notes.join("; ") || undefined,
              });
              break;
            }
            case "refused":
              problem = `export refused: ${messageOf(reported.error)}`;
              break;
            case "failed":
              problem = `load failed: ${messageOf(reported.error)}`;
              break;
            case "ignored":
              problem = `ignored: ${reported.reason}`;
              break;
          }
        };
        const result = await loadBatch(
          [{ messageId: id, body, attributes: { ApproximateReceiveCount: String(attempt) } }],
          {
            table: file.table,
            kind: file.kind,
            dataSchema,
            metadataSchema,
            exportsBucket: store.bucket,
            knownColumns: TABLE_SCHEMAS[file.table],
          },
          {
            warehouse,
            readHeader: s3HeaderReader(store.client, store.bucket).readHeader,
            logger: QUIET_LOGGER,
            report,
            metrics: { loadSucceeded: () => undefined, loadFailed: () => undefined },
            clock: Date.now,
          },
        );
        if (result.batchItemFailures.length > 0) throw new Error(problem ?? "the load failed");
      },
      onRetry: (delivery, err, delayMs) =>
        print({
          step: "load",
          ...loadFields(delivery.body),
          outcome: "FAILED",
          detail: `attempt ${delivery.attempt} of ${q.maxAttempts ?? 3}, retry in ${(delayMs / 1000).toFixed(1)} s: ${messageOf(err)}`,
        }),
      onDeadLetter: (letter) => {
        const fields = loadFields(letter.body);
        const key = eventKey(letter.body);
        if (key !== undefined) loadRecords.set(key, { outcome: "dead-letter", reason: letter.reason, at: letter.at });
        print({ step: "load", ...fields, outcome: "DEAD LETTER", detail: letter.reason });
      },
    });
    closers.push(() => loads.close());

    /** The EventBridge rule's part: an export key of a configured table goes to the loads queue. */
    const route = (event: ObjectCreated) => {
      if (!event.key.startsWith(`${EXPORTS_PREFIX}/`)) return;
      let file: ExportFile;
      try {
        file = parseExportObjectKey(event.key);
      } catch (err) {
        const reason = `not an export key: ${messageOf(err)}`;
        loadRecords.set(event.key, { outcome: "ignored", reason, at: new Date().toISOString() });
        print({ step: "event", file: event.key, outcome: "ignored", detail: reason });
        return;
      }
      if (!tables.has(file.table)) {
        const reason = `the table is not in --tables (${[...tables].join(", ")})`;
        loadRecords.set(event.key, { outcome: "ignored", reason, at: new Date().toISOString() });
        print({ step: "event", ...keyFields(event.key), outcome: "ignored", detail: reason });
        return;
      }
      const body = loadsMessage(event);
      try {
        loads.send(body);
      } catch (err) {
        loads.deadLetter(body, `not queued: ${messageOf(err)}`);
      }
    };

    store = await startLocalObjectStore({
      directory: options.s3Dir ?? join(options.stateDir, "s3"),
      port: options.s3Port,
      onObjectCreated: route,
    });
    closers.splice(closers.length - 1, 0, () => store!.close()); // closed after the loads queue stops
    warehouse = new PostgresWarehouse({ driver: mirror.driver, openObject: s3ObjectOpener(store.client, store.bucket) });
    // What the bootstrap does at apply time on Redshift: the schemas and the metadata migrations, before any load.
    await warehouse.migrate(dataSchema, metadataSchema);
    const bucket = store.bucket;

    const uploader: ExportUploader = libStorageUploader(store.client, {
      partSizeBytes: 8 * 1024 * 1024,
      queueSize: 4,
    });

    const downloads: LocalQueue = new LocalQueue({
      name: "downloads",
      capacity: q.downloadCapacity ?? 100,
      maxAttempts: q.maxAttempts ?? 3,
      retryDelayMs: q.retryDelayMs,
      concurrency: q.downloadConcurrency ?? 2,
      journalDir: journalDir("downloads"),
      handler: async ({ id, body, attempt }) => {
        let problem: string | undefined;
        // The core's typed outcomes, not its log lines (which are for people, and the Lambda's CloudWatch).
        const report = (outcome: DownloaderOutcome) => {
          if (outcome.type === "stored") {
            print({
              step: "download",
              ...jobFields(body),
              amount: formatBytes(outcome.bytes),
              seconds: outcome.durationMs / 1000,
              outcome: "stored",
              detail: `s3://${bucket}/${outcome.key}`,
            });
          } else {
            problem = outcome.reason;
          }
        };
        const result = await processDownloadBatch(
          [{ messageId: id, body, attributes: { ApproximateReceiveCount: String(attempt) } }],
          {
            fetch: fetchPort,
            uploader,
            clock: systemClock,
            logger: QUIET_LOGGER,
            report,
            metrics: { exportDownloaded: () => undefined, exportDownloadFailed: () => undefined },
            // A permanent failure: the downloader sends the job here itself, and the message counts as handled.
            deadLetters: { send: async (letter) => downloads.deadLetter(letter.body, letter.reason, attempt, id) },
          },
          { bucket },
        );
        if (result.batchItemFailures.length > 0) throw new Error(problem ?? "the download failed");
      },
      onRetry: (delivery, err, delayMs) =>
        print({
          step: "download",
          ...jobFields(delivery.body),
          outcome: "FAILED",
          detail: `attempt ${delivery.attempt} of ${q.maxAttempts ?? 3}, retry in ${(delayMs / 1000).toFixed(1)} s: ${messageOf(err)}`,
        }),
      // The body holds the presigned URL: the line shows the job's file and the (redacted) reason only.
      onDeadLetter: (letter) => print({ step: "download", ...jobFields(letter.body), outcome: "DEAD LETTER", detail: letter.reason }),
    });
    closers.push(() => downloads.close());

    let http: LocalHttpServer | undefined;
    if (options.webhook !== undefined) {
      const w = options.webhook;
      const maxBodyBytes = w.maxBodyBytes ?? defaultConfig().receiver.maxBodyBytes;
      const settings: ReceiverSettings = {
        tables,
        buckets: w.buckets ?? CONTROLSHIFT_BUCKETS,
        maxBodyBytes,
        loopbackUrlPrefixes: w.loopbackUrlPrefixes,
      };
      const secret = async () => ({ value: w.secret, fetchedAt: new Date() });
      const report = (outcome: WebhookOutcome) => {
        const d = outcome.details as Record<string, unknown>;
        const response = outcome.response as { status?: string; reason?: string; error?: string };
        print({
          step: "webhook",
          table: typeof d.table === "string" ? d.table : undefined,
          kind: typeof d.kind === "string" ? d.kind : undefined,
          file: typeof d.fileName === "string" ? d.fileName : undefined,
          amount: String(outcome.statusCode),
          outcome: response.status ?? "rejected",
          detail: response.reason ?? response.error,
        });
      };
      http = await startLocalHttpServer({
        port: w.port,
        maxBodyBytes: REQUEST_SIZE_GUARD_BYTES,
        webhook: (request) =>
          receiveWebhook(request, settings, {
            secret: { current: secret, refresh: secret },
            // The same adapter as the Lambda's, into the local bucket: `npm run replay` does not reach it, but the
            // payload is kept under quarantine/pending/ for the developer to read.
            quarantine: new S3QuarantineStore(store.client, bucket),
            queue: {
              async send(job) {
                try {
                  downloads.send(JSON.stringify(job));
                } catch (err) {
                  throw new QueueSendError(
                    err instanceof QueueFullError ? err.message : "the export could not be queued; retry later",
                    { cause: err },
                  );
                }
              },
            },
            clock: () => new Date(),
            report,
          }),
        health: () => ({ status: "ok", tables: tables.size, queues: { downloads: downloads.stats(), loads: loads.stats() } }),
        sql: w.sqlToken === undefined ? undefined : { token: w.sqlToken, run: (sql) => mirror.query(sql) },
        lastLoad: (key) => loadRecords.get(key),
        onError: (err) => options.print(`webhook server: unexpected failure: ${messageOf(err)}`),
      });
      closers.push(() => http!.close());
    }

    const queues = [downloads, loads];
    return {
      webhookUrl: http ? `${http.origin}/webhook` : undefined,
      httpOrigin: http?.origin,
      store,
      mirror,
      tables,
      dataSchema,
      metadataSchema,
      async idle() {
        // A download hands its object to the loads queue before it finishes: loop until both are idle at once.
        for (;;) {
          await Promise.all(queues.map((queue) => queue.idle()));
          const busy = queues.some((queue) => {
            const s = queue.stats();
            return s.waiting + s.inFlight + s.retrying > 0;
          });
          if (!busy) return;
        }
      },
      stats: () => ({ downloads: downloads.stats(), loads: loads.stats() }),
      deadLetters: () => [...downloads.deadLetters(), ...loads.deadLetters()],
      lastLoad: (key) => loadRecords.get(key),
      async replay(path, kind) {
        const file = exportFileOf(path, kind);
        if (!tables.has(file.table)) {
          throw new Error(`table ${file.table} is not in --tables (${[...tables].slice(0, 5).join(", ")}${tables.size > 5 ? ", ..." : ""})`);
        }
        await stat(path); // a missing file fails here, with its path, rather than inside the upload
        const compression = file.fileName.endsWith(".bz2") ? "bzip2" : "none";
        const key = exportObjectKey(file);
        const job: DownloadJob = {
          version: 1,
          ...file,
          url: `file://${path}`,
          compression,
          sourcePath: `replay/${file.fileName}`,
          receivedAt: new Date().toISOString(),
        };
        await uploader.upload({
          bucket,
          key,
          body: createReadStream(path),
          contentType: CONTENT_TYPES[compression],
          metadata: exportObjectMetadata(job),
        });
        return key;
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
