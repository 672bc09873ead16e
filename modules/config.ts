/**
 * The deployment config: one typed object, with defaults, validated in one pass.
 *
 * Operators write a `MirrorConfigInput` (every field optional) in `config.ts`; `resolveConfig` fills in the
 * defaults and reports every problem at once, each naming the field, the bad value and what is allowed.
 * Pure (no cdktf, no process.env): tests and `main.ts` call it the same way. Import it from here; each part has
 * its own file under modules/config/:
 * - types.ts: the config's types, every field documented;
 * - defaults.ts: every default, once (and ControlShift's export buckets, the default allow-list);
 * - merge.ts: the operator's config over the defaults, and the derived views (mirrored tables, loader sizing);
 * - shape.ts, suggest.ts: fields the config does not have, with "did you mean";
 * - checker.ts: the one-pass problem collector and ConfigError;
 * - validate.ts: the top-level fields and backend; validate-network.ts, validate-warehouse.ts,
 *   validate-tables.ts (tables, extraTables, loaders), validate-alerts.ts (alertEmails, alerts): one per section;
 * - aws-regions.ts: the AWS region codes; cidr.ts: CIDR arithmetic; naming.ts: names the validation checks;
 * - warnings.ts: what synth warns about without refusing.
 */
import { ConfigError } from "./config/checker";
import { withDefaults } from "./config/merge";
import { unknownFieldProblems } from "./config/shape";
import type { MirrorConfig, MirrorConfigInput } from "./config/types";
import { validateConfig } from "./config/validate";

export * from "./config/types";
export {
  CONTROLSHIFT_EXPORT_BUCKETS,
  CONTROLSHIFT_PRODUCTION_BUCKETS,
  CONTROLSHIFT_STAGING_BUCKET,
  DEFAULT_PREFIX,
  DEFAULT_REDSHIFT_PORT,
  DEFAULT_VPC_CIDR,
  backendWithDefaults,
  type ResolvedBackend,
  defaultAvailabilityZones,
  defaultConfig,
} from "./config/defaults";
export { loaderSizing, mirroredTables, withDefaults } from "./config/merge";
export { ConfigError } from "./config/checker";
export { LOG_RETENTION_DAYS, validateConfig } from "./config/validate";
export { MULTI_NODE_ONLY_NODE_TYPES, REDSHIFT_NODE_TYPE_PATTERN } from "./config/validate-warehouse";
export { isHttpsEndpoint } from "./config/validate-alerts";
export { formatAddress, isPublicInternet, parseCidr, PUBLIC_INTERNET_MAX_PREFIX, type ParsedCidr } from "./config/cidr";
export { loaderFunctionName, subscriptionSlug } from "./config/naming";
export { configWarnings, NO_ALERT_SUBSCRIBER_WARNING } from "./config/warnings";

/**
 * Defaults + validation: the config a stack is built from. Throws ConfigError listing every problem at once: fields
 * the config does not have (at any depth, with the closest known field), then every bad value.
 */
export function resolveConfig(input: MirrorConfigInput = {}): MirrorConfig {
  const config = withDefaults(input);
  const problems = [...unknownFieldProblems(input), ...validateConfig(config)];
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
