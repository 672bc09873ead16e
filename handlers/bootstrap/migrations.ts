/**
 * The metadata schema's versioned migrations, as the bootstrap applies them (in version order, each once, each in
 * one transaction with the row that records it; see sql.ts, migrationBatches).
 *
 * The list itself belongs to schemas/ (the metadata's definition); this file only adapts it to the bootstrap.
 * Version 1 is today's metadata (schemas/metadata.ts) without its CREATE SCHEMA: the admin part creates the schema,
 * owned by the loader user, and the owner part runs as that user.
 */
import { metadataStatements } from "../../schemas/metadata";

export interface MetadataMigration {
  /** Applied in increasing order; never renumbered, never edited once released. */
  readonly version: number;
  readonly name: string;
  /** The statements, for the metadata schema `schema`, Redshift dialect, without trailing semicolons. */
  readonly statements: (schema: string) => string[];
}

export const METADATA_MIGRATIONS: readonly MetadataMigration[] = [
  {
    version: 1,
    name: "load ledger, load failures, table freshness",
    statements: (schema) => metadataStatements(schema, "redshift").filter((s) => !s.startsWith("CREATE SCHEMA")),
  },
];
