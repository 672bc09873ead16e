import { CONTROLSHIFT_TABLES } from "../schemas/controlshift-tables";
import { defaultConfig, resolveConfig, validateConfig, withDefaults } from "../modules/config";
import { problemsOf } from "./helpers/config";


describe("deployment config", () => {
  it("resolves an empty config to the defaults: every table ControlShift exports today, both production buckets, local state", () => {
    const config = resolveConfig({});
    expect(config).toEqual(defaultConfig());
    expect(config.tables).toHaveLength(63);
    expect(config.tables).toEqual(CONTROLSHIFT_TABLES);
    expect(config.controlshift.exportBuckets).toEqual(["agra-data-exports-production", "agra-data-exports-production-eu-central-1"]);
    expect(config.backend).toEqual({ type: "local" });
  });

  it("fills a section field by field and takes lists whole", () => {
    const config = resolveConfig({ downloader: { timeoutSeconds: 600 }, tables: ["petitions"], controlshift: { region: "eu" } });
    expect(config.downloader).toEqual({ ...defaultConfig().downloader, timeoutSeconds: 600 });
    expect(config.tables).toEqual(["petitions"]);
    // Both production buckets, whatever controlshift.region says.
    expect(config.controlshift.exportBuckets).toEqual(["agra-data-exports-production", "agra-data-exports-production-eu-central-1"]);
  });

  it("accepts ControlShift's staging bucket when listed explicitly", () => {
    expect(problemsOf({ controlshift: { exportBuckets: ["agra-data-exports-staging"] } })).toEqual([]);
  });

  it("reports every problem at once, each naming the field, the value and what is allowed", () => {
    const problems = problemsOf({
      prefix: "CS_Mirror",
      region: "mars-1",
      tables: ["petitions", "Petitions; DROP", "petitions"],
      controlshift: { exportBuckets: ["evil-bucket"] },
      alertEmails: ["not-an-address"],
      logRetentionDays: 42,
      exports: { expireAfterDays: 0 },
      receiver: { timeoutSeconds: 60 },
      downloader: { partSizeMiB: 1, maxConcurrency: 1 },
      secretRecoveryDays: 3,
    });
    expect(problems).toEqual([
      'prefix is "CS_Mirror": must be 3 to 20 characters of a-z, 0-9 and -, starting with a letter, not ending with -',
      'region is "mars-1": must be an AWS region code such as us-east-1 or eu-central-1',
      'tables[1] is "Petitions; DROP": must be a ControlShift table name: lower-case letters, digits and _, starting with a letter, at most 63 characters',
      'tables[2] is "petitions": is listed twice',
      'controlshift.exportBuckets[0] is "evil-bucket": is not a ControlShift export bucket; known: agra-data-exports-production, agra-data-exports-production-eu-central-1, agra-data-exports-staging',
      'alertEmails[0] is "not-an-address": must be an e-mail address',
      "exports.expireAfterDays is 0: must be a whole number from 1 to 3650",
      "logRetentionDays is 42: must be one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
      "receiver.timeoutSeconds is 60: must be a whole number from 1 to 29",
      "downloader.partSizeMiB is 1: must be a whole number from 5 to 512",
      "downloader.maxConcurrency is 1: must be a whole number from 2 to 1000",
      "secretRecoveryDays is 3: must be 0 (delete at once) or from 7 to 30 (Secrets Manager's range)",
    ]);
  });

  it("explains what to do in the error message", () => {
    expect(() => resolveConfig({ region: "nowhere" })).toThrow(
      /The deployment config has 1 problem:\n {2}- region is "nowhere": .*\nFix them in config\.ts/,
    );
  });

  it("refuses an empty table list and an empty bucket list", () => {
    expect(problemsOf({ tables: [], controlshift: { exportBuckets: [] } })).toEqual([
      "tables is []: must list at least one ControlShift table",
      "controlshift.exportBuckets is []: must list at least one of agra-data-exports-production, agra-data-exports-production-eu-central-1, agra-data-exports-staging",
    ]);
  });

  it("refuses a downloader too small for its upload buffers", () => {
    expect(problemsOf({ downloader: { memoryMiB: 256, partSizeMiB: 16, uploadQueueSize: 8 } })).toEqual([
      "downloader.memoryMiB is 256: must be at least partSizeMiB x (uploadQueueSize + 1) + 128 = 272 for the upload buffers",
    ]);
  });

  it("checks the backend of each kind", () => {
    expect(problemsOf({ backend: { type: "local", path: "/abs/state.tfstate" } })).toEqual([
      'backend.path is "/abs/state.tfstate": must be a relative path, so the synthesized stack does not depend on this machine',
    ]);
    expect(problemsOf({ backend: { type: "s3", bucket: "UPPER", region: "x" } })).toEqual([
      'backend.bucket is "UPPER": must be an S3 bucket name',
      'backend.region is "x": must be an AWS region code such as us-east-1 or eu-central-1',
    ]);
    expect(problemsOf({ backend: { type: "cloud", organization: "", workspace: "w" } })).toEqual([
      'backend.organization is "": must name the Terraform Cloud organization',
    ]);
    expect(problemsOf({ backend: { type: "ftp" } as never })).toEqual(['backend.type is "ftp": must be "local", "s3" or "cloud"']);
  });

  it("refuses tags AWS reserves", () => {
    expect(problemsOf({ tags: { "aws:owner": "me" } })).toEqual(['tags (a key) is "aws:owner": must be 1 to 128 tag characters, not starting with aws:']);
  });

  it("validates a complete config without throwing", () => {
    expect(validateConfig(withDefaults({}))).toEqual([]);
  });
});
