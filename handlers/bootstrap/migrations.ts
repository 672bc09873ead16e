/**
 * The metadata schema's versioned migrations, as the bootstrap applies them (in version order, each once, each in
 * one transaction with the row that records it; see sql.ts, migrationBatches).
 *
 * The list itself belongs to schemas/ (schemas/migrations.ts: the metadata's definition, also applied by
 * PostgresWarehouse.migrate locally); this file only re-exports it for the bootstrap. The admin part creates the
 * schema, owned by the loader user, and the owner part runs the migrations as that user.
 */
export { METADATA_MIGRATIONS, type MetadataMigration } from "../../schemas/migrations";
