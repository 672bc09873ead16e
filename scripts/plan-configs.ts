/**
 * Configs that `npm run test:terraform` plans offline besides the default one: each exercises a config branch
 * that changes which resources exist. Names are stack folder names.
 */
import type { MirrorConfigInput } from "../modules/config";

export const PLAN_CONFIGS: readonly { readonly name: string; readonly input: MirrorConfigInput }[] = [
  {
    name: "eu-small",
    input: {
      prefix: "cs-mirror-eu",
      region: "eu-central-1",
      controlshift: { region: "eu" },
      tables: ["petitions", "signatures", "members"],
      alertEmails: ["data-team@example.org"],
      exports: { versioned: false },
    },
  },
];
