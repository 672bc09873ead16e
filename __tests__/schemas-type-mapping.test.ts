import {
  TYPE_RULES,
  UNKNOWN_TYPE_FALLBACK,
  matchTypeRule,
  toPostgresType,
  toRedshiftType,
  type ControlShiftColumn,
} from "../schemas/type-mapping";

type Example = readonly [ControlShiftColumn, string];

/** At least one example per row of TYPE_RULES, keyed by the rule's name: input column -> expected Redshift type. */
const EXAMPLES: Readonly<Record<string, readonly Example[]>> = {
  array: [
    [{ type: "integer", sql_type: "integer[]", limit: 4 }, "VARCHAR(MAX)"],
    [{ type: "string", sql_type: "character varying(255)[]" }, "VARCHAR(MAX)"],
    [{ type: "integer", sql_type: "integer", array: true }, "VARCHAR(MAX)"],
  ],
  "timestamp with time zone": [
    [{ type: "datetime", sql_type: "timestamp with time zone" }, "TIMESTAMPTZ"],
    [{ type: "timestamptz", sql_type: "timestamp(6) with time zone" }, "TIMESTAMPTZ"],
    [{ type: "timestamptz" }, "TIMESTAMPTZ"],
  ],
  timestamp: [
    [{ type: "datetime", sql_type: "timestamp(6) without time zone" }, "TIMESTAMP"],
    [{ type: "datetime", sql_type: "timestamp without time zone" }, "TIMESTAMP"],
    [{ type: "datetime", sql_type: "Timestamp (3)  WITHOUT time zone" }, "TIMESTAMP"],
    [{ type: "datetime", sql_type: "timestamp" }, "TIMESTAMP"],
    [{ type: "datetime" }, "TIMESTAMP"],
  ],
  date: [[{ type: "date", sql_type: "date" }, "DATE"]],
  bigint: [
    [{ type: "integer", sql_type: "bigint", limit: 8 }, "BIGINT"],
    [{ type: "bigint", sql_type: "bigint" }, "BIGINT"],
    [{ type: "bigint" }, "BIGINT"],
  ],
  "integer with limit 8": [[{ type: "integer", limit: 8 }, "BIGINT"]],
  smallint: [[{ type: "integer", sql_type: "smallint", limit: 2 }, "SMALLINT"]],
  "integer with limit 2": [[{ type: "integer", limit: 2 }, "SMALLINT"]],
  integer: [
    [{ type: "integer", sql_type: "integer", limit: 4 }, "INTEGER"],
    [{ type: "integer", limit: null }, "INTEGER"],
  ],
  boolean: [[{ type: "boolean", sql_type: "boolean" }, "BOOLEAN"]],
  numeric: [
    [{ type: "decimal", sql_type: "numeric(3,2)" }, "NUMERIC(3,2)"],
    [{ type: "decimal", sql_type: "numeric(13,10)" }, "NUMERIC(13,10)"],
    [{ type: "decimal", sql_type: "numeric(38, 38)" }, "NUMERIC(38,38)"],
    [{ type: "decimal", sql_type: "numeric(10)" }, "NUMERIC(10,0)"],
    [{ type: "decimal", sql_type: "decimal(8,2)" }, "NUMERIC(8,2)"],
    // No lossless Redshift NUMERIC for these: text keeps the exact digits.
    [{ type: "decimal", sql_type: "numeric" }, "VARCHAR(MAX)"],
    [{ type: "decimal", sql_type: "numeric(39,2)" }, "VARCHAR(MAX)"],
    [{ type: "decimal", sql_type: "numeric(3,5)" }, "VARCHAR(MAX)"],
    [{ type: "decimal", sql_type: "numeric(5,-2)" }, "VARCHAR(MAX)"],
    [{ type: "decimal" }, "VARCHAR(MAX)"],
  ],
  "double precision": [
    [{ type: "float", sql_type: "double precision" }, "DOUBLE PRECISION"],
    [{ type: "float" }, "DOUBLE PRECISION"],
  ],
  real: [[{ type: "float", sql_type: "real" }, "REAL"]],
  uuid: [[{ type: "uuid", sql_type: "uuid" }, "CHAR(36)"]],
  geography: [
    [{ type: "geography", sql_type: "geography(Point,4326)" }, "GEOGRAPHY"],
    [{ type: "st_point", sql_type: "geography(Point,4326)" }, "GEOGRAPHY"],
    [{ type: "geography", sql_type: "geography" }, "GEOGRAPHY"],
  ],
  "string-like": [
    [{ type: "string", sql_type: "character varying" }, "VARCHAR(MAX)"],
    [{ type: "string", sql_type: "character varying(255)", limit: 255 }, "VARCHAR(MAX)"],
    [{ type: "text", sql_type: "text" }, "VARCHAR(MAX)"],
    [{ type: "json", sql_type: "json" }, "VARCHAR(MAX)"],
    [{ type: "jsonb", sql_type: "jsonb" }, "VARCHAR(MAX)"],
    [{ type: "hstore", sql_type: "hstore" }, "VARCHAR(MAX)"],
    [{ type: "inet", sql_type: "inet" }, "VARCHAR(MAX)"],
    [{ type: "string", sql_type: "character(2)" }, "VARCHAR(MAX)"],
    // Rails 7 enums: sql_type is the enum's own name, unknown to us; the Rails type says it is text.
    [{ type: "enum", sql_type: "petition_admin_status" }, "VARCHAR(MAX)"],
    [{ type: "string" }, "VARCHAR(MAX)"],
  ],
};

describe("TYPE_RULES", () => {
  it("has examples for every rule, and no examples for a rule that does not exist", () => {
    expect(Object.keys(EXAMPLES).sort()).toEqual(TYPE_RULES.map((r) => r.name).sort());
  });

  it("has unique rule names, each with a reason", () => {
    expect(new Set(TYPE_RULES.map((r) => r.name)).size).toBe(TYPE_RULES.length);
    for (const rule of TYPE_RULES) expect(rule.why.length).toBeGreaterThan(10);
  });

  describe.each(TYPE_RULES.map((rule) => [rule.name] as const))("rule %s", (name) => {
    it.each((EXAMPLES[name] ?? []).map(([column, expected]) => [JSON.stringify(column), column, expected] as const))(
      "maps %s to the expected type through this rule",
      (_label, column, expected) => {
        const match = matchTypeRule(column);
        expect(match.rule?.name).toBe(name);
        expect(match.redshiftType).toBe(expected);
        expect(toRedshiftType(column)).toBe(expected);
      },
    );
  });

  it("only ever produces canonical Redshift types", () => {
    const canonical =
      /^(BIGINT|INTEGER|SMALLINT|BOOLEAN|TIMESTAMP|TIMESTAMPTZ|DATE|NUMERIC\(\d+,\d+\)|DOUBLE PRECISION|REAL|CHAR\(36\)|VARCHAR\(MAX\)|GEOGRAPHY)$/;
    for (const examples of Object.values(EXAMPLES)) {
      for (const [column] of examples) expect(toRedshiftType(column)).toMatch(canonical);
    }
  });
});

describe("unknown types", () => {
  it.each([
    ["time without time zone", { type: "time", sql_type: "time without time zone" }],
    ["money", { type: "money", sql_type: "money" }],
    ["interval", { type: "interval", sql_type: "interval" }],
    ["bytea", { type: "binary", sql_type: "bytea" }],
    ["tsrange", { type: "tsrange", sql_type: "tsrange" }],
    ["a user-defined type with an unknown Rails type", { type: "custom", sql_type: "my_domain" }],
    ["an empty description", {}],
  ] as const)("maps %s to VARCHAR(MAX): any PostgreSQL text output loads into it", (_label, column) => {
    const match = matchTypeRule(column as ControlShiftColumn);
    expect(match.rule).toBeUndefined();
    expect(match.redshiftType).toBe(UNKNOWN_TYPE_FALLBACK);
    expect(UNKNOWN_TYPE_FALLBACK).toBe("VARCHAR(MAX)");
  });

  it("never lets a timestamp precision through, whatever the spelling", () => {
    for (const sqlType of ["timestamp(6) without time zone", "timestamp(0)", "TIMESTAMP(6) WITH TIME ZONE", "timestamptz(3)"]) {
      expect(toRedshiftType({ type: "datetime", sql_type: sqlType })).not.toMatch(/\(/);
    }
  });

  it("prefers sql_type over the Rails type when they disagree", () => {
    expect(toRedshiftType({ type: "integer", sql_type: "bigint", limit: 4 })).toBe("BIGINT");
    expect(toRedshiftType({ type: "string", sql_type: "uuid" })).toBe("CHAR(36)");
  });
});

describe("toPostgresType", () => {
  it.each([
    ["VARCHAR(MAX)", "TEXT"],
    ["varchar(max)", "TEXT"],
    ["GEOGRAPHY", "TEXT"],
    ["BIGINT", "BIGINT"],
    ["INTEGER", "INTEGER"],
    ["SMALLINT", "SMALLINT"],
    ["BOOLEAN", "BOOLEAN"],
    ["TIMESTAMP", "TIMESTAMP"],
    ["TIMESTAMPTZ", "TIMESTAMPTZ"],
    ["DATE", "DATE"],
    ["NUMERIC(3,2)", "NUMERIC(3,2)"],
    ["DOUBLE PRECISION", "DOUBLE PRECISION"],
    ["REAL", "REAL"],
    ["CHAR(36)", "CHAR(36)"],
  ])("maps %s to %s", (redshift, postgres) => {
    expect(toPostgresType(redshift)).toBe(postgres);
  });
});
