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
import { resolveConfig } from "../../modules/config";
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
(warehouse.mode "existing"), and exits: no AWS call.`;

/** The Data API target and the loaders' settings from `env`; throws listing every missing variable. */
export function verifyEnvironment(env: Readonly<Record<string, string | undefined>>): {
  target: DataApiTarget;
  exportsBucket: string;
  copyRoleArn: string;
  dataSchema: string;
  metadataSchema: string;
} {
  const v = (name: string) => env[name]?.trim() ?? "";
  const missing = ["WAREHOUSE_DATABASE", "EXPORTS_BUCKET", "COPY_ROLE_ARN"].filter((n) => v(n) === "");
  if ((v("WAREHOUSE_CLUSTER_ID") === "") === (v("WAREHOUSE_WORKGROUP") === "")) missing.push("exactly one of WAREHOUSE_CLUSTER_ID and WAREHOUSE_WORKGROUP");
  if ((v("WAREHOUSE_DB_USER") === "") === (v("WAREHOUSE_SECRET_ARN") === "")) missing.push("exactly one of WAREHOUSE_DB_USER and WAREHOUSE_SECRET_ARN");
  if (missing.length > 0) throw new Error(`verify: set ${missing.join(", ")} (see npm run verify -- --help)`);
  const where = v("WAREHOUSE_CLUSTER_ID") !== "" ? { ClusterIdentifier: v("WAREHOUSE_CLUSTER_ID") } : { WorkgroupName: v("WAREHOUSE_WORKGROUP") };
  const who = v("WAREHOUSE_DB_USER") !== "" ? { DbUser: v("WAREHOUSE_DB_USER") } : { SecretArn: v("WAREHOUSE_SECRET_ARN") };
  return {
    target: { ...where, Database: v("WAREHOUSE_DATABASE"), ...who },
    exportsBucket: v("EXPORTS_BUCKET"),
    copyRoleArn: v("COPY_ROLE_ARN"),
    dataSchema: v("DATA_SCHEMA") || "controlshift",
    metadataSchema: v("METADATA_SCHEMA") || "controlshift_mirror_meta",
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      execute: { type: "boolean", default: false },
      grants: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(VERIFY_USAGE);
    return 0;
  }
  if (values.grants) {
    // The config is read only here: the warehouse checks need only the loaders' variables.
    const { default: config } = await import("../../config");
    const resolved = resolveConfig(config);
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
