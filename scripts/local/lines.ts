/**
 * What the local runner prints: one aligned line per step of each file (webhook, download, load), and query results
 * as psql prints them.
 *
 *   02:03:05  webhook   petitions            full         petitions_20240301020304.csv         200        -  queued
 *   02:03:05  download  petitions            full         petitions_20240301020304.csv      1.2 KiB   0.02 s  stored
 *   02:03:06  load      petitions            full         petitions_20240301020304.csv       3 rows   0.41 s  loaded
 */
import type { SqlResult } from "./mirror";

export type Step = "webhook" | "download" | "load" | "event";

export interface Progress {
  readonly step: Step;
  readonly table?: string;
  readonly kind?: string;
  readonly file?: string;
  /** `200`, `1.2 KiB`, `3 rows`. */
  readonly amount?: string;
  readonly seconds?: number;
  /** `queued`, `stored`, `loaded`, `skipped-stale`, `FAILED`, `DEAD LETTER`... */
  readonly outcome: string;
  /** After the outcome: a reason, a retry. */
  readonly detail?: string;
}

function clock(now: Date): string {
  return now.toTimeString().slice(0, 8);
}

export function formatProgress(p: Progress, now: Date = new Date()): string {
  const cells = [
    clock(now),
    p.step.padEnd(8),
    (p.table ?? "-").padEnd(20),
    (p.kind ?? "-").padEnd(11),
    (p.file ?? "-").padEnd(34),
    (p.amount ?? "-").padStart(10),
    (p.seconds === undefined ? "-" : `${p.seconds.toFixed(2)} s`).padStart(8),
    p.outcome,
  ];
  return cells.join("  ") + (p.detail ? `: ${p.detail}` : "");
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

export function formatRows(rows: number): string {
  return `${rows} ${rows === 1 ? "row" : "rows"}`;
}

/** A result as psql's aligned format: header, rule, rows, `(n rows)`; NULL printed empty. */
export function formatSqlResult(result: SqlResult): string {
  if (result.columns.length === 0) {
    return result.affectedRows === undefined ? "OK" : `OK, ${formatRows(result.affectedRows)} affected`;
  }
  const cell = (value: string | null) => (value ?? "").replace(/\r?\n/g, "\\n");
  const widths = result.columns.map((name, i) =>
    Math.max(name.length, ...result.rows.map((row) => cell(row[i] ?? null).length)),
  );
  const line = (values: readonly string[]) => ` ${values.map((v, i) => v.padEnd(widths[i])).join(" | ")}`.trimEnd();
  return [
    line(result.columns.map((name, i) => name.padStart(Math.floor((widths[i] + name.length) / 2)))),
    widths.map((w) => "-".repeat(w + 2)).join("+"),
    ...result.rows.map((row) => line(row.map(cell))),
    `(${formatRows(result.rows.length)})`,
  ].join("\n");
}
