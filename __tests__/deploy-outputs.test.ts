/**
 * After `npm run deploy` (and with `npm run outputs`), the operator sees each output's value with its description:
 * what to paste into ControlShift, which secret to fill. `terraform output` shows values only.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { cdktfEnvironment, operatorOutputs } from "../scripts/cdktf";
import { synthStack } from "./helpers/synth";

describe("the outputs printed after deploy", () => {
  const tf = synthStack({ tables: ["petitions"] });

  it("prints every output's value with its description under it", () => {
    const text = operatorOutputs("test", tf, {
      test: { webhook_url: "https://abc123.execute-api.us-east-1.amazonaws.com/webhook", signing_secret_name: "cs-mirror/webhook-signing-secret" },
    });
    const lines = text.split("\n");
    const at = lines.indexOf("  webhook_url = https://abc123.execute-api.us-east-1.amazonaws.com/webhook");
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toMatch(/^ {6}Paste into ControlShift: Settings > Integrations > Webhooks/);
    const secret = lines.indexOf("  signing_secret_name = cs-mirror/webhook-signing-secret");
    expect(lines[secret + 1]).toContain("aws secretsmanager put-secret-value");
    // Every output of the stack is listed, with a description.
    for (const name of Object.keys(tf.output)) {
      expect(text).toContain(`  ${name} = `);
      expect(tf.output[name].description).toBeTruthy();
    }
    expect(text).toContain("  exports_bucket = (no value yet: deploy first)");
  });

  it("runs the project's cdktf-cli with the checkpoint call disabled", () => {
    expect(cdktfEnvironment({ PATH: "/bin" })).toEqual({ PATH: "/bin", CHECKPOINT_DISABLE: "1" });
    expect(cdktfEnvironment({ CHECKPOINT_DISABLE: "" }).CHECKPOINT_DISABLE).toBe("1");
    const run = spawnSync(process.execPath, [require.resolve("tsx/cli"), join(__dirname, "..", "scripts", "cdktf.ts"), "--version"], {
      encoding: "utf8",
      env: { ...process.env, CHECKPOINT_DISABLE: "" },
    });
    expect(run.stdout.split("\n")[0].trim()).toBe("0.21.0");
    expect(run.stderr).not.toMatch(/checkpoint/i);
  });
});
