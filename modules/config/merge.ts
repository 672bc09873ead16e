/**
 * Merging the operator's config over the defaults, and the derived views every construct reads (the mirrored
 * tables, one table's loader sizing).
 */
import { DEFAULT_PREFIX, defaultAvailabilityZones, defaultConfig } from "./defaults";
import type { ControlShiftRegion, LoaderSizing, MirrorConfig, MirrorConfigInput } from "./types";

/** Fills in defaults. Sections merge one level deep; lists replace the default list. */
export function withDefaults(input: MirrorConfigInput = {}): MirrorConfig {
  const d = defaultConfig(input.prefix ?? DEFAULT_PREFIX);
  const csRegion = (input.controlshift?.region ?? d.controlshift.region) as ControlShiftRegion;
  return {
    prefix: input.prefix ?? d.prefix,
    region: input.region ?? d.region,
    tables: input.tables ?? d.tables,
    extraTables: input.extraTables ?? d.extraTables,
    controlshift: {
      region: csRegion,
      exportBuckets: input.controlshift?.exportBuckets ?? d.controlshift.exportBuckets,
    },
    alertEmails: input.alertEmails ?? d.alertEmails,
    exports: { ...d.exports, ...input.exports },
    logRetentionDays: input.logRetentionDays ?? d.logRetentionDays,
    receiver: { ...d.receiver, ...input.receiver },
    downloader: { ...d.downloader, ...input.downloader },
    secretRecoveryDays: input.secretRecoveryDays ?? d.secretRecoveryDays,
    backend: input.backend ?? d.backend,
    tags: input.tags ?? d.tags,
    network: {
      ...d.network,
      ...input.network,
      // Derived from the region and mode actually chosen, not the default region's.
      availabilityZones:
        input.network?.availabilityZones ??
        defaultAvailabilityZones(input.region ?? d.region, input.warehouse?.mode ?? d.warehouse.mode),
    },
    warehouse: { ...d.warehouse, ...input.warehouse },
    loaders: {
      ...d.loaders,
      ...input.loaders,
      // The default sizing of `signatures` applies only when it is mirrored; a table list of one's own is checked.
      tables:
        input.loaders?.tables ??
        Object.fromEntries(
          Object.entries(d.loaders.tables).filter(([t]) => [...(input.tables ?? d.tables), ...(input.extraTables ?? [])].includes(t)),
        ),
    },
    alerts: { ...d.alerts, ...input.alerts },
  };
}

/** Every table the stack mirrors: `tables`, then `extraTables` (the ones schemas/ does not know yet). */
export function mirroredTables(config: MirrorConfig): readonly string[] {
  return [...config.tables, ...config.extraTables];
}

/** The sizing of one table's loaders: the table's own, else every loader's. */
export function loaderSizing(config: MirrorConfig, table: string): LoaderSizing {
  const own = config.loaders.tables[table] ?? {};
  return {
    memoryMiB: own.memoryMiB ?? config.loaders.memoryMiB,
    timeoutSeconds: own.timeoutSeconds ?? config.loaders.timeoutSeconds,
  };
}
