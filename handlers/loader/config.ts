/**
 * The loader's environment, read and checked once at cold start. Every problem is reported at once, naming the
 * variable, its value and what is expected, so a misconfigured loader fails its first invocation loudly (and its
 * messages wait in the queue) instead of half-working. The warehouse variables are the ones modules/warehouse.ts
 * sets (WAREHOUSE_ENV).
 */
import { IDENTIFIER_PATTERN } from "../../schemas/ddl";
import { DEFAULT_METADATA_SCHEMA } from "../../schemas/metadata";
import type { RedshiftTarget } from "../load/redshift-adapter";
import { TABLE_NAME_PATTERN, type ExportKind } from "../shared/export-file";
import { S3_BUCKET_NAME_PATTERN } from "../shared/export-url";

export const DEFAULT_DATA_SCHEMA = "controlshift";

export interface LoaderEnvironment {
  /** TABLE: the one ControlShift table this function loads. */
  readonly table: string;
  /** LOAD_KIND: full | incremental. */
  readonly kind: ExportKind;
  /** DATA_SCHEMA, @default "controlshift" */
  readonly dataSchema: string;
  /** METADATA_SCHEMA, @default DEFAULT_METADATA_SCHEMA ("controlshift_mirror_meta") */
  readonly metadataSchema: string;
  /** EXPORTS_BUCKET */
  readonly exportsBucket: string;
  /** COPY_ROLE_ARN: the role the warehouse assumes for COPY. */
  readonly copyRoleArn: string;
  /** WAREHOUSE_DATABASE + WAREHOUSE_CLUSTER_ID or WAREHOUSE_WORKGROUP + WAREHOUSE_SECRET_ARN or WAREHOUSE_DB_USER. */
  readonly target: RedshiftTarget;
  /** POWERTOOLS_SERVICE_NAME */
  readonly serviceName: string;
  /** POWERTOOLS_METRICS_NAMESPACE */
  readonly metricsNamespace: string;
}

export class LoaderConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`loader: bad environment: ${problems.join("; ")}`);
    this.name = "LoaderConfigError";
    this.problems = problems;
  }
}

const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[A-Za-z0-9+=,.@_\/-]{1,512}$/;
const SECRET_ARN_PATTERN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@!-]+$/;
/** Redshift cluster identifiers: lower case letters, digits, hyphens, starting with a letter, at most 63. */
const CLUSTER_ID_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
/** Redshift Serverless workgroup names (3 to 64 of lower case letters, digits, hyphens), or the workgroup's ARN. */
const WORKGROUP_PATTERN = /^(?:[a-z0-9-]{3,64}|arn:aws[a-z-]*:redshift-serverless:[a-z0-9-]+:\d{12}:workgroup\/[a-z0-9-]{1,64})$/;
/** Database names and database users: letters, digits, underscores and `$`, starting with a letter or underscore. */
const DATABASE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_$]{0,63}$/;
const DB_USER_PATTERN = /^[A-Za-z_][A-Za-z0-9_$.@+-]{0,127}$/;

/** Reads the loader's variables from `env`. Throws LoaderConfigError listing every missing or bad one. */
export function readLoaderEnvironment(env: Readonly<Record<string, string | undefined>>): LoaderEnvironment {
  const problems: string[] = [];
  const value = (name: string): string => env[name]?.trim() ?? "";
  const required = (name: string, what: string): string => {
    const v = value(name);
    if (v === "") problems.push(`${name} is not set: expected ${what}`);
    return v;
  };
  const check = (name: string, v: string, ok: boolean, what: string): void => {
    if (v !== "" && !ok) problems.push(`${name} is ${JSON.stringify(v)}: expected ${what}`);
  };

  const table = required("TABLE", "the ControlShift table this loader loads (e.g. signatures)");
  check("TABLE", table, TABLE_NAME_PATTERN.test(table), `a table name matching ${TABLE_NAME_PATTERN.source}`);
  const kind = required("LOAD_KIND", "full or incremental");
  check("LOAD_KIND", kind, kind === "full" || kind === "incremental", "full or incremental");
  const dataSchema = value("DATA_SCHEMA") || DEFAULT_DATA_SCHEMA;
  check("DATA_SCHEMA", dataSchema, IDENTIFIER_PATTERN.test(dataSchema), `a schema name matching ${IDENTIFIER_PATTERN.source}`);
  const metadataSchema = value("METADATA_SCHEMA") || DEFAULT_METADATA_SCHEMA;
  check(
    "METADATA_SCHEMA",
    metadataSchema,
    IDENTIFIER_PATTERN.test(metadataSchema),
    `a schema name matching ${IDENTIFIER_PATTERN.source}`,
  );
  const exportsBucket = required("EXPORTS_BUCKET", "the exports bucket's name");
  check("EXPORTS_BUCKET", exportsBucket, S3_BUCKET_NAME_PATTERN.test(exportsBucket), "an S3 bucket name");
  const copyRoleArn = required("COPY_ROLE_ARN", "the ARN of the IAM role the warehouse assumes for COPY");
  check("COPY_ROLE_ARN", copyRoleArn, ROLE_ARN_PATTERN.test(copyRoleArn), "an IAM role ARN (arn:aws:iam::<account>:role/<name>)");
  const database = required("WAREHOUSE_DATABASE", "the warehouse's database name");
  check("WAREHOUSE_DATABASE", database, DATABASE_NAME_PATTERN.test(database), "a Redshift database name");

  const clusterId = value("WAREHOUSE_CLUSTER_ID");
  const workgroup = value("WAREHOUSE_WORKGROUP");
  const secretArn = value("WAREHOUSE_SECRET_ARN");
  const dbUser = value("WAREHOUSE_DB_USER");
  check("WAREHOUSE_CLUSTER_ID", clusterId, CLUSTER_ID_PATTERN.test(clusterId), "a Redshift cluster identifier");
  check("WAREHOUSE_WORKGROUP", workgroup, WORKGROUP_PATTERN.test(workgroup), "a Redshift Serverless workgroup name");
  check("WAREHOUSE_SECRET_ARN", secretArn, SECRET_ARN_PATTERN.test(secretArn), "a Secrets Manager secret ARN");
  check("WAREHOUSE_DB_USER", dbUser, DB_USER_PATTERN.test(dbUser), "a Redshift database user name");
  if ((clusterId === "") === (workgroup === "")) {
    problems.push(
      `exactly one of WAREHOUSE_CLUSTER_ID (a provisioned cluster) and WAREHOUSE_WORKGROUP (Redshift Serverless) must be ` +
        `set; ${clusterId === "" ? "neither is" : "both are"}`,
    );
  }
  if (secretArn !== "" && dbUser !== "") {
    problems.push("WAREHOUSE_SECRET_ARN and WAREHOUSE_DB_USER are both set: expected at most one (secret or IAM credentials)");
  }
  if (clusterId !== "" && secretArn === "" && dbUser === "") {
    problems.push("WAREHOUSE_CLUSTER_ID is set without WAREHOUSE_SECRET_ARN or WAREHOUSE_DB_USER: a cluster needs one of them");
  }
  if (workgroup !== "" && dbUser !== "") {
    problems.push(
      "WAREHOUSE_DB_USER is set for a workgroup: Redshift Serverless derives the user from the IAM role; set " +
        "WAREHOUSE_SECRET_ARN or neither",
    );
  }

  const serviceName = required("POWERTOOLS_SERVICE_NAME", "the service name on logs");
  const metricsNamespace = required("POWERTOOLS_METRICS_NAMESPACE", "the CloudWatch namespace of the load metrics");

  if (problems.length > 0) throw new LoaderConfigError(problems);

  const target: RedshiftTarget =
    clusterId !== ""
      ? {
          type: "cluster",
          clusterIdentifier: clusterId,
          database,
          ...(secretArn !== "" ? { secretArn } : { dbUser }),
        }
      : { type: "workgroup", workgroupName: workgroup, database, ...(secretArn !== "" ? { secretArn } : {}) };
  return {
    table,
    kind: kind as ExportKind,
    dataSchema,
    metadataSchema,
    exportsBucket,
    copyRoleArn,
    target,
    serviceName,
    metricsNamespace,
  };
}
