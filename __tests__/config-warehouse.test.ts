import {
  MirrorConfig,
  MirrorConfigInput,
  NO_ALERT_SUBSCRIBER_WARNING,
  configWarnings,
  defaultConfig,
  formatAddress,
  parseCidr,
  resolveConfig,
  withDefaults,
} from "../modules/config";
import { problemsOf } from "./helpers/config";


/** The warnings of a config, besides the one about alerts nobody receives (__tests__/config-checks.test.ts has it). */
const warningsOf = (config: MirrorConfig) => configWarnings(config).filter((w) => !w.startsWith(NO_ALERT_SUBSCRIBER_WARNING));

const WORKGROUP_ID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:reporting-loader-AbCdEf";

describe("network and warehouse defaults", () => {
  it("default to a private single-node ra3.large cluster in a new VPC over the region's a and b zones", () => {
    const config = resolveConfig({});
    expect(config.network).toEqual({
      vpcCidr: "10.42.0.0/16",
      availabilityZones: ["us-east-1a", "us-east-1b"],
      allowedCidrs: [],
      allowPublicInternet: false,
    });
    expect(config.warehouse).toEqual({
      mode: "cluster",
      database: "controlshift",
      adminUsername: "admin",
      port: 5439,
      nodeType: "ra3.large",
      numberOfNodes: 1,
      snapshotRetentionDays: 7,
      enhancedVpcRouting: false,
      auditLogging: true,
      baseCapacity: 8,
    });
    expect(config).toEqual(defaultConfig());
  });

  it("derive the zones from the chosen region and mode, without asking AWS", () => {
    expect(resolveConfig({ region: "eu-central-1" }).network.availabilityZones).toEqual(["eu-central-1a", "eu-central-1b"]);
    expect(resolveConfig({ region: "eu-central-1", warehouse: { mode: "serverless" } }).network.availabilityZones).toEqual([
      "eu-central-1a",
      "eu-central-1b",
      "eu-central-1c",
    ]);
    expect(resolveConfig({ region: "ap-northeast-1" }).network.availabilityZones).toEqual(["ap-northeast-1a", "ap-northeast-1c"]);
    expect(resolveConfig({ region: "ca-central-1", warehouse: { mode: "serverless" } }).network.availabilityZones).toEqual([
      "ca-central-1a",
      "ca-central-1b",
      "ca-central-1d",
    ]);
  });

  it("fill the sections field by field", () => {
    const config = withDefaults({ network: { allowedCidrs: [{ cidr: "203.0.113.7/32" }] }, warehouse: { nodeType: "ra3.xlplus" } });
    expect(config.network).toEqual({ ...defaultConfig().network, allowedCidrs: [{ cidr: "203.0.113.7/32" }] });
    expect(config.warehouse).toEqual({ ...defaultConfig().warehouse, nodeType: "ra3.xlplus" });
  });

  it("accept every mode's valid config", () => {
    expect(problemsOf({ network: { allowedCidrs: [{ cidr: "203.0.113.7/32", description: "Berlin office" }, { cidr: "2001:db8::/48" }] } })).toEqual([]);
    expect(problemsOf({ warehouse: { mode: "serverless", baseCapacity: 16, maxCapacity: 64, port: 8192 } })).toEqual([]);
    expect(
      problemsOf({
        network: { existingVpc: { vpcId: "vpc-0123456789abcdef0", subnetIds: ["subnet-0123456789abcdef0", "subnet-01234567"] } },
        warehouse: { nodeType: "ra3.4xlarge", numberOfNodes: 2, enhancedVpcRouting: true, auditLogging: true },
      }),
    ).toEqual([]);
    expect(
      problemsOf({
        warehouse: { mode: "existing", existing: { clusterIdentifier: "analytics", database: "reporting", auth: { type: "iam", dbUser: "cs_loader" } } },
      }),
    ).toEqual([]);
    expect(
      problemsOf({
        warehouse: {
          mode: "existing",
          existing: {
            workgroupName: "analytics",
            workgroupId: WORKGROUP_ID,
            database: "reporting",
            auth: { type: "secret", secretArn: SECRET_ARN },
            copyRoleArn: "arn:aws:iam::123456789012:role/service-role/analytics-copy",
          },
        },
      }),
    ).toEqual([]);
  });
});

describe("allow-list validation", () => {
  it("refuses malformed CIDRs, host bits, non-canonical IPv6 and duplicates, naming each value", () => {
    expect(
      problemsOf({
        network: {
          allowedCidrs: [
            { cidr: "203.0.113.7" },
            { cidr: "203.0.113.300/32" },
            { cidr: "203.0.113.7/24" },
            { cidr: "2001:DB8::/32" },
            { cidr: "198.51.100.0/24", description: "café" },
            { cidr: "198.51.100.0/24" },
          ],
        },
      }),
    ).toEqual([
      'network.allowedCidrs[0].cidr is "203.0.113.7": must be an IPv4 or IPv6 CIDR such as "203.0.113.7/32", "198.51.100.0/24" or "2001:db8::/48"',
      'network.allowedCidrs[1].cidr is "203.0.113.300/32": must be an IPv4 or IPv6 CIDR such as "203.0.113.7/32", "198.51.100.0/24" or "2001:db8::/48"',
      'network.allowedCidrs[2].cidr is "203.0.113.7/24": has host bits set: write "203.0.113.0/24" for the network, or "203.0.113.7/32" for this one address',
      'network.allowedCidrs[3].cidr is "2001:DB8::/32": must be written as "2001:db8::/32" (lower case, zeros compressed), the form AWS reports back',
      'network.allowedCidrs[4].description is "café": must be 1 to 255 characters of letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*',
      'network.allowedCidrs[5].cidr is "198.51.100.0/24": is listed twice (also network.allowedCidrs[4])',
    ]);
  });

  it("refuses the public internet unless allowPublicInternet is set, and then warns", () => {
    const open = { allowedCidrs: [{ cidr: "0.0.0.0/0" }, { cidr: "::/0" }, { cidr: "128.0.0.0/1" }] };
    expect(problemsOf({ network: open })).toEqual([
      'network.allowedCidrs[0].cidr is "0.0.0.0/0": opens the Redshift port to the whole internet: list your offices\' addresses, or set network.allowPublicInternet to true if you really mean it',
      'network.allowedCidrs[1].cidr is "::/0": opens the Redshift port to the whole internet: list your offices\' addresses, or set network.allowPublicInternet to true if you really mean it',
      'network.allowedCidrs[2].cidr is "128.0.0.0/1": opens the Redshift port to the whole internet: list your offices\' addresses, or set network.allowPublicInternet to true if you really mean it',
    ]);
    const allowed = resolveConfig({ network: { ...open, allowPublicInternet: true } });
    expect(warningsOf(allowed)).toEqual([expect.stringContaining("whole internet (0.0.0.0/0, ::/0, 128.0.0.0/1)")]);
    expect(warningsOf(resolveConfig({ network: { allowedCidrs: [{ cidr: "10.0.0.0/8" }] } }))).toEqual([]);
  });

  it("warns when audit logging is turned off (on by default), except for an existing warehouse it does not manage", () => {
    expect(warningsOf(resolveConfig({}))).toEqual([]);
    expect(warningsOf(resolveConfig({ warehouse: { auditLogging: false } }))).toEqual([
      "warehouse.auditLogging is false: the warehouse holds members' personal data, and without the connection, user and " +
        "user-activity logs nobody can tell who read or changed it. Remove the setting to log (the default).",
    ]);
    expect(
      warningsOf(
        resolveConfig({
          warehouse: { mode: "existing", auditLogging: false, existing: { clusterIdentifier: "a", database: "d", auth: { type: "iam", dbUser: "u" } } },
        }),
      ),
    ).toEqual([]);
    expect(problemsOf({ network: { allowPublicInternet: "yes" as unknown as boolean } })).toEqual([
      'network.allowPublicInternet is "yes": must be true or false',
    ]);
  });

  it("refuses an allow-list or an existing VPC with an existing warehouse, where they would do nothing", () => {
    expect(
      problemsOf({
        network: { allowedCidrs: [{ cidr: "203.0.113.7/32" }], existingVpc: { vpcId: "vpc-0123456789abcdef0", subnetIds: [] } },
        warehouse: { mode: "existing", existing: { clusterIdentifier: "analytics", database: "dev", auth: { type: "secret", secretArn: SECRET_ARN } } },
      }),
    ).toEqual([
      'network.allowedCidrs is ["203.0.113.7/32"]: has no effect with warehouse.mode "existing" (the stack creates no network): allow these addresses on your warehouse\'s own security group',
      'network.existingVpc is {"vpcId":"vpc-0123456789abcdef0","subnetIds":[]}: has no effect with warehouse.mode "existing" (the stack creates no network): remove it',
    ]);
  });
});

describe("VPC, zones and subnets validation", () => {
  it("refuses one zone, a zone of another region, a repeated zone and a bad VPC CIDR", () => {
    expect(problemsOf({ network: { availabilityZones: ["us-east-1a"], vpcCidr: "10.42.0.0/8" } })).toEqual([
      'network.vpcCidr is "10.42.0.0/8": must be an IPv4 CIDR from /16 to /24, such as "10.42.0.0/16"',
      'network.availabilityZones is ["us-east-1a"]: must list at least 2 different zones: Redshift needs subnets in at least 2 availability zones',
    ]);
    expect(problemsOf({ network: { availabilityZones: ["us-east-1a", "us-east-1a", "eu-west-1b"], vpcCidr: "10.42.1.0/16" } })).toEqual([
      'network.vpcCidr is "10.42.1.0/16": has host bits set: write the network address "10.42.0.0/16"',
      'network.availabilityZones[1] is "us-east-1a": is listed twice',
      'network.availabilityZones[2] is "eu-west-1b": must be an availability zone of the region us-east-1, such as "us-east-1a"',
      'network.availabilityZones is ["us-east-1a","us-east-1a","eu-west-1b"]: must list at least 2 different zones: Redshift needs subnets in at least 2 availability zones',
    ]);
  });

  it("asks three zones of Redshift Serverless", () => {
    expect(problemsOf({ warehouse: { mode: "serverless" }, network: { availabilityZones: ["us-east-1a", "us-east-1b"] } })).toEqual([
      'network.availabilityZones is ["us-east-1a","us-east-1b"]: must list at least 3 different zones: Redshift Serverless needs subnets in 3 availability zones',
    ]);
  });

  it("refuses an existing VPC with one subnet (or one distinct well-formed subnet), or with malformed ids", () => {
    expect(problemsOf({ network: { existingVpc: { vpcId: "my-vpc", subnetIds: ["subnet-0123456789abcdef0"] } } })).toEqual([
      'network.existingVpc.vpcId is "my-vpc": must be a VPC id such as "vpc-0123456789abcdef0"',
      'network.existingVpc.subnetIds is ["subnet-0123456789abcdef0"]: must list at least 2 subnets, each in a different availability zone: Redshift needs subnets in at least 2 availability zones',
    ]);
    expect(
      problemsOf({
        warehouse: { mode: "serverless" },
        network: { existingVpc: { vpcId: "vpc-0123456789abcdef0", subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef0", "sn-1"] } },
      }),
    ).toEqual([
      'network.existingVpc.subnetIds[1] is "subnet-0123456789abcdef0": is listed twice',
      'network.existingVpc.subnetIds[2] is "sn-1": must be a subnet id such as "subnet-0123456789abcdef0"',
      'network.existingVpc.subnetIds is ["subnet-0123456789abcdef0","subnet-0123456789abcdef0","sn-1"]: must list at least 3 subnets, each in a different availability zone: Redshift Serverless needs subnets in 3 availability zones',
    ]);
  });
});

describe("warehouse validation", () => {
  it("refuses an unknown mode, bad names and an out-of-range port", () => {
    expect(
      problemsOf({ warehouse: { mode: "redshift" as "cluster", database: "Mirror-DB", adminUsername: "1admin", port: 80 } }),
    ).toEqual([
      'warehouse.mode is "redshift": must be "cluster", "serverless" or "existing"',
      'warehouse.database is "Mirror-DB": must be 1 to 64 characters of a-z, 0-9 and _, not starting with a digit',
      'warehouse.adminUsername is "1admin": must be 1 to 128 characters of a-z, 0-9 and _, not starting with a digit',
      "warehouse.port is 80: must be a whole number from 1150 to 65535",
    ]);
  });

  it("refuses a node type of unknown format, a single node of a multi-node type, and snapshots out of range", () => {
    expect(problemsOf({ warehouse: { nodeType: "ra3-large", snapshotRetentionDays: 0 } })).toEqual([
      'warehouse.nodeType is "ra3-large": must be a Redshift node type such as "ra3.large", "ra3.xlplus", "ra3.4xlarge" or "ra3.16xlarge"',
      "warehouse.snapshotRetentionDays is 0: must be a whole number from 1 to 35",
    ]);
    expect(problemsOf({ warehouse: { nodeType: "ra3.16xlarge" } })).toEqual([
      "warehouse.numberOfNodes is 1: must be at least 2: ra3.16xlarge runs only as a multi-node cluster",
    ]);
    expect(problemsOf({ warehouse: { numberOfNodes: 129 } })).toEqual(["warehouse.numberOfNodes is 129: must be a whole number from 1 to 128"]);
  });

  it("refuses serverless capacities that are not multiples of 8, a ceiling under the base, and ports serverless refuses", () => {
    expect(problemsOf({ warehouse: { mode: "serverless", baseCapacity: 12, port: 5460 } })).toEqual([
      "warehouse.port is 5460: must be a port Redshift Serverless accepts: 5431 to 5455 or 8191 to 8215",
      "warehouse.baseCapacity is 12: must be a multiple of 8 RPUs from 8 to 1024",
    ]);
    expect(problemsOf({ warehouse: { mode: "serverless", baseCapacity: 64, maxCapacity: 32 } })).toEqual([
      "warehouse.maxCapacity is 32: must be a multiple of 8 RPUs from 64 to 5632",
    ]);
  });

  it("ignores the other mode's sizing fields", () => {
    expect(problemsOf({ warehouse: { mode: "serverless", nodeType: "dc2.8xlarge" } })).toEqual([]);
    expect(problemsOf({ warehouse: { baseCapacity: 12 } })).toEqual([]);
  });

  it("refuses a prefix with -- for a cluster, whose identifier would be refused", () => {
    expect(problemsOf({ prefix: "cs--mirror" })).toEqual([
      'prefix is "cs--mirror": must not contain "--" with warehouse.mode "cluster": the cluster identifier <prefix>-warehouse would be refused',
    ]);
  });

  it("refuses existing-warehouse settings in the other modes", () => {
    expect(problemsOf({ warehouse: { existing: { clusterIdentifier: "analytics", database: "dev", auth: { type: "iam", dbUser: "x" } } } })).toEqual([
      'warehouse.existing is {"clusterIdentifier":"analytics","database":"dev","auth":{"type":"iam","dbUser":"x"}}: is used only with warehouse.mode "existing": remove it, or set the mode',
    ]);
  });
});

describe("existing warehouse validation", () => {
  it("refuses the mode without identifiers", () => {
    expect(problemsOf({ warehouse: { mode: "existing" } })).toEqual([
      'warehouse.existing is undefined: must name the warehouse with warehouse.mode "existing": { clusterIdentifier, database, auth } or { workgroupName, workgroupId, database, auth }',
    ]);
    expect(problemsOf({ warehouse: { mode: "existing", existing: {} as never } })).toEqual([
      "warehouse.existing is {}: must name exactly one of clusterIdentifier (a provisioned cluster) and workgroupName (a Redshift Serverless workgroup)",
      "warehouse.existing.database is undefined: must name the database to load into: 1 to 64 characters of a-z, 0-9 and _",
      'warehouse.existing.auth is undefined: must be { type: "secret", secretArn } or { type: "iam", dbUser } (dbUser only for a cluster)',
    ]);
  });

  it("refuses both a cluster and a workgroup, and bad identifiers", () => {
    expect(
      problemsOf({
        warehouse: {
          mode: "existing",
          existing: { clusterIdentifier: "Analytics--1", workgroupName: "wg", database: "reporting", auth: { type: "secret", secretArn: SECRET_ARN } },
        },
      }),
    ).toEqual([
      'warehouse.existing is {"clusterIdentifier":"Analytics--1","workgroupName":"wg"}: must name exactly one of clusterIdentifier (a provisioned cluster) and workgroupName (a Redshift Serverless workgroup)',
      'warehouse.existing.clusterIdentifier is "Analytics--1": must be a Redshift cluster identifier: 1 to 63 characters of a-z, 0-9 and -, starting with a letter, no -- and no trailing -',
      'warehouse.existing.workgroupName is "wg": must be a Redshift Serverless workgroup name: 3 to 64 characters of a-z, 0-9 and -',
      "warehouse.existing.workgroupId is undefined: must be the workgroup's id, a UUID (IAM names workgroups by id): aws redshift-serverless get-workgroup --workgroup-name <name> --query workgroup.workgroupId",
    ]);
  });

  it("refuses a secret of another region or not a secret, a cluster IAM user missing, a workgroup IAM user given, and a bad role", () => {
    const existing = (e: object): MirrorConfigInput => ({ warehouse: { mode: "existing", existing: { database: "reporting", ...e } as never } });
    expect(problemsOf(existing({ clusterIdentifier: "analytics", auth: { type: "secret", secretArn: SECRET_ARN.replace("us-east-1", "eu-west-1") } }))).toEqual([
      'warehouse.existing.auth.secretArn is "arn:aws:secretsmanager:eu-west-1:123456789012:secret:reporting-loader-AbCdEf": must be a secret in the deployment region us-east-1, where the loaders call the Data API',
    ]);
    expect(problemsOf(existing({ clusterIdentifier: "analytics", auth: { type: "secret", secretArn: "reporting-loader" } }))).toEqual([
      'warehouse.existing.auth.secretArn is "reporting-loader": must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)',
    ]);
    expect(problemsOf(existing({ clusterIdentifier: "analytics", auth: { type: "iam" }, copyRoleArn: "analytics-copy" }))).toEqual([
      "warehouse.existing.auth.dbUser is undefined: must name the existing database user the loaders act as: 1 to 128 characters of a-z, 0-9 and _",
      'warehouse.existing.copyRoleArn is "analytics-copy": must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), or left out for the stack to create one',
    ]);
    expect(problemsOf(existing({ workgroupName: "analytics", workgroupId: WORKGROUP_ID, auth: { type: "iam", dbUser: "cs_loader" } }))).toEqual([
      'warehouse.existing.auth is {"type":"iam","dbUser":"cs_loader"}: must be { type: "secret", secretArn } for a workgroup: with IAM, Redshift Serverless makes each loader\'s role its own database user (IAMR:<role name>), and only one owner can ADD COLUMN or replace a view',
    ]);
    expect(problemsOf(existing({ clusterIdentifier: "analytics", workgroupId: WORKGROUP_ID, auth: { type: "password", password: "hunter2" } }))).toEqual([
      'warehouse.existing.workgroupId is "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0": is used only with workgroupName',
      'warehouse.existing.auth is {"type":"password","password":"hunter2"}: must be { type: "secret", secretArn } or { type: "iam", dbUser } (dbUser only for a cluster)',
    ]);
  });

  it("reports network, warehouse and the rest of the config in one pass", () => {
    const problems = problemsOf({ region: "mars-1", network: { allowedCidrs: [{ cidr: "0.0.0.0/0" }] }, warehouse: { nodeType: "big" } });
    // The default zones follow the region ("mars-1a", "mars-1b"): one mistake, one line.
    expect(problems.map((p) => p.split(" is ")[0])).toEqual(["region", "network.allowedCidrs[0].cidr", "warehouse.nodeType"]);
  });
});

describe("CIDR arithmetic", () => {
  it("parses IPv4 and IPv6 CIDRs into their network address", () => {
    expect(parseCidr("203.0.113.7/24")).toMatchObject({ family: 4, prefixLength: 24, network: "203.0.113.0/24" });
    expect(parseCidr("2001:db8:0:0:1::/64")).toMatchObject({ family: 6, prefixLength: 64, network: "2001:db8::/64" });
    expect(parseCidr("::/0")).toMatchObject({ family: 6, prefixLength: 0, network: "::/0" });
    expect(parseCidr("fe80::1/128")?.network).toBe("fe80::1/128");
    for (const bad of ["10.0.0.0", "10.0.0/8", "010.0.0.0/8", "10.0.0.0/33", "1::2::3/64", "1:2:3:4:5:6:7:8:9/64", "2001:db8::/129", "::ffff:1.2.3.4/128", "10.1/16", "0x7f.0.0.1/32", "fe80::1%eth0/128", 42]) {
      expect(parseCidr(bad)).toBeUndefined();
    }
  });

  it("writes IPv6 addresses per RFC 5952: lower case, longest zero run compressed, single zero groups kept", () => {
    expect(formatAddress(6, parseCidr("2001:0DB8:0000:0000:0001:0000:0000:0001/128")!.address)).toBe("2001:db8::1:0:0:1");
    expect(formatAddress(6, parseCidr("2001:db8:0:1:1:1:1:1/128")!.address)).toBe("2001:db8:0:1:1:1:1:1");
    expect(formatAddress(4, parseCidr("192.0.2.255/32")!.address)).toBe("192.0.2.255");
  });
});
