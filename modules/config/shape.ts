/**
 * The shape of the deployment config: every field an operator may write, at every depth, described once.
 *
 * The unknown-field check walks the operator's config against this description, so `controlShift`, `alertEmail` or
 * `network.allowedCIDRs` are refused instead of silently ignored. The description is typed against the config's own
 * types (`fields<T>` must list exactly the keys of T, optional ones included), so a field added to a type without
 * adding it here fails `tsc`, and a field listed here that the types lack fails it too.
 */
import type {
  AlertsConfig,
  AllowedCidr,
  BackendConfig,
  ExistingWarehouseAuth,
  ExistingWarehouseConfig,
  LoaderSizing,
  LoadersConfig,
  MirrorConfig,
  NetworkConfig,
  WarehouseConfig,
} from "./types";
import { didYouMean } from "./suggest";

export type Shape =
  /** A value the value checks judge (a string, a number, a list of strings...). */
  | { readonly kind: "value" }
  /** An object with exactly these fields. */
  | { readonly kind: "object"; readonly fields: Readonly<Record<string, Shape>> }
  /** A list whose entries have this shape. */
  | { readonly kind: "list"; readonly item: Shape }
  /** An object whose keys are free (tags, table names) and whose values have this shape. */
  | { readonly kind: "record"; readonly value: Shape }
  /** An object whose fields depend on its `tag` field (backend.type, warehouse.existing.auth.type). */
  | { readonly kind: "union"; readonly tag: string; readonly variants: Readonly<Record<string, Readonly<Record<string, Shape>>>> };

const value: Shape = { kind: "value" };

/** Every key of T, optional or not, mapped to its shape: a missing or extra key is a type error. */
type FieldsOf<T> = { readonly [K in keyof Required<T>]: Shape };

function fields<T>(f: FieldsOf<T>): Shape {
  return { kind: "object", fields: f as Record<string, Shape> };
}

const list = (item: Shape): Shape => ({ kind: "list", item });
const record = (v: Shape): Shape => ({ kind: "record", value: v });

/** A union on the field "type": one field list per variant, each typed against that variant. */
function byType<T extends { readonly type: string }>(variants: { readonly [V in T["type"]]: FieldsOf<Extract<T, { readonly type: V }>> }): Shape {
  return { kind: "union", tag: "type", variants: variants as Record<string, Record<string, Shape>> };
}

const sizing = { memoryMiB: value, timeoutSeconds: value } as const;

/** The config, every section and field. */
export const CONFIG_SHAPE: Shape = fields<MirrorConfig>({
  prefix: value,
  region: value,
  tables: value,
  extraTables: value,
  controlshift: fields<MirrorConfig["controlshift"]>({ region: value, exportBuckets: value }),
  alertEmails: value,
  exports: fields<MirrorConfig["exports"]>({ expireAfterDays: value, versioned: value, noncurrentDays: value }),
  logRetentionDays: value,
  receiver: fields<MirrorConfig["receiver"]>({
    ...sizing,
    maxBodyBytes: value,
    secretCacheSeconds: value,
    throttleRatePerSecond: value,
    throttleBurst: value,
  }),
  downloader: fields<MirrorConfig["downloader"]>({
    ...sizing,
    partSizeMiB: value,
    uploadQueueSize: value,
    maxConcurrency: value,
    maxReceiveCount: value,
  }),
  secretRecoveryDays: value,
  backend: byType<BackendConfig>({
    local: { type: value, path: value },
    s3: { type: value, bucket: value, key: value, region: value, useLockfile: value },
    cloud: { type: value, organization: value, workspace: value, tags: value, project: value, hostname: value },
  }),
  tags: record(value),
  network: fields<NetworkConfig>({
    vpcCidr: value,
    availabilityZones: value,
    existingVpc: fields<NonNullable<NetworkConfig["existingVpc"]>>({ vpcId: value, subnetIds: value }),
    allowedCidrs: list(fields<AllowedCidr>({ cidr: value, description: value })),
    allowPublicInternet: value,
  }),
  warehouse: fields<WarehouseConfig>({
    mode: value,
    database: value,
    adminUsername: value,
    port: value,
    nodeType: value,
    numberOfNodes: value,
    snapshotRetentionDays: value,
    enhancedVpcRouting: value,
    auditLogging: value,
    baseCapacity: value,
    maxCapacity: value,
    existing: fields<ExistingWarehouseConfig>({
      clusterIdentifier: value,
      workgroupName: value,
      workgroupId: value,
      database: value,
      auth: byType<ExistingWarehouseAuth>({
        secret: { type: value, secretArn: value },
        iam: { type: value, dbUser: value },
      }),
      copyRoleArn: value,
    }),
  }),
  loaders: fields<LoadersConfig>({
    dataSchema: value,
    metadataSchema: value,
    memoryMiB: value,
    timeoutSeconds: value,
    tables: record(fields<LoaderSizing>(sizing)),
    incrementalBatchSize: value,
    incrementalBatchingWindowSeconds: value,
    maxReceiveCount: value,
  }),
  alerts: fields<AlertsConfig>({
    httpsEndpoints: value,
    freshnessHours: value,
    downloadsQueueAgeMinutes: value,
    incrementalQueueAgeMinutes: value,
    fullQueueAgeMinutes: value,
    functionErrors: value,
    webhookUnauthorized: value,
    webhookRejected: value,
    webhookServerErrors: value,
  }),
});

export const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * One problem per field the shape does not know, at any depth, with the closest known field as a suggestion.
 * Values of the wrong kind (a string where a section belongs) are left to the value checks, which name them better.
 */
export function unknownFieldProblems(input: unknown, shape: Shape = CONFIG_SHAPE, path = ""): string[] {
  const at = (key: string) => (path === "" ? key : `${path}.${key}`);
  switch (shape.kind) {
    case "value":
      return [];
    case "list":
      return Array.isArray(input) ? input.flatMap((item, i) => unknownFieldProblems(item, shape.item, `${path}[${i}]`)) : [];
    case "record":
      return isPlainObject(input) ? Object.entries(input).flatMap(([k, v]) => unknownFieldProblems(v, shape.value, at(k))) : [];
    case "object":
      return isPlainObject(input) ? objectProblems(input, shape.fields, path, path === "" ? "the config" : path) : [];
    case "union": {
      if (!isPlainObject(input)) return [];
      const tag = input[shape.tag];
      // An unknown or missing tag is a value problem (e.g. backend.type), reported by the value checks.
      if (typeof tag !== "string" || !Object.hasOwn(shape.variants, tag)) return [];
      return objectProblems(input, shape.variants[tag], path, `${path} with ${shape.tag} ${JSON.stringify(tag)}`);
    }
  }
}

function objectProblems(input: Record<string, unknown>, known: Readonly<Record<string, Shape>>, path: string, where: string): string[] {
  const at = (key: string) => (path === "" ? key : `${path}.${key}`);
  const names = Object.keys(known);
  return Object.entries(input).flatMap(([key, v]) => {
    if (Object.hasOwn(known, key)) return unknownFieldProblems(v, known[key], at(key));
    const hint = didYouMean(key, names);
    return [`${at(key)} is not a field of ${where}: ${hint || `the fields are ${names.join(", ")}`}`];
  });
}
