/**
 * Benchmark: is the downloader as fast as a bare fetch -> lib-storage Upload, in bounded memory?
 *
 *   npx tsx bench/download.ts [--sizes 1,4] [--part-size-mib 8] [--queue-size 4] [--runs 2]
 *
 * Sizes are GiB (decimals allowed: --sizes 0.25). Everything runs in this one process, on loopback:
 * - an HTTP server that generates deterministic CSV-like bytes on the fly (never held in memory),
 * - s3rver on a temp dir (removed at the end),
 * - (a) baseline: fetch -> lib-storage Upload (the fetch body handed over as is), same part size and queue size;
 * - (b) downloader: the downloader's core, downloadExport(), with its real uploader (handlers/downloader).
 * Runs alternate (baseline, downloader, downloader, baseline, ...) to spread drift; each run's peak RSS is the max
 * of process.memoryUsage().rss sampled every 50 ms (it includes the HTTP server and s3rver, which share the
 * process). Targets: downloader / baseline >= 0.9, peak RSS <= 256 MiB.
 */
import { DeleteObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { parseArgs } from "node:util";
import { defaultConfig } from "../modules/config";
import { libStorageUploader } from "../handlers/downloader/adapters";
import { downloadExport } from "../handlers/downloader/download";
import { systemClock } from "../handlers/downloader/ports";
import { makeDownloadJob } from "../__tests__/helpers/download-jobs";
import { startExportServer } from "../__tests__/helpers/export-server";
import { startLocalS3 } from "../__tests__/helpers/local-s3";

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const BUCKET = "bench-exports";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "1,4" },
    "part-size-mib": { type: "string", default: process.env.PART_SIZE_MIB ?? String(defaultConfig().downloader.partSizeMiB) },
    "queue-size": { type: "string", default: process.env.UPLOAD_QUEUE_SIZE ?? String(defaultConfig().downloader.uploadQueueSize) },
    runs: { type: "string", default: "2" },
  },
});
const sizesGib = values.sizes.split(",").map(Number);
const partSize = Number(values["part-size-mib"]) * MIB;
const queueSize = Number(values["queue-size"]);
const runsEach = Number(values.runs);
if (sizesGib.some((s) => !(s > 0)) || !(partSize >= 5 * MIB) || !(queueSize >= 1) || !(runsEach >= 1)) {
  console.error("usage: npx tsx bench/download.ts [--sizes 1,4] [--part-size-mib 8 (>= 5)] [--queue-size 4] [--runs 2]");
  process.exit(2);
}

// A full collection between runs, so one run's garbage does not count against the next one's peak.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

type Path = "baseline" | "downloader";
interface RunResult {
  readonly path: Path;
  readonly seconds: number;
  readonly mibPerSecond: number;
  readonly peakRssMib: number;
}

/** Samples RSS every 50 ms while fn runs; returns fn's duration and the peak. */
async function measured(fn: () => Promise<void>): Promise<{ seconds: number; peakRss: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 50);
  const started = process.hrtime.bigint();
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, process.memoryUsage.rss());
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, peakRss: peak };
}

async function main(): Promise<void> {
  const benchStarted = Date.now();
  const [s3, server] = await Promise.all([startLocalS3({ buckets: [BUCKET] }), startExportServer()]);
  const uploader = libStorageUploader(s3.client, { partSizeBytes: partSize, queueSize });
  gc();
  console.log(`idle RSS with the HTTP server and s3rver started: ${(process.memoryUsage.rss() / MIB).toFixed(0)} MiB`);
  console.log(
    `node ${process.version}; part size ${partSize / MIB} MiB, queue size ${queueSize}; s3rver on ${s3.directory}; ` +
      `${runsEach} run(s) of each path per size`,
  );

  try {
    for (const gib of sizesGib) {
      const size = Math.round(gib * GIB);
      const stamp = `20240301${String(sizesGib.indexOf(gib)).padStart(2, "0")}0000`;
      const path = `/bench-org/full/signatures/20240301/signatures_${stamp}.csv`;
      server.route(path, { type: "body", body: { size, seed: 11 }, contentType: "text/csv" });
      const job = makeDownloadJob({ url: server.url(path) });

      const run = async (which: Path, index: number): Promise<RunResult> => {
        const key = `bench/${which}/${index}/${job.fileName}`;
        gc();
        let storedKey = key;
        const { seconds, peakRss } = await measured(async () => {
          if (which === "baseline") {
            const response = await fetch(job.url, { redirect: "manual" });
            if (response.status !== 200 || !response.body) throw new Error(`baseline: status ${response.status}`);
            await new Upload({
              client: s3.client,
              params: { Bucket: BUCKET, Key: key, Body: response.body },
              partSize,
              queueSize,
              leavePartsOnError: false,
            }).done();
          } else {
            const result = await downloadExport(job, { fetch: (u, init) => fetch(u, init), uploader, clock: systemClock }, { bucket: BUCKET });
            storedKey = result.key;
          }
        });
        const head = await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: storedKey }));
        if (head.ContentLength !== size) throw new Error(`${which}: stored ${head.ContentLength} bytes, served ${size}`);
        await s3.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: storedKey }));
        const result = { path: which, seconds, mibPerSecond: size / MIB / seconds, peakRssMib: peakRss / MIB };
        console.log(
          `  ${gib} GiB  ${which.padEnd(10)}  ${seconds.toFixed(1).padStart(6)} s  ${result.mibPerSecond.toFixed(1).padStart(6)} MiB/s  ` +
            `peak RSS ${result.peakRssMib.toFixed(0)} MiB`,
        );
        return result;
      };

      console.log(`${gib} GiB (${size} bytes):`);
      const results: RunResult[] = [];
      // ABBA ordering: baseline, downloader, downloader, baseline, ...
      for (let i = 0; i < runsEach; i++) {
        const order: Path[] = i % 2 === 0 ? ["baseline", "downloader"] : ["downloader", "baseline"];
        for (const which of order) results.push(await run(which, i));
      }
      const of = (which: Path) => results.filter((r) => r.path === which);
      // Throughput over all runs of a path: total bytes / total time.
      const rate = (which: Path) => (of(which).length * size) / MIB / of(which).reduce((t, r) => t + r.seconds, 0);
      const peak = (which: Path) => Math.max(...of(which).map((r) => r.peakRssMib));
      const ratio = rate("downloader") / rate("baseline");
      console.log(
        `  => ${gib} GiB: baseline ${rate("baseline").toFixed(1)} MiB/s, downloader ${rate("downloader").toFixed(1)} MiB/s, ` +
          `ratio ${ratio.toFixed(2)} (target >= 0.9) ${ratio >= 0.9 ? "OK" : "BELOW TARGET"}; ` +
          `peak RSS baseline ${peak("baseline").toFixed(0)} MiB, downloader ${peak("downloader").toFixed(0)} MiB ` +
          `(target <= 256) ${peak("downloader") <= 256 ? "OK" : "ABOVE TARGET"}`,
      );
    }
  } finally {
    await Promise.all([s3.close(), server.close()]);
  }
  console.log(`total ${((Date.now() - benchStarted) / 1000).toFixed(0)} s; temp dir removed`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
