/**
 * scripts/tools.ts: a missing program skips its check with a loud SKIPPED line outside CI, and fails the run under CI
 * naming the install step.
 */
import { MissingToolError, TOOLS, isCi, toolAvailable } from "../scripts/tools";

describe("tools", () => {
  const missing = jest.spyOn(TOOLS.bzip2, "found");
  afterEach(() => missing.mockReset());
  afterAll(() => missing.mockRestore());

  it("reads CI as every CI service sets it", () => {
    expect([isCi({ CI: "true" }), isCi({ CI: "1" }), isCi({ CI: "TRUE" })]).toEqual([true, true, true]);
    expect([isCi({}), isCi({ CI: "" }), isCi({ CI: "false" }), isCi({ CI: "0" })]).toEqual([false, false, false, false]);
  });

  it("answers true when the program is there, in CI or not", () => {
    missing.mockReturnValue(true);
    expect(toolAvailable("bzip2", "x", { env: { CI: "true" } })).toBe(true);
    expect(toolAvailable("bzip2", "x", { env: {} })).toBe(true);
  });

  it("skips loudly outside CI", () => {
    missing.mockReturnValue(false);
    const lines: string[] = [];
    expect(toolAvailable("bzip2", "the bzip2 tests", { env: {}, log: (l) => lines.push(l) })).toBe(false);
    expect(lines).toEqual(["SKIPPED: the bzip2 tests (bzip2 not found: apt-get install -y bzip2)"]);
  });

  it("fails under CI, naming the install step", () => {
    missing.mockReturnValue(false);
    expect(() => toolAvailable("bzip2", "the bzip2 tests", { env: { CI: "true" } })).toThrow(
      new MissingToolError("bzip2 not found, and CI never skips the bzip2 tests: apt-get install -y bzip2"),
    );
  });

  it("names an install step for every program", () => {
    for (const tool of Object.values(TOOLS)) expect(tool.install).toMatch(/install/);
  });
});
