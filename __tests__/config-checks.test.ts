/**
 * The config mistakes that used to synthesize silently (issue 8 §2): unknown fields at any depth, table names, region
 * codes, and a config whose alarms notify nobody. Each with its exact message, through the pure validator.
 */
import { BOOTSTRAP_ENV, RECEIVER_ENV } from "../facts/environment";
import { readBootstrapEnvironment } from "../handlers/bootstrap/config";
import {
  MirrorConfigInput,
  NO_ALERT_SUBSCRIBER_WARNING,
  configWarnings,
  defaultConfig,
  mirroredTables,
  resolveConfig,
} from "../modules/config";
import { AWS_REGIONS } from "../modules/config/aws-regions";
import { CONFIG_SHAPE, unknownFieldProblems } from "../modules/config/shape";
import { closest, editDistance } from "../modules/config/suggest";
import { CONTROLSHIFT_TABLES } from "../schemas/controlshift-tables";
import { problemsOf } from "./helpers/config";
import { resourcesOf, synthStack } from "./helpers/synth";

const EMAIL = { alertEmails: ["data-team@example.org"] };

describe("unknown fields", () => {
  it.each<[string, MirrorConfigInput, string]>([
    ["a misspelt section", { controlShift: { region: "eu" } } as MirrorConfigInput, 'controlShift is not a field of the config: did you mean "controlshift"?'],
    ["a singular list", { alertEmail: ["a@example.org"] } as MirrorConfigInput, 'alertEmail is not a field of the config: did you mean "alertEmails"?'],
    [
      "a field of a section, in other case",
      { network: { allowedCIDRs: [{ cidr: "203.0.113.7/32" }] } } as MirrorConfigInput,
      'network.allowedCIDRs is not a field of network: did you mean "allowedCidrs"?',
    ],
    [
      "a field of a list entry",
      { network: { allowedCidrs: [{ cidr: "203.0.113.7/32", descripton: "Berlin" }] } } as unknown as MirrorConfigInput,
      'network.allowedCidrs[0].descripton is not a field of network.allowedCidrs[0]: did you mean "description"?',
    ],
    [
      "a field under a table's sizing",
      { loaders: { tables: { signatures: { memoryMB: 2048 } } } } as MirrorConfigInput,
      'loaders.tables.signatures.memoryMB is not a field of loaders.tables.signatures: did you mean "memoryMiB"?',
    ],
    [
      "a field of another backend type",
      { backend: { type: "s3", bucket: "my-state", workspace: "w" } } as MirrorConfigInput,
      'backend.workspace is not a field of backend with type "s3": the fields are type, bucket, key, region, useLockfile',
    ],
    [
      "a field nothing resembles",
      { xyzzy: 1 } as MirrorConfigInput,
      "xyzzy is not a field of the config: the fields are prefix, region, tables, extraTables, controlshift, alertEmails, exports, " +
        "logRetentionDays, receiver, downloader, secretRecoveryDays, backend, tags, network, warehouse, loaders, alerts",
    ],
  ])("refuses %s, naming the path and the closest field", (_, input, message) => {
    expect(problemsOf(input)).toEqual([message]);
  });

  it("reports unknown fields with the value problems, in one pass", () => {
    expect(problemsOf({ region: "mars-1", alertEmail: [] } as MirrorConfigInput)).toEqual([
      'alertEmail is not a field of the config: did you mean "alertEmails"?',
      'region is "mars-1": must be an AWS region code such as us-east-1 or eu-central-1',
    ]);
  });

  it("knows every field of the defaults and every optional field (the shape is typed against the config's types)", () => {
    expect(unknownFieldProblems(defaultConfig())).toEqual([]);
    const everyOptional = {
      ...defaultConfig(),
      network: { ...defaultConfig().network, existingVpc: { vpcId: "vpc-1", subnetIds: [] }, allowedCidrs: [{ cidr: "x", description: "d" }] },
      warehouse: {
        ...defaultConfig().warehouse,
        maxCapacity: 64,
        existing: {
          clusterIdentifier: "c",
          workgroupName: "w",
          workgroupId: "i",
          database: "d",
          auth: { type: "secret", secretArn: "a" },
          copyRoleArn: "r",
        },
      },
    };
    expect(unknownFieldProblems(everyOptional)).toEqual([]);
    expect(unknownFieldProblems({ warehouse: { existing: { auth: { type: "iam", dbUser: "u" } } } })).toEqual([]);
    for (const backend of [
      { type: "local", path: "p" },
      { type: "s3", bucket: "b", key: "k", region: "r", useLockfile: true },
      { type: "cloud", organization: "o", workspace: "w", project: "p", hostname: "h" },
    ]) {
      expect(unknownFieldProblems({ backend })).toEqual([]);
    }
    expect(CONFIG_SHAPE.kind).toBe("object");
  });

  it("leaves a value of the wrong kind to the value checks (one line, not two)", () => {
    expect(problemsOf({ backend: { type: "ftp" } } as unknown as MirrorConfigInput)).toEqual([
      'backend.type is "ftp": must be "local", "s3" or "cloud"',
    ]);
  });
});

describe("table names", () => {
  it("refuses a table schemas/ does not know, with the closest known table", () => {
    expect(problemsOf({ tables: ["petition"] })).toEqual([
      'tables[0] is "petition": is not a ControlShift table this project knows (schemas/controlshift-tables.ts): did you mean "petitions"? ' +
        "A table ControlShift added after schemas/ was generated goes in extraTables (see help, Config: extraTables)",
    ]);
    expect(problemsOf({ tables: ["weather_reports"] })).toEqual([
      'tables[0] is "weather_reports": is not a ControlShift table this project knows (schemas/controlshift-tables.ts): ' +
        "a table ControlShift added after schemas/ was generated goes in extraTables (see help, Config: extraTables)",
    ]);
  });

  it("mirrors a table schemas/ does not know only through extraTables, still held to the name pattern", () => {
    const config = resolveConfig({ tables: ["petitions"], extraTables: ["weather_reports"], ...EMAIL });
    expect(mirroredTables(config)).toEqual(["petitions", "weather_reports"]);
    expect(problemsOf({ extraTables: ["petitions", "Weather", "weather_reports", "weather_reports"] })).toEqual([
      'extraTables[0] is "petitions": is a ControlShift table this project knows: list it in tables instead (its real column types); it is in tables already',
      'extraTables[1] is "Weather": must be a table name: lower-case letters, digits and _, starting with a letter, at most 63 characters',
      'extraTables[3] is "weather_reports": is listed twice',
    ]);
    expect(problemsOf({ extraTables: "weather_reports" } as unknown as MirrorConfigInput)).toEqual([
      'extraTables is "weather_reports": must be a list of table names, such as ["new_table"] (empty for none)',
    ]);
    expect(problemsOf({ tables: [], extraTables: ["weather_reports"] })).toEqual([]);
    expect(problemsOf({ tables: ["petitions"], loaders: { tables: { weather_reports: { memoryMiB: 1024 } } }, extraTables: ["weather_reports"] })).toEqual([]);
  });

  it("gives an extra table its loaders and the receiver's allow-list, and leaves its creation to the loaders (the bootstrap knows only schemas/)", () => {
    const tf = synthStack({ tables: ["petitions"], extraTables: ["weather_reports"], ...EMAIL });
    const functions = resourcesOf(tf, "aws_lambda_function").map(([, f]) => f);
    const names = functions.map((f) => f.function_name);
    expect(names).toEqual(expect.arrayContaining(["cs-mirror-load-full-weather_reports", "cs-mirror-load-incremental-weather_reports"]));
    const receiver = functions.find((f) => f.function_name === "cs-mirror-receiver")!;
    expect(receiver.environment.variables[RECEIVER_ENV.tables]).toBe("petitions,weather_reports");
    const bootstrap = functions.find((f) => f.function_name === "cs-mirror-bootstrap")!;
    expect(bootstrap.environment.variables[BOOTSTRAP_ENV.tables]).toBe("petitions");
    // The bootstrap's reader refuses a table it cannot create; it is never given one.
    expect(() => readBootstrapEnvironment({ ...bootstrap.environment.variables, [BOOTSTRAP_ENV.tables]: "weather_reports" })).toThrow(
      /names tables this bundle does not know: weather_reports/,
    );
  });
});

describe("AWS regions", () => {
  it("refuses a typo with the closest region, in the deployment region and the state bucket's", () => {
    expect(problemsOf({ region: "eu-wset-2" })).toEqual(['region is "eu-wset-2": is not an AWS region code: did you mean "eu-west-2"?']);
    expect(problemsOf({ backend: { type: "s3", bucket: "my-state", region: "euwest1" } })).toEqual([
      'backend.region is "euwest1": is not an AWS region code: did you mean "eu-west-1"?',
    ]);
    expect(problemsOf({ region: "eu-west-9" })).toEqual(['region is "eu-west-9": is not an AWS region code: did you mean "eu-west-1"?']);
  });

  it("accepts every listed region, GovCloud and China included", () => {
    expect(AWS_REGIONS).toEqual(expect.arrayContaining(["us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1"]));
    for (const region of AWS_REGIONS) expect(problemsOf({ region })).toEqual([]);
  });

  it('reports controlshift.region "EU" on one line, without a second one about exportBuckets', () => {
    expect(problemsOf({ controlshift: { region: "EU" as "eu" } })).toEqual(['controlshift.region is "EU": must be one of us, eu: did you mean "eu"?']);
    expect(problemsOf({ controlshift: { region: "mars" as "eu" } })).toEqual(['controlshift.region is "mars": must be one of us, eu']);
  });
});

describe("alert subscribers", () => {
  const warning = (input: MirrorConfigInput) => configWarnings(resolveConfig(input)).filter((w) => w.startsWith(NO_ALERT_SUBSCRIBER_WARNING));

  it("warns loudly when the alarms notify nobody, and says how to subscribe", () => {
    expect(warning({})).toEqual([
      "no alert subscriber: the alarms notify nobody. alertEmails and alerts.httpsEndpoints are both empty, so a failed " +
        "load, a dead-lettered download or a stale table raises an alarm that reaches no one. Add alertEmails in config.ts " +
        "and deploy again, or subscribe after the deploy: aws sns subscribe --topic-arn <alerts_topic_arn from npx cdktf output> " +
        "--protocol email --notification-endpoint <address> (see help, entry: WARNING: no alert subscriber).",
    ]);
  });

  it("is quiet with an e-mail or an https endpoint", () => {
    expect(warning(EMAIL)).toEqual([]);
    expect(warning({ alerts: { httpsEndpoints: ["https://events.pagerduty.com/integration/k/enqueue"] } })).toEqual([]);
  });
});

describe("did you mean", () => {
  it("measures edits, a swap of neighbours counting one", () => {
    expect(editDistance("wset", "west")).toBe(1);
    expect(editDistance("petition", "petitions")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
  });

  it("suggests only a close name", () => {
    expect(closest("allowedCIDRs", ["vpcCidr", "allowedCidrs"])).toBe("allowedCidrs");
    expect(closest("petiton", CONTROLSHIFT_TABLES)).toBe("petitions");
    expect(closest("weather_reports", CONTROLSHIFT_TABLES)).toBeUndefined();
  });
});
