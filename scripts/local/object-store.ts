/**
 * The local run's exports bucket: s3rver (an S3-compatible server) on 127.0.0.1, keeping its objects in a folder
 * (`.local/s3` by default), used through the AWS SDK's S3 client exactly as the Lambdas use S3.
 *
 * s3rver emits S3-shaped `ObjectCreated:*` records when an object lands (a PUT, a completed multipart upload, a copy),
 * before it answers the request: the runner routes them to the loaders as S3 -> EventBridge -> SQS does on AWS. Any
 * writer counts, so an operator can reload a file by copying it back into place (`aws --endpoint-url ... s3 cp`).
 *
 * s3rver's quirks: it checks SigV4 against its fixed credentials (S3RVER / S3RVER) and needs path-style addressing;
 * it corrupts streamed single PUTs sent with the SDK's default checksum trailers (hence WHEN_REQUIRED); it does not
 * implement AbortMultipartUpload, so the parts of a failed multipart upload (files over one part, 8 MiB) stay in
 * `<folder>/<bucket>/._S3rver_uploads/` until deleted by hand.
 */
import { once } from "node:events";
import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";

/** The credentials s3rver accepts. */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;
export const LOCAL_S3_REGION = "us-east-1";
/** The local exports bucket. */
export const LOCAL_EXPORTS_BUCKET = "controlshift-mirror-exports";

/** S3 client settings for s3rver at `endpoint`. */
export function localS3ClientConfig(endpoint: string): S3ClientConfig {
  return {
    endpoint,
    region: LOCAL_S3_REGION,
    forcePathStyle: true,
    credentials: LOCAL_S3_CREDENTIALS,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  };
}

export interface ObjectCreated {
  readonly bucket: string;
  readonly key: string;
  readonly size: number | undefined;
  /** `ObjectCreated:Put`, `ObjectCreated:Post` (a completed multipart upload), `ObjectCreated:Copy`. */
  readonly eventName: string;
}

export interface LocalObjectStore {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly bucket: string;
  readonly directory: string;
  readonly client: S3Client;
  close(): Promise<void>;
}

export interface LocalObjectStoreOptions {
  /** Where the objects are kept (created if missing). */
  readonly directory: string;
  /** @default 0: any free port */
  readonly port?: number;
  /** @default LOCAL_EXPORTS_BUCKET */
  readonly bucket?: string;
  /** Called for every object created, synchronously, before s3rver answers the write. */
  readonly onObjectCreated: (event: ObjectCreated) => void;
}

/** The parts of s3rver (a Koa app; the package ships no types) the local mirror and the tests use. */
export interface S3rverInstance {
  /** Koa middleware, in order: tests put routes s3rver lacks in front. */
  middleware: Array<(ctx: any, next: () => Promise<void>) => Promise<void>>;
  httpServer?: Server;
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
  on(event: "event", listener: (event: { Records: S3rverRecord[] }) => void): void;
}
export interface S3rverRecord {
  readonly eventName: string;
  readonly s3: { readonly bucket: { readonly name: string }; readonly object: { readonly key: string; readonly size?: number } };
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

export interface RunningS3rver {
  readonly server: S3rverInstance;
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Closes open connections, then the server. */
  stop(): Promise<void>;
}

/**
 * The one s3rver launcher (npm run local and the tests): on 127.0.0.1, quiet, storing in `directory`, with `buckets`
 * created. `configure` runs before it listens; `onRecords` gets its S3-shaped event records.
 */
export async function startS3rver(options: {
  readonly directory: string;
  readonly buckets: readonly string[];
  /** @default 0: any free port */
  readonly port?: number;
  readonly configure?: (server: S3rverInstance) => void;
  readonly onRecords?: (records: readonly S3rverRecord[]) => void;
}): Promise<RunningS3rver> {
  const S3rver = require("s3rver") as S3rverConstructor;
  const server = new S3rver({
    address: "127.0.0.1",
    port: options.port ?? 0,
    silent: true,
    directory: options.directory,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  options.configure?.(server);
  if (options.onRecords) server.on("event", (event) => options.onRecords!(event.Records));
  const { port } = await server.run();
  return {
    server,
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      server.httpServer?.closeAllConnections();
      await server.close();
      if (server.httpServer?.listening) await once(server.httpServer, "close");
    },
  };
}

export async function startLocalObjectStore(options: LocalObjectStoreOptions): Promise<LocalObjectStore> {
  const bucket = options.bucket ?? LOCAL_EXPORTS_BUCKET;
  mkdirSync(options.directory, { recursive: true });
  const s3rver = await startS3rver({
    directory: options.directory,
    buckets: [bucket],
    port: options.port,
    onRecords: (records) => {
      for (const record of records) {
        if (!record.eventName.startsWith("ObjectCreated:")) continue;
        options.onObjectCreated({
          bucket: record.s3.bucket.name,
          key: record.s3.object.key,
          size: record.s3.object.size,
          eventName: record.eventName,
        });
      }
    },
  });
  const endpoint = s3rver.endpoint;
  const client = new S3Client(localS3ClientConfig(endpoint));
  return {
    endpoint,
    bucket,
    directory: options.directory,
    client,
    async close() {
      client.destroy();
      await s3rver.stop();
    },
  };
}
