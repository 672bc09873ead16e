/**
 * `npm run local` (tsx scripts/local/main.ts): the mirror on this machine. See cli.ts for the commands, runner.ts for
 * what runs. SIGINT / SIGTERM stop a running server cleanly; a second one exits at once.
 */
import { runLocalCli } from "./cli";

const stop = new AbortController();
let signals = 0;
const onSignal = () => {
  signals += 1;
  if (signals > 1) process.exit(130);
  stop.abort();
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

runLocalCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  stop: stop.signal,
}).then(
  (code) => {
    process.exitCode = code;
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  },
  (err: unknown) => {
    process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
    process.exitCode = 1;
  },
);
