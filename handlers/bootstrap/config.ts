/**
 * The bootstrap function's environment, read and checked once: every problem at once, naming the variable.
 * Names: environment.ts (BOOTSTRAP_ENV) and the loaders' warehouse variables (modules/warehouse.ts, WAREHOUSE_ENV).
 */
import { IDENTIFIER_PATTERN } from "../../schemas/ddl";
import { TABLE_SCHEMAS } from "../../schemas/table-schemas";
import type { DataApiTarget } from "./adapters";
import type { BootstrapSettings } from "./bootstrap";
import { BOOTSTRAP_ENV } from "./environment";
import { METADATA_MIGRATIONS } from "./migrations";

export interface BootstrapEnvironment {
  readonly settings: BootstrapSettings;
  /** The admin's Data API target (SecretArn: the admin secret). Undefined for an existing warehouse. */
  readonly admin?: DataApiTarget;
  /** The loader user's Data API target: DbUser on a cluster, SecretArn (the loader secret) otherwise. */
  readonly owner: DataApiTarget;
  /** Serverless: the loader secret the bootstrap fills. */
  readonly loaderSecretArn?: string;
}

export class BootstrapConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`bootstrap: bad environment: ${problems.join("; ")}`);
    this.name = "BootstrapConfigError";
  }
}

export function readBootstrapEnvironment(env: Readonly<Record<string, string | undefined>>): BootstrapEnvironment {
  const problems: string[] = [];
  const value = (name: string): string => env[name]?.trim() ?? "";
  const required = (name: string): string => {
    const v = value(name);
    if (v === "") problems.push(`${name} is not set`);
    return v;
  };
  const identifier = (name: string): string => {
    const v = required(name);
    if (v !== "" && !IDENTIFIER_PATTERN.test(v)) problems.push(`${name} is ${JSON.stringify(v)}: expected a name matching ${IDENTIFIER_PATTERN.source}`);
    return v;
  };

  const mode = required(BOOTSTRAP_ENV.mode);
  if (mode !== "" && mode !== "cluster" && mode !== "serverless" && mode !== "existing") {
    problems.push(`${BOOTSTRAP_ENV.mode} is ${JSON.stringify(mode)}: expected cluster, serverless or existing`);
  }
  const loaderUser = identifier(BOOTSTRAP_ENV.loaderUser);
  const readerGroup = identifier(BOOTSTRAP_ENV.readerGroup);
  const dataSchema = identifier(BOOTSTRAP_ENV.dataSchema);
  const metadataSchema = identifier(BOOTSTRAP_ENV.metadataSchema);
  const tables = required(BOOTSTRAP_ENV.tables).split(",").map((t) => t.trim()).filter((t) => t !== "");
  const unknown = tables.filter((t) => !(t in TABLE_SCHEMAS));
  if (unknown.length > 0) problems.push(`${BOOTSTRAP_ENV.tables} names tables this bundle does not know: ${unknown.join(", ")}`);

  const database = required("WAREHOUSE_DATABASE");
  const clusterId = value("WAREHOUSE_CLUSTER_ID");
  const workgroup = value("WAREHOUSE_WORKGROUP");
  if ((clusterId === "") === (workgroup === "")) problems.push("exactly one of WAREHOUSE_CLUSTER_ID and WAREHOUSE_WORKGROUP must be set");
  const where = clusterId !== "" ? { ClusterIdentifier: clusterId, Database: database } : { WorkgroupName: workgroup, Database: database };
  const loaderSecretArn = value("WAREHOUSE_SECRET_ARN");
  const dbUser = value("WAREHOUSE_DB_USER");
  if ((loaderSecretArn === "") === (dbUser === "")) {
    problems.push("exactly one of WAREHOUSE_SECRET_ARN (the loader secret) and WAREHOUSE_DB_USER (IAM credentials) must be set");
  }
  const adminSecretArn = value(BOOTSTRAP_ENV.adminSecretArn);
  if (mode !== "existing" && adminSecretArn === "") problems.push(`${BOOTSTRAP_ENV.adminSecretArn} is not set (needed with a ${mode} warehouse)`);
  if (mode === "existing" && adminSecretArn !== "") {
    problems.push(`${BOOTSTRAP_ENV.adminSecretArn} is set for an existing warehouse: the stack never holds its admin credentials`);
  }
  if (mode === "cluster" && dbUser !== loaderUser) {
    problems.push(`WAREHOUSE_DB_USER is ${JSON.stringify(dbUser)}: on the stack's cluster the loaders log in as ${loaderUser}`);
  }
  if (problems.length > 0) throw new BootstrapConfigError(problems);

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
  };
}
