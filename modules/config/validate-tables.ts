/** tables, extraTables and loaders: what is mirrored, and how each table's loaders are sized. */
import { CONTROLSHIFT_TABLES } from "../../schemas/controlshift-tables";
import { TABLE_NAME_PATTERN } from "../../facts/exports";
import type { Checker } from "./checker";
import { loaderFunctionName } from "./naming";
import { didYouMean } from "./suggest";
import type { MirrorConfig } from "./types";

const TABLE_PATTERN_RULE = "lower-case letters, digits and _, starting with a letter, at most 63 characters";

export function checkTables(c: Checker, config: MirrorConfig): void {
  const extra = Array.isArray(config.extraTables) ? config.extraTables : [];
  if (!Array.isArray(config.tables) || (config.tables.length === 0 && extra.length === 0)) {
    c.add("tables", config.tables, "must list at least one ControlShift table");
  } else {
    const seen = new Set<string>();
    config.tables.forEach((t, i) => {
      if (typeof t !== "string" || !TABLE_NAME_PATTERN.test(t)) {
        c.add(`tables[${i}]`, t, `must be a ControlShift table name: ${TABLE_PATTERN_RULE}`);
      } else if (seen.has(t)) {
        c.add(`tables[${i}]`, t, "is listed twice");
      } else if (!CONTROLSHIFT_TABLES.includes(t)) {
        const hint = didYouMean(t, CONTROLSHIFT_TABLES);
        c.add(
          `tables[${i}]`,
          t,
          `is not a ControlShift table this project knows (schemas/controlshift-tables.ts): ${hint ? `${hint} A` : "a"} ` +
            "table ControlShift added after schemas/ was generated goes in extraTables (see help, Config: extraTables)",
        );
      }
      seen.add(t);
    });
  }
  if (!Array.isArray(config.extraTables)) {
    c.add("extraTables", config.extraTables, 'must be a list of table names, such as ["new_table"] (empty for none)');
    return;
  }
  const listed = new Set(Array.isArray(config.tables) ? config.tables : []);
  const seen = new Set<string>();
  config.extraTables.forEach((t, i) => {
    if (typeof t !== "string" || !TABLE_NAME_PATTERN.test(t)) {
      c.add(`extraTables[${i}]`, t, `must be a table name: ${TABLE_PATTERN_RULE}`);
    } else if (CONTROLSHIFT_TABLES.includes(t)) {
      c.add(
        `extraTables[${i}]`,
        t,
        `is a ControlShift table this project knows: list it in tables instead (its real column types)${listed.has(t) ? "; it is in tables already" : ""}`,
      );
    } else if (seen.has(t)) {
      c.add(`extraTables[${i}]`, t, "is listed twice");
    }
    seen.add(t);
  });
}

const SCHEMA_NAME_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

export function checkLoaders(c: Checker, config: MirrorConfig): void {
  const l = config.loaders;
  for (const field of ["dataSchema", "metadataSchema"] as const) {
    if (typeof l[field] !== "string" || !SCHEMA_NAME_PATTERN.test(l[field])) {
      c.add(`loaders.${field}`, l[field], "must be a schema name: lower-case letters, digits and _, not starting with a digit, at most 63 characters");
    }
  }
  if (l.dataSchema === l.metadataSchema) {
    c.add("loaders.metadataSchema", l.metadataSchema, "must differ from loaders.dataSchema (a ControlShift table could be named like the ledger)");
  }
  c.sizing("loaders", l);
  const mirrored = [...(Array.isArray(config.tables) ? config.tables : []), ...(Array.isArray(config.extraTables) ? config.extraTables : [])];
  for (const [table, sizing] of Object.entries(l.tables ?? {})) {
    if (!mirrored.includes(table)) {
      c.add(`loaders.tables.${table}`, sizing, "names a table that is not in tables or extraTables: size only tables you mirror");
      continue;
    }
    if (sizing.memoryMiB !== undefined) c.integer(`loaders.tables.${table}.memoryMiB`, sizing.memoryMiB, 128, 10240);
    if (sizing.timeoutSeconds !== undefined) c.integer(`loaders.tables.${table}.timeoutSeconds`, sizing.timeoutSeconds, 1, 900);
  }
  // SQS event sources take at most 10 messages a batch with a batching window, at most 300 s of window.
  c.integer("loaders.incrementalBatchSize", l.incrementalBatchSize, 1, 10);
  c.integer("loaders.incrementalBatchingWindowSeconds", l.incrementalBatchingWindowSeconds, 0, 300);
  c.integer("loaders.maxReceiveCount", l.maxReceiveCount, 1, 1000);
  if (typeof config.prefix === "string") {
    for (const field of ["tables", "extraTables"] as const) {
      for (const table of Array.isArray(config[field]) ? config[field] : []) {
        const name = loaderFunctionName(config.prefix, "incremental", String(table));
        if (name.length > 64) {
          c.add(field, table, `gives the loader name ${JSON.stringify(name)}, longer than Lambda's 64 characters: use a shorter prefix`);
        }
      }
    }
  }
}
