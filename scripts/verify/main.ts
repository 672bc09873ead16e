/**
 * npm run verify [-- --execute]: run once after deploying, against the live warehouse, as the loader user.
 *
 * Reads the loaders' own variables from the environment (copy them from any loader function, see help: npm run
 * verify) and AWS credentials the usual way (AWS_PROFILE, ...). Dry by default: without --execute it uploads nothing
 * and runs no COPY, but reads the isolation level and the loader user's privileges and runs the PostgreSQL side.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { RedshiftDataClient } from "@aws-sdk/client-redshift-data";
import { S3Client } from "@aws-sdk/client-s3";
import { openPglite, pgliteDriver } from "../../handlers/load/pglite-driver";
import type { DataApiTarget } from "../../handlers/bootstrap/adapters";
import { LOADER_ENV, WAREHOUSE_ENV } from "../../facts/environment";
import { DEFAULT_DATA_SCHEMA, DEFAULT_METADATA_SCHEMA } from "../../facts/warehouse";
import { environmentConfig } from "../environment";
import { dataApiVerifyWarehouse, s3VerifyObjects } from "./aws";
import { existingWarehouseGrants } from "./grants";
import { formatReport, runVerify } from "./verify";

export const VERIFY_USAGE = `npm run verify [-- --execute | --grants]

Loads edge-case CSV files through the loaders' COPY into temporary tables, as the loader user, and prints what
the warehouse did next to what the PostgreSQL adapter does (PGlite), with the isolation level and the loader
user's privileges. Dry by default: --execute uploads the files (exports/verify/<run>/, deleted afterwards) and
runs the COPYs. Needs the loaders' variables in the environment:
  WAREHOUSE_DATABASE, WAREHOUSE_CLUSTER_ID or WAREHOUSE_WORKGROUP, WAREHOUSE_DB_USER or WAREHOUSE_SECRET_ARN,
  EXPORTS_BUCKET, COPY_ROLE_ARN, and optionally DATA_SCHEMA, METADATA_SCHEMA.

--grants prints, for config.ts, the statements to run once as a superuser on an existing warehouse
(warehouse.mode "existing"), and exits: no AWS call. With several environments in config.ts, name one:
--grants --env <name>.`;

/** The Data API target and the loaders' settings from `env` (the loaders' own variable names); throws listing every missing one. */
export function verifyEnvironment(env: Readonly<Record<string, string | undefined>>): {
  target: DataApiTarget;
  exportsBucket: string;
  copyRoleArn: string;
  dataSchema: string;
  metadataSchema: string;
} {
  const v = (name: string) => env[name]?.trim() ?? "";
  const W = WAREHOUSE_ENV;
  const missing: string[] = [W.database, LOADER_ENV.exportsBucket, W.copyRoleArn].filter((n) => v(n) === "");
  if ((v(W.clusterId) === "") === (v(W.workgroup) === "")) missing.push(`exactly one of ${W.clusterId} and ${W.workgroup}`);
  if ((v(W.dbUser) === "") === (v(W.secretArn) === "")) missing.push(`exactly one of ${W.dbUser} and ${W.secretArn}`);
  if (missing.length > 0) throw new Error(`verify: set ${missing.join(", ")} (see npm run verify -- --help)`);
  const where = v(W.clusterId) !== "" ? { ClusterIdentifier: v(W.clusterId) } : { WorkgroupName: v(W.workgroup) };
  const who = v(W.dbUser) !== "" ? { DbUser: v(W.dbUser) } : { SecretArn: v(W.secretArn) };
  return {
    target: { ...where, Database: v(W.database), ...who },
    exportsBucket: v(LOADER_ENV.exportsBucket),
    copyRoleArn: v(W.copyRoleArn),
    dataSchema: v(LOADER_ENV.dataSchema) || DEFAULT_DATA_SCHEMA,
    metadataSchema: v(LOADER_ENV.metadataSchema) || DEFAULT_METADATA_SCHEMA,
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      execute: { type: "boolean", default: false },
      grants: { type: "boolean", default: false },
      env: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(VERIFY_USAGE);
    return 0;
  }
  if (values.grants) {
    // The config is read only here: the warehouse checks need only the loaders' variables.
    const resolved = environmentConfig(values.env);
    if (resolved.warehouse.mode !== "existing") {
      console.error(`note: warehouse.mode is "${resolved.warehouse.mode}": the bootstrap runs these itself at apply time`);
    }
    for (const sql of existingWarehouseGrants(resolved)) console.log(sql);
    return 0;
  }
  const env = verifyEnvironment(process.env);
  const dir = mkdtempSync(join(tmpdir(), "cs-mirror-verify-"));
  const db = await openPglite(dir);
  try {
    const report = await runVerify(
      { execute: values.execute ?? false, runId: new Date().toISOString().replace(/[-:.]/g, ""), database: env.target.Database, ...env },
      {
        warehouse: dataApiVerifyWarehouse(new RedshiftDataClient({}), env.target),
        objects: s3VerifyObjects(new S3Client({}), env.exportsBucket),
        postgres: pgliteDriver(db),
      },
    );
    console.log(formatReport(report));
    return 0;
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: Error) => {
      console.error(err.message);
      process.exitCode = 1;
    },
  );
}
