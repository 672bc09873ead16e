// `npm run synth` and cdktf.json's app (what `cdktf synth`, `plan` and `deploy` run): rebuilds the handler zips and
// the app bundle only when their inputs changed (build-stamp.mjs), then runs the app in this same process: one node
// start, no nested npm. Usage: node scripts/synth.mjs
import { createRequire } from "node:module";
import { buildApp, APP_BUNDLE } from "./build-app.mjs";
import { buildHandlers } from "./build-handlers.mjs";

// No call to HashiCorp's checkpoint service from anything this process starts (terraform, cdktf's helpers): offline
// it only prints an error, and a deployment tool should not phone home.
process.env.CHECKPOINT_DISABLE ??= "1";

await Promise.all([buildHandlers({ quiet: true }), buildApp()]);
// Without --enable-source-maps: cdktf records a stack trace for every token, and mapping each one through the
// source map costs 0.7 s of CPU on the default stack. The bundle is not minified, so a stack trace still points at
// readable code; NODE_OPTIONS=--enable-source-maps npm run synth gives main.ts and modules/ line numbers.
try {
  createRequire(import.meta.url)(APP_BUNDLE);
} catch (err) {
  if (!process.execArgv.includes("--enable-source-maps") && !process.env.NODE_OPTIONS?.includes("--enable-source-maps")) {
    console.error("(for main.ts and modules/ line numbers in the trace below: NODE_OPTIONS=--enable-source-maps npm run synth)");
  }
  throw err;
}
