/**
 * Your deployment's config. Every field is optional: `{}` deploys a mirror of every table ControlShift
 * exports today, in us-east-1, named `cs-mirror-*`, with state in a local file. See `help` (section Config)
 * and modules/config.ts for every field, its default and what it accepts.
 */
import type { MirrorConfigInput } from "./modules/config";

const config: MirrorConfigInput = {
  // prefix: "cs-mirror",                       // starts every resource name; one per deployment
  // region: "eu-west-1",
  // controlshift: { region: "eu" },            // your instance's data region: "us" or "eu"
  // tables: ["petitions", "signatures", "members"],
  // alertEmails: ["data-team@example.org"],
  // backend: { type: "cloud", organization: "my-org", workspace: "controlshift-mirror" },
};

export default config;
