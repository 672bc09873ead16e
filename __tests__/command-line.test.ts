/** scripts/command-line.ts: node:util parseArgs, with every problem of a command line collected at once. */
import { readCommandLine } from "../scripts/command-line";

const SPEC = { values: ["port", "kind"], flags: ["help", "execute"], short: { h: "help" } };

describe("readCommandLine", () => {
  it("reads positionals, values (--name value and --name=value), flags and short flags", () => {
    const line = readCommandLine(["load", "a.csv", "--port", "8080", "--kind=full", "-h", "--execute", "-"], SPEC);
    expect(line.positionals).toEqual(["load", "a.csv", "-"]);
    expect([...line.values]).toEqual([["port", ["8080"]], ["kind", ["full"]]]);
    expect([...line.flags].sort()).toEqual(["execute", "help"]);
    expect(line.problems).toEqual([]);
  });

  it("lists every problem at once, in order", () => {
    const line = readCommandLine(["--frob", "--execute=yes", "--port", "1", "--port", "2", "-x", "--kind"], SPEC);
    expect(line.problems).toEqual([
      "unknown option --frob",
      "unknown option --execute=yes",
      "--port is given twice",
      "unknown option -x",
      "--kind needs a value",
    ]);
  });

  it("does not take the next option as a value", () => {
    const line = readCommandLine(["--port", "--execute"], SPEC);
    expect(line.problems).toEqual(["--port needs a value"]);
    expect([...line.flags]).toEqual(["execute"]);
  });

  it("keeps every value when asked to", () => {
    expect(readCommandLine(["--kind", "a", "--kind", "b"], { ...SPEC, once: false }).values.get("kind")).toEqual(["a", "b"]);
  });
});
