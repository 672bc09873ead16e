/**
 * From a column of ControlShift's `schema.json` to the type the mirror gives it in Amazon Redshift (and, from that,
 * in PostgreSQL).
 *
 * ControlShift's `GET /api/bulk_data/schema.json` describes each column as Rails' ActiveRecord sees it:
 * `{"type": "datetime", "sql_type": "timestamp(6) without time zone", "limit": null, "nullable": true, "default_value": null}`.
 * `sql_type` is the PostgreSQL type of ControlShift's own database and is the more precise of the two, so the rules
 * match it first; `type` (Rails' abstract type) is only consulted when no rule recognises `sql_type`.
 *
 * The values we load are ControlShift's CSV text, i.e. PostgreSQL's text output of each value. Every mapping below
 * must accept that text through `COPY ... CSV`; when in doubt a type maps to `VARCHAR(MAX)`, which accepts any text
 * (up to Redshift's 65,535-byte limit) and loses nothing: a reader can still cast it. That is why unknown types
 * map to `VARCHAR(MAX)` instead of failing the generator: a new PostgreSQL type on ControlShift's side must not stop
 * an operator from regenerating `schemas/`, and a wrong narrow type would make every load of the table fail.
 *
 * `nullable` and `default_value` are deliberately ignored: every mirror column is nullable (columns disappear from
 * the files over time and then stay NULL), and a default would invent values for columns a file does not carry.
 */

/** One column as ControlShift's `schema.json` describes it. Fields other than these are ignored. */
export interface ControlShiftColumn {
  /** Rails' abstract type: `string`, `text`, `integer`, `datetime`, `decimal`, `uuid`, `jsonb`, ... */
  readonly type?: string | null;
  /** ControlShift's PostgreSQL type: `character varying`, `timestamp(6) without time zone`, `numeric(3,2)`, ... */
  readonly sql_type?: string | null;
  /** Rails' limit: bytes for integers (8 for `bigint`), characters for strings. */
  readonly limit?: number | null;
  readonly nullable?: boolean | null;
  readonly default_value?: unknown;
  /**
   * Not part of the format we have seen, honoured if present. Rails' PostgreSQL adapter strips the `[]` of an
   * array column's `sql_type` and reports `array: true` instead; a serializer that passes that flag on should not
   * get `integer[]` mapped to `INTEGER`.
   */
  readonly array?: boolean | null;
}

/** The type every string-like, structured, array or unknown column gets. Redshift counts VARCHAR length in bytes. */
export const VARCHAR_MAX = "VARCHAR(MAX)";

/** Redshift's largest NUMERIC precision (https://docs.aws.amazon.com/redshift/latest/dg/r_Numeric_types201.html). */
export const REDSHIFT_MAX_NUMERIC_PRECISION = 38;

/**
 * One row of the mapping. A column matches a rule by `sqlType` (tested on the lower-cased, whitespace-collapsed
 * `sql_type`), or, when no rule matches its `sql_type`, by `types` (Rails' `type`, plus `limit` when given).
 */
export interface TypeRule {
  /** Short, stable name: tests and `matchTypeRule` refer to it. */
  readonly name: string;
  readonly sqlType?: RegExp;
  readonly types?: readonly string[];
  /** With `types`: the rule applies only to this Rails `limit` (Rails reports `bigint` as type `integer`, limit 8). */
  readonly limit?: number;
  /** The Redshift type, or a function of the normalised `sql_type` (for NUMERIC's precision and scale). */
  readonly redshift: string | ((sqlType: string) => string);
  /** Why this mapping: what ControlShift sends and what Redshift accepts. */
  readonly why: string;
}

/**
 * `numeric(p,s)` keeps its precision and scale when Redshift can hold them (1 <= p <= 38, 0 <= s <= p).
 * Anything else -- an unconstrained `numeric` (Redshift's default NUMERIC(18,0) would silently drop the decimals),
 * p > 38, or PostgreSQL 15's negative scales -- has no lossless NUMERIC in Redshift, so it stays text.
 */
function numericType(sqlType: string): string {
  const m = /^(?:numeric|decimal)\((\d+)(?:,(\d+))?\)$/.exec(sqlType.replace(/\s+/g, ""));
  if (!m) return VARCHAR_MAX;
  const precision = Number(m[1]);
  const scale = m[2] === undefined ? 0 : Number(m[2]);
  if (precision < 1 || precision > REDSHIFT_MAX_NUMERIC_PRECISION || scale > precision) return VARCHAR_MAX;
  return `NUMERIC(${precision},${scale})`;
}

/** The mapping, first match wins (arrays first: `integer[]` must not become INTEGER). One test per row. */
export const TYPE_RULES: readonly TypeRule[] = [
  {
    name: "array",
    sqlType: /\[\]$/,
    redshift: VARCHAR_MAX,
    why: "PostgreSQL writes arrays as `{1,2,3}` text; Redshift has no array column type (SUPER would need JSON input).",
  },
  {
    name: "timestamp with time zone",
    sqlType: /^(?:timestamp(?:\s?\(\d+\))? with time zone|timestamptz(?:\s?\(\d+\))?)$/,
    types: ["timestamptz"],
    redshift: "TIMESTAMPTZ",
    why:
      "The text carries an offset (`+00`); Redshift's TIMESTAMP would drop it, TIMESTAMPTZ keeps the instant. " +
      "Precision is dropped: Redshift accepts no `(6)`.",
  },
  {
    name: "timestamp",
    sqlType: /^timestamp(?:\s?\(\d+\))?(?: without time zone)?$/,
    types: ["datetime", "timestamp"],
    redshift: "TIMESTAMP",
    why: "Redshift rejects `timestamp(6)`; its TIMESTAMP already keeps microseconds.",
  },
  {
    name: "date",
    sqlType: /^date$/,
    types: ["date"],
    redshift: "DATE",
    why: "Same type in Redshift.",
  },
  {
    name: "bigint",
    sqlType: /^(?:bigint|int8|bigserial|serial8)$/,
    types: ["bigint"],
    redshift: "BIGINT",
    why: "Same type in Redshift.",
  },
  {
    name: "integer with limit 8",
    types: ["integer"],
    limit: 8,
    redshift: "BIGINT",
    why: "Rails reports a bigint column as type `integer` with limit 8 (bytes).",
  },
  {
    name: "smallint",
    sqlType: /^(?:smallint|int2|smallserial|serial2)$/,
    types: ["smallint"],
    redshift: "SMALLINT",
    why: "Same type in Redshift.",
  },
  {
    name: "integer with limit 2",
    types: ["integer"],
    limit: 2,
    redshift: "SMALLINT",
    why: "Rails reports a smallint column as type `integer` with limit 2 (bytes).",
  },
  {
    name: "integer",
    sqlType: /^(?:integer|int|int4|serial|serial4)$/,
    types: ["integer"],
    redshift: "INTEGER",
    why: "Same type in Redshift.",
  },
  {
    name: "boolean",
    sqlType: /^(?:boolean|bool)$/,
    types: ["boolean"],
    redshift: "BOOLEAN",
    why: "Redshift's COPY reads PostgreSQL's `t`/`f`.",
  },
  {
    name: "numeric",
    sqlType: /^(?:numeric|decimal)(?:\s?\(\s*-?\d+\s*(?:,\s*-?\d+\s*)?\))?$/,
    types: ["decimal"],
    redshift: numericType,
    why: "Keeps precision and scale when Redshift can (p <= 38, 0 <= s <= p); otherwise text, which loses nothing.",
  },
  {
    name: "double precision",
    sqlType: /^(?:double precision|float8|float)$/,
    types: ["float"],
    redshift: "DOUBLE PRECISION",
    why: "Same type in Redshift. Rails' `float` is PostgreSQL's double precision.",
  },
  {
    name: "real",
    sqlType: /^(?:real|float4)$/,
    redshift: "REAL",
    why: "Same type in Redshift.",
  },
  {
    name: "uuid",
    sqlType: /^uuid$/,
    types: ["uuid"],
    redshift: "CHAR(36)",
    why: "Redshift has no UUID type; the canonical text form is 36 ASCII characters.",
  },
  {
    name: "geography",
    sqlType: /^geography(?:\s?\(.*\))?$/,
    types: ["geography"],
    redshift: "GEOGRAPHY",
    why:
      "PostGIS writes hex EWKB, which Redshift's COPY reads into GEOGRAPHY (SRID 4326, as ControlShift's " +
      "`geography(Point,4326)`).",
  },
  {
    name: "string-like",
    sqlType:
      /^(?:character varying|varchar|character|char|bpchar|text|citext|json|jsonb|hstore|inet|cidr|macaddr|xml|tsvector)(?:\s?\(\d+\))?$/,
    types: ["string", "text", "citext", "json", "jsonb", "hstore", "enum", "inet", "cidr", "xml"],
    redshift: VARCHAR_MAX,
    why:
      "Redshift measures VARCHAR in bytes, not characters, so a PostgreSQL `varchar(255)` of multi-byte text " +
      "can exceed VARCHAR(255); JSON, hstore, enums and network addresses are text too.",
  },
];

/** What an unrecognised type becomes. See the module comment for why this is safe. */
export const UNKNOWN_TYPE_FALLBACK = VARCHAR_MAX;

export interface TypeMatch {
  /** The rule that matched, or `undefined` when the column fell through to `UNKNOWN_TYPE_FALLBACK`. */
  readonly rule: TypeRule | undefined;
  readonly redshiftType: string;
}

/** `"Timestamp(6)  Without Time Zone"` -> `"timestamp(6) without time zone"`. */
function normaliseSqlType(column: ControlShiftColumn): string {
  const raw = typeof column.sql_type === "string" ? column.sql_type : "";
  const sqlType = raw.trim().toLowerCase().replace(/\s+/g, " ");
  // Rails strips `[]` from an array column's sql_type and flags it instead: put the suffix back.
  return column.array === true && sqlType !== "" && !sqlType.endsWith("[]") ? `${sqlType}[]` : sqlType;
}

function apply(rule: TypeRule, sqlType: string): string {
  return typeof rule.redshift === "string" ? rule.redshift : rule.redshift(sqlType);
}

/** The rule a column matches (by `sql_type` first, then by Rails `type`), and the Redshift type it gets. */
export function matchTypeRule(column: ControlShiftColumn): TypeMatch {
  const sqlType = normaliseSqlType(column);
  if (column.array === true) {
    const arrayRule = TYPE_RULES.find((r) => r.name === "array");
    if (arrayRule) return { rule: arrayRule, redshiftType: apply(arrayRule, sqlType) };
  }
  if (sqlType !== "") {
    const bySql = TYPE_RULES.find((r) => r.sqlType?.test(sqlType));
    if (bySql) return { rule: bySql, redshiftType: apply(bySql, sqlType) };
  }
  const type = typeof column.type === "string" ? column.type.trim().toLowerCase() : "";
  if (type !== "") {
    const byType = TYPE_RULES.find(
      (r) => r.types?.includes(type) && (r.limit === undefined || r.limit === column.limit),
    );
    // The Rails type only says "decimal": without the sql_type's precision there is no safe NUMERIC.
    if (byType) return { rule: byType, redshiftType: apply(byType, "") };
  }
  return { rule: undefined, redshiftType: UNKNOWN_TYPE_FALLBACK };
}

/** The canonical Redshift type of a ControlShift column: `BIGINT`, `TIMESTAMP`, `NUMERIC(3,2)`, `VARCHAR(MAX)`, ... */
export function toRedshiftType(column: ControlShiftColumn): string {
  return matchTypeRule(column).redshiftType;
}

/**
 * The PostgreSQL type for the PostgreSQL adapter, from a canonical Redshift type: `VARCHAR(MAX)` is Redshift-only
 * syntax, and `GEOGRAPHY` needs PostGIS, which PGlite lacks (the hex EWKB text loads as TEXT). Everything else
 * this module produces is spelled the same in both.
 */
export function toPostgresType(redshiftType: string): string {
  const t = redshiftType.trim().toUpperCase();
  if (t === VARCHAR_MAX || t === "GEOGRAPHY") return "TEXT";
  return redshiftType;
}
