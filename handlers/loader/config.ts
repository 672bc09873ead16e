/**
 * The loader's environment, read and checked once at cold start by the shared reader (handlers/shared/environment.ts):
 * every problem at once, naming the variable, its value and what is expected, so a misconfigured loader fails its
 * first invocation loudly (and its messages wait in the queue). Names: facts/environment.ts (LOADER_ENV, and the
 * WAREHOUSE_ENV that modules/warehouse.ts sets).
 */
import {
  CLUSTER_ID_PATTERN,
  DATABASE_NAME_PATTERN,
  DB_USER_PATTERN,
  IAM_ROLE_ARN_PATTERN,
  S3_BUCKET_NAME_PATTERN,
  SECRET_ARN_PATTERN,
  WORKGROUP_NAME_PATTERN,
} from "../../facts/aws-names";
import { LOADER_ENV, WAREHOUSE_ENV } from "../../facts/environment";
import { EXPORT_KINDS, TABLE_NAME_PATTERN, type ExportKind } from "../../facts/exports";
import { IDENTIFIER_PATTERN } from "../../schemas/ddl";
import type { RedshiftTarget } from "../load/redshift-adapter";
import { type Env, EnvironmentReader } from "../shared/environment";

export interface LoaderEnvironment {
  /** TABLE: the one ControlShift table this function loads. */
  readonly table: string;
  /** LOAD_KIND: full | incremental. */
  readonly kind: ExportKind;
  /** DATA_SCHEMA */
  readonly dataSchema: string;
  /** METADATA_SCHEMA */
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

/** Reads the loader's variables from `env`. Throws EnvironmentError listing every missing or bad one. */
export function readLoaderEnvironment(env: Env): LoaderEnvironment {
  const read = new EnvironmentReader(env, "loader");
  const schemaName = `a schema name matching ${IDENTIFIER_PATTERN.source}`;

  const table = read.required(LOADER_ENV.table, "the ControlShift table this loader loads (e.g. signatures)");
  read.check(LOADER_ENV.table, table, TABLE_NAME_PATTERN.test(table), `a table name matching ${TABLE_NAME_PATTERN.source}`);
  const kind = read.oneOf<ExportKind>(LOADER_ENV.kind, EXPORT_KINDS);
  const dataSchema = read.matching(LOADER_ENV.dataSchema, schemaName, IDENTIFIER_PATTERN);
  const metadataSchema = read.matching(LOADER_ENV.metadataSchema, schemaName, IDENTIFIER_PATTERN);
  const exportsBucket = read.required(LOADER_ENV.exportsBucket, "the exports bucket's name");
  read.check(LOADER_ENV.exportsBucket, exportsBucket, S3_BUCKET_NAME_PATTERN.test(exportsBucket), "an S3 bucket name");
  const copyRoleArn = read.required(WAREHOUSE_ENV.copyRoleArn, "the ARN of the IAM role the warehouse assumes for COPY");
  read.check(
    WAREHOUSE_ENV.copyRoleArn,
    copyRoleArn,
    IAM_ROLE_ARN_PATTERN.test(copyRoleArn),
    "an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
  );
  const database = read.required(WAREHOUSE_ENV.database, "the warehouse's database name");
  read.check(WAREHOUSE_ENV.database, database, DATABASE_NAME_PATTERN.test(database), "a Redshift database name");

  const clusterId = read.optional(WAREHOUSE_ENV.clusterId);
  const workgroup = read.optional(WAREHOUSE_ENV.workgroup);
  const secretArn = read.optional(WAREHOUSE_ENV.secretArn);
  const dbUser = read.optional(WAREHOUSE_ENV.dbUser);
  read.check(WAREHOUSE_ENV.clusterId, clusterId, CLUSTER_ID_PATTERN.test(clusterId), "a Redshift cluster identifier");
  read.check(WAREHOUSE_ENV.workgroup, workgroup, WORKGROUP_NAME_PATTERN.test(workgroup), "a Redshift Serverless workgroup name");
  read.check(WAREHOUSE_ENV.secretArn, secretArn, SECRET_ARN_PATTERN.test(secretArn), "a Secrets Manager secret ARN");
  read.check(WAREHOUSE_ENV.dbUser, dbUser, DB_USER_PATTERN.test(dbUser), "a Redshift database user name");
  if ((clusterId === "") === (workgroup === "")) {
    read.problem(
      `exactly one of ${WAREHOUSE_ENV.clusterId} (a provisioned cluster) and ${WAREHOUSE_ENV.workgroup} (Redshift Serverless) ` +
        `must be set; ${clusterId === "" ? "neither is" : "both are"}`,
    );
  }
  if (secretArn !== "" && dbUser !== "") {
    read.problem(
      `${WAREHOUSE_ENV.secretArn} and ${WAREHOUSE_ENV.dbUser} are both set: expected at most one (secret or IAM credentials)`,
    );
  }
  if (clusterId !== "" && secretArn === "" && dbUser === "") {
    read.problem(
      `${WAREHOUSE_ENV.clusterId} is set without ${WAREHOUSE_ENV.secretArn} or ${WAREHOUSE_ENV.dbUser}: a cluster needs one of them`,
    );
  }
  if (workgroup !== "" && dbUser !== "") {
    read.problem(
      `${WAREHOUSE_ENV.dbUser} is set for a workgroup: Redshift Serverless derives the user from the IAM role; set ` +
        `${WAREHOUSE_ENV.secretArn} or neither`,
    );
  }
  const { serviceName, metricsNamespace } = read.powertools();

  return read.done(() => {
    const target: RedshiftTarget =
      clusterId !== ""
        ? { type: "cluster", clusterIdentifier: clusterId, database, ...(secretArn !== "" ? { secretArn } : { dbUser }) }
        : { type: "workgroup", workgroupName: workgroup, database, ...(secretArn !== "" ? { secretArn } : {}) };
    return { table, kind, dataSchema, metadataSchema, exportsBucket, copyRoleArn, target, serviceName, metricsNamespace };
  });
}
