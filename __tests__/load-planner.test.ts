/**
 * The load planner, pure: which steps a load takes, in which order, with which guards; and every input it refuses
 * before any SQL exists.
 */
import fc from "fast-check";
import { HostileHeaderError, InvalidHeaderError, LoadPlanError } from "../handlers/load/errors";
import {
  IDENTIFIER_PATTERN,
  type ColumnDef,
  type CopyStep,
  type DeleteReplacedStep,
  type InsertNewStep,
  type LoadStep,
  type RecordLoadStep,
} from "../handlers/load/plan";
import { checkHeader, planLoad, type FileToLoad, type PlanLoadInput } from "../handlers/load/planner";
import { DEFAULT_METADATA_SCHEMA } from "../facts/warehouse";
import { exportKey } from "./load-test-support";

const KNOWN: readonly ColumnDef[] = [
  { name: "id", type: "INTEGER" },
  { name: "text", type: "VARCHAR(MAX)" },
  { name: "approved", type: "BOOLEAN" },
  { name: "flag_recaptcha_score", type: "NUMERIC(3,2)" },
];

function file(kind: "full" | "incremental", time: string, header: string[], bzip2 = false): FileToLoad {
  return { objectKey: exportKey(kind, "comments", time, bzip2), header, compression: bzip2 ? "bzip2" : "none" };
}

function input(overrides: Partial<PlanLoadInput> = {}): PlanLoadInput {
  return {
    schema: "controlshift",
    table: "comments",
    kind: "full",
    files: [file("full", "20240301020304", ["text", "id", "approved"])],
    knownColumns: KNOWN,
    currentColumns: undefined,
    ...overrides,
  };
}

const ops = (steps: readonly LoadStep[]) => steps.map((s) => s.op);

describe("planLoad", () => {
  it("creates a missing table from schemas/, locks it, and stages, copies, merges and records the file", () => {
    const plan = planLoad(input({ loadId: "load-1" }));
    // No schema or metadata DDL in a load: schemas/migrations.ts runs once, before any load.
    expect(plan).not.toHaveProperty("prepare");
    expect(plan.metadata).toEqual({
      schema: DEFAULT_METADATA_SCHEMA,
      ledger: { schema: DEFAULT_METADATA_SCHEMA, name: "load_ledger" },
      tableLedger: { schema: DEFAULT_METADATA_SCHEMA, name: "load_ledger_comments" },
      failures: { schema: DEFAULT_METADATA_SCHEMA, name: "load_failures" },
    });
    expect(ops(plan.transaction)).toEqual([
      "create-table",
      "lock-table",
      "create-stage",
      "copy",
      "delete-replaced",
      "insert-new",
      "record-load",
      "drop-stage",
    ]);
    expect(plan.transaction[0]).toEqual({
      op: "create-table",
      table: { schema: "controlshift", name: "comments" },
      columns: KNOWN,
      from: "schemas",
    });
    expect(plan.createsTable).toBe("schemas");
    expect(plan.addedColumns).toEqual([]);
    const copy = plan.transaction[3] as CopyStep;
    // The COPY column list is the header, in the file's order.
    expect(copy).toEqual({
      op: "copy",
      stage: "cs_stage_1",
      columns: ["text", "id", "approved"],
      objectKey: "exports/full/comments/20240301/comments_20240301020304.csv",
      compression: "none",
    });
    expect(plan.loadId).toBe("load-1");
    expect((plan.transaction[6] as RecordLoadStep).loadId).toBe("load-1");
  });

  it("guards a full export with `a loaded full is newer` (>) and deletes every row up to its time", () => {
    const plan = planLoad(input());
    const del = plan.transaction.find((s) => s.op === "delete-replaced") as DeleteReplacedStep;
    expect(del.scope).toBe("all");
    expect(del.exportedAt).toBe("2024-03-01T02:03:04Z");
    // The stale check reads the table's own ledger only: loads of different tables share nothing.
    expect(del.guard).toEqual({
      ledger: { schema: DEFAULT_METADATA_SCHEMA, name: "load_ledger_comments" },
      table: "comments",
      newerFullOperator: ">",
      exportedAt: "2024-03-01T02:03:04Z",
    });
    const ins = plan.transaction.find((s) => s.op === "insert-new") as InsertNewStep;
    expect(ins.guard).toBe(del.guard);
  });

  it("guards an incremental export with `a loaded full is as new or newer` (>=) and deletes only its ids", () => {
    const plan = planLoad(input({ kind: "incremental", files: [file("incremental", "20240301020304", ["id"])] }));
    const del = plan.transaction.find((s) => s.op === "delete-replaced") as DeleteReplacedStep;
    expect(del.scope).toBe("ids-in-stage");
    expect(del.guard.newerFullOperator).toBe(">=");
  });

  it("creates a table schemas/ does not know from the batch's headers: id BIGINT, the rest VARCHAR(MAX)", () => {
    const plan = planLoad(
      input({
        kind: "incremental",
        knownColumns: undefined,
        files: [file("incremental", "20240301000200", ["id", "b"]), file("incremental", "20240301000100", ["a", "id"])],
      }),
    );
    expect(plan.createsTable).toBe("header");
    expect(plan.transaction[0]).toMatchObject({
      op: "create-table",
      from: "header",
      columns: [
        { name: "a", type: "VARCHAR(MAX)" },
        { name: "id", type: "BIGINT" },
        { name: "b", type: "VARCHAR(MAX)" },
      ],
    });
    expect(plan.addedColumns).toEqual([]);
  });

  it("never counts the BIGINT id of a table made from a header as a value at its VARCHAR limit, on later loads too", () => {
    const limited = (createsTable: boolean) => {
      const plan = planLoad(
        input({
          kind: "incremental",
          knownColumns: undefined,
          currentColumns: createsTable ? undefined : ["id", "b", "_cs_exported_at"],
          files: [file("incremental", "20240301000200", ["id", "b"])],
        }),
      );
      const record = plan.transaction.find((s) => s.op === "record-load") as RecordLoadStep;
      return { createsTable: plan.createsTable, columns: record.limitedColumns.map((c) => c.name) };
    };
    expect(limited(true)).toEqual({ createsTable: "header", columns: ["b"] });
    expect(limited(false)).toEqual({ createsTable: false, columns: ["b"] });
  });

  it("adds the columns a file brings and the table lacks, as VARCHAR(MAX), and lists them", () => {
    const plan = planLoad(
      input({
        currentColumns: ["id", "text", "_cs_exported_at"],
        files: [file("full", "20240301020304", ["id", "text", "sentiment", "approved"])],
      }),
    );
    expect(plan.createsTable).toBe(false);
    expect(plan.addedColumns).toEqual([
      { name: "sentiment", type: "VARCHAR(MAX)" },
      { name: "approved", type: "VARCHAR(MAX)" },
    ]);
    expect(ops(plan.transaction).slice(0, 3)).toEqual(["lock-table", "add-column", "add-column"]);
  });

  it("adds the columns a file brings beyond schemas/ when it creates the table from schemas/", () => {
    const plan = planLoad(input({ files: [file("full", "20240301020304", ["id", "text", "sentiment"])] }));
    expect(ops(plan.transaction).slice(0, 3)).toEqual(["create-table", "lock-table", "add-column"]);
    expect(plan.addedColumns).toEqual([{ name: "sentiment", type: "VARCHAR(MAX)" }]);
  });

  it("adds _cs_exported_at to a table adopted from an earlier tool", () => {
    const plan = planLoad(input({ currentColumns: ["id", "text", "approved"] }));
    expect(plan.addedColumns).toEqual([{ name: "_cs_exported_at", type: "TIMESTAMP" }]);
  });

  it("orders a batch by export time, loads a key delivered twice once, and gives each file its own stage", () => {
    const a = file("incremental", "20240301000100", ["id"]);
    const b = file("incremental", "20240301000300", ["id"]);
    const c = file("incremental", "20240301000200", ["id"], true);
    const plan = planLoad(input({ kind: "incremental", files: [b, a, c, b] }));
    expect(plan.files.map((f) => [f.objectKey, f.stage, f.compression])).toEqual([
      [a.objectKey, "cs_stage_1", "none"],
      [c.objectKey, "cs_stage_2", "bzip2"],
      [b.objectKey, "cs_stage_3", "none"],
    ]);
    expect(plan.transaction.filter((s) => s.op === "copy").map((s) => (s as CopyStep).stage)).toEqual([
      "cs_stage_1",
      "cs_stage_2",
      "cs_stage_3",
    ]);
  });

  it("never truncates: no step empties a table except by the guarded delete", () => {
    const plan = planLoad(input());
    expect(JSON.stringify(plan)).not.toMatch(/truncate/i);
  });

  it("derives a default load id from the batch's identity (the same for a redelivery)", () => {
    const one = planLoad(input());
    const two = planLoad(input());
    expect(one.loadId).toMatch(/^full-comments-[0-9a-f]{32}$/);
    expect(two.loadId).toBe(one.loadId);
    expect(planLoad(input({ files: [file("full", "20240302020304", ["id"])] })).loadId).not.toBe(one.loadId);
  });

  it("is deterministic", () => {
    expect(planLoad(input())).toEqual(planLoad(input()));
  });

  describe("refuses, before any SQL exists", () => {
    it.each([
      ["an injection attempt", ["id", "id; DROP TABLE x"], "id; DROP TABLE x"],
      ["a double quote", ["id", 'te"xt'], 'te"xt'],
      ["a single quote", ["id", "te'xt"], "te'xt"],
      ["upper case", ["ID"], "ID"],
      ["a space", ["id", "first name"], "first name"],
      ["a leading digit", ["id", "1st"], "1st"],
      ["128 characters", ["id", "a".repeat(128)], "a".repeat(128)],
      ["200 characters", ["id", "b".repeat(200)], "b".repeat(200)],
      ["an empty name", ["id", ""], ""],
      ["a non-ASCII letter", ["id", "naïve"], "naïve"],
      ["a newline", ["id", "a\nb"], "a\nb"],
    ])("a header column with %s (HostileHeaderError naming it)", (_what, header, column) => {
      let error: unknown;
      try {
        planLoad(input({ files: [file("full", "20240301020304", header)] }));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(HostileHeaderError);
      expect(error).toBeInstanceOf(InvalidHeaderError);
      expect((error as HostileHeaderError).column).toBe(column);
      expect((error as Error).message).toContain("exports/full/comments/20240301/comments_20240301020304.csv");
    });

    it("accepts a 127-character column name (Redshift's limit)", () => {
      expect(() => planLoad(input({ files: [file("full", "20240301020304", ["id", "c".repeat(127)])] }))).not.toThrow();
    });

    it.each([
      ["a duplicate column", ["id", "text", "text"], "text"],
      ["no id column", ["text"], "id"],
      ["the mirror's own column", ["id", "_cs_exported_at"], "_cs_exported_at"],
      ["an empty header", [], undefined],
      ["an empty first line", [""], undefined],
    ])("a header with %s (InvalidHeaderError)", (_what, header, column) => {
      let error: unknown;
      try {
        planLoad(input({ files: [file("full", "20240301020304", header)] }));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidHeaderError);
      expect(error).not.toBeInstanceOf(HostileHeaderError);
      expect((error as InvalidHeaderError).column).toBe(column);
    });

    it("shortens a huge hostile name in the message", () => {
      expect(() => checkHeader(["id", `x"${"y".repeat(100_000)}`])).toThrow(/\.\.\." \(100002 characters\)/);
    });

    it.each([
      ["a table outside TABLE_NAME_PATTERN", { table: "comments; DROP TABLE x" }],
      ["a table with upper case", { table: "Comments" }],
      ["a bad data schema", { schema: 'x"y' }],
      ["a bad metadata schema", { metadataSchema: "meta data" }],
      ["no files", { files: [] }],
      ["a load id with a quote", { loadId: "it's" }],
      ["a schemas/ type that is not a type", { knownColumns: [{ name: "id", type: "BIGINT); DROP TABLE x; --" }] }],
      ["a schemas/ column that is not an identifier", { knownColumns: [{ name: "Id", type: "BIGINT" }] }],
      [
        "an object key of another table",
        { files: [{ objectKey: exportKey("full", "petitions", "20240301020304"), header: ["id"], compression: "none" as const }] },
      ],
      ["an object key of another kind", { files: [file("incremental", "20240301020304", ["id"])] }],
      [
        "an object key outside the layout",
        { files: [{ objectKey: "exports/full/comments/20240301/comments_20240301020304.csv'; DROP TABLE x; --", header: ["id"], compression: "none" as const }] },
      ],
      [
        "an export time that is not the key's",
        { files: [{ ...file("full", "20240301020304", ["id"]), exportedAt: "2024-03-01T02:03:05Z" }] },
      ],
      [
        "a .bz2 key said to be uncompressed",
        { files: [{ ...file("full", "20240301020304", ["id"], true), compression: "none" as const }] },
      ],
    ])("%s (LoadPlanError)", (_what, overrides) => {
      expect(() => planLoad(input(overrides as Partial<PlanLoadInput>))).toThrow(LoadPlanError);
    });
  });

  it("property: any header either plans with plain identifiers only, or is refused with InvalidHeaderError", () => {
    const name = fc.oneof(
      fc.constantFrom("id", "text", "approved", "a_b", "_x", "id2"),
      fc.string({ unit: fc.constantFrom("a", "z", "_", "1", "A", " ", '"', "'", ";", "-", "\n", "é", "\\"), maxLength: 8 }),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(fc.array(name, { maxLength: 8 }), fc.constantFrom<"full" | "incremental">("full", "incremental"), (header, kind) => {
        let plan;
        try {
          plan = planLoad(input({ kind, files: [file(kind, "20240301020304", header)] }));
        } catch (err) {
          expect(err).toBeInstanceOf(InvalidHeaderError);
          const emptyLine = header.length === 1 && header[0] === "";
          if (!emptyLine && header.some((c) => !IDENTIFIER_PATTERN.test(c))) expect(err).toBeInstanceOf(HostileHeaderError);
          return;
        }
        for (const step of plan.transaction) {
          const names =
            step.op === "copy" || step.op === "insert-new" || step.op === "create-stage"
              ? step.columns
              : step.op === "add-column"
                ? [step.column.name]
                : step.op === "create-table"
                  ? step.columns.map((c) => c.name)
                  : [];
          for (const n of names) expect(n).toMatch(IDENTIFIER_PATTERN);
        }
      }),
      { numRuns: 500 },
    );
  });
});
