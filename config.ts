/**
 * Your deployments' config: the settings every environment shares, then what each environment changes.
 *
 * Every field is optional; `help` (section Config) and modules/config/types.ts list each one, its default and what it
 * accepts. Each environment is its own stack (named by its key: `npx cdktf deploy staging`), with its own name
 * prefix, its own state and its own resources; sections merge field by field over the shared settings, lists and
 * `backend` are taken whole. For a single deployment, drop `environments` and set `prefix` above instead.
 *
 * `npm run check` validates every environment (and type-checks) in a second, without synthesizing.
 */
import type { MirrorConfigFile } from "./modules/environments";

const config: MirrorConfigFile = {
  // region: "eu-west-1",
  // controlshift: { region: "eu" },            // your instance's data region: "us" or "eu"
  // tables: ["petitions", "signatures", "members"],
  // alertEmails: ["data-team@example.org"],
  environments: {
    staging: {
      prefix: "cs-mirror-staging",
      // A few tables keep staging cheap and its plans short; drop this line to stage every table.
      tables: ["petitions", "signatures", "members", "events", "comments"],
      // The local state file (terraform.cs-mirror-staging.tfstate, beside this file) is for trying things out;
      // a team keeps state remotely, e.g.:
      // backend: { type: "cloud", organization: "my-org", workspace: "controlshift-mirror-staging" },
      // backend: { type: "s3", bucket: "my-terraform-state" },
    },
    production: {
      prefix: "cs-mirror",
      // backend: { type: "cloud", organization: "my-org", workspace: "controlshift-mirror-production" },
    },
  },
};

export default config;
