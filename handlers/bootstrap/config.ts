/**
 * The bootstrap function's environment, read and checked once by the shared reader (handlers/shared/environment.ts):
 * every problem at once, naming the variable. Names: facts/environment.ts (BOOTSTRAP_ENV, and the loaders' warehouse
 * variables, WAREHOUSE_ENV).
 */
import { BOOTSTRAP_ENV, COMMON_ENV, WAREHOUSE_ENV } from "../../facts/environment";
import { IDENTIFIER_PATTERN } from "../../schemas/ddl";
import { TABLE_SCHEMAS } from "../../schemas/table-schemas";
import type { DataApiTarget } from "./adapters";
import type { BootstrapSettings } from "./bootstrap";
import { type Env, EnvironmentReader } from "../shared/environment";
import { METADATA_MIGRATIONS } from "./migrations";

export interface BootstrapEnvironment {
  readonly settings: BootstrapSettings;
  /** The admin's Data API target (SecretArn: the admin secret). Undefined for an existing warehouse. */
  readonly admin?: DataApiTarget;
  /** The loader user's Data API target: DbUser on a cluster, SecretArn (the loader secret) otherwise. */
  readonly owner: DataApiTarget;
  /** Serverless: the loader secret the bootstrap fills. */
  readonly loaderSecretArn?: string;
  /** POWERTOOLS_SERVICE_NAME */
  readonly serviceName: string;
}

export function readBootstrapEnvironment(env: Env): BootstrapEnvironment {
  const read = new EnvironmentReader(env, "bootstrap");
  const identifier = (name: string): string =>
    read.matching(name, `a name matching ${IDENTIFIER_PATTERN.source}`, IDENTIFIER_PATTERN);

  const mode = read.oneOf(BOOTSTRAP_ENV.mode, ["cluster", "serverless", "existing"] as const);
  const loaderUser = identifier(BOOTSTRAP_ENV.loaderUser);
  const readerGroup = identifier(BOOTSTRAP_ENV.readerGroup);
  const dataSchema = identifier(BOOTSTRAP_ENV.dataSchema);
  const metadataSchema = identifier(BOOTSTRAP_ENV.metadataSchema);
  const tables = read.required(BOOTSTRAP_ENV.tables, "the configured tables, comma-separated").split(",").map((t) => t.trim()).filter((t) => t !== "");
  const unknown = tables.filter((t) => !(t in TABLE_SCHEMAS));
  if (unknown.length > 0) read.problem(`${BOOTSTRAP_ENV.tables} names tables this bundle does not know: ${unknown.join(", ")}`);

  const database = read.required(WAREHOUSE_ENV.database, "the warehouse's database name");
  const clusterId = read.optional(WAREHOUSE_ENV.clusterId);
  const workgroup = read.optional(WAREHOUSE_ENV.workgroup);
  if ((clusterId === "") === (workgroup === "")) read.problem("exactly one of WAREHOUSE_CLUSTER_ID and WAREHOUSE_WORKGROUP must be set");
  const where = clusterId !== "" ? { ClusterIdentifier: clusterId, Database: database } : { WorkgroupName: workgroup, Database: database };
  const loaderSecretArn = read.optional(WAREHOUSE_ENV.secretArn);
  const dbUser = read.optional(WAREHOUSE_ENV.dbUser);
  if ((loaderSecretArn === "") === (dbUser === "")) {
    read.problem("exactly one of WAREHOUSE_SECRET_ARN (the loader secret) and WAREHOUSE_DB_USER (IAM credentials) must be set");
  }
  const adminSecretArn = read.optional(BOOTSTRAP_ENV.adminSecretArn);
  if (mode !== "existing" && adminSecretArn === "") read.problem(`${BOOTSTRAP_ENV.adminSecretArn} is not set (needed with a ${mode} warehouse)`);
  if (mode === "existing" && adminSecretArn !== "") {
    read.problem(`${BOOTSTRAP_ENV.adminSecretArn} is set for an existing warehouse: the stack never holds its admin credentials`);
  }
  if (mode === "cluster" && dbUser !== loaderUser) {
    read.problem(`WAREHOUSE_DB_USER is ${JSON.stringify(dbUser)}: on the stack's cluster the loaders log in as ${loaderUser}`);
  }
  const serviceName = read.required(COMMON_ENV.serviceName, "the service name on logs (the function name)");
  return read.done(() => {
    const owner: DataApiTarget = dbUser !== "" ? { ...where, DbUser: dbUser } : { ...where, SecretArn: loaderSecretArn };
    return {
      settings: {
        mode: mode as BootstrapSettings["mode"],
        login: dbUser !== "" ? "iam" : "password",
        loaderUser: mode === "existing" && dbUser !== "" ? dbUser : loaderUser,
        readerGroup,
        dataSchema,
        metadataSchema,
        tables,
        migrations: METADATA_MIGRATIONS,
      },
      ...(mode !== "existing" ? { admin: { ...where, SecretArn: adminSecretArn } } : {}),
      owner,
      ...(mode === "serverless" ? { loaderSecretArn } : {}),
      serviceName,
    };
  });
}
