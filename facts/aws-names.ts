/**
 * Shared facts (see facts/README.md; new shared facts go in this folder): what AWS accepts as a name or ARN, checked
 * by the config (modules/config.ts) and again by the functions' environment readers. One pattern per name, from the
 * stricter of the AWS rules quoted beside it, so the stack never writes a value a function refuses.
 */

/**
 * A Secrets Manager secret ARN. Secret names hold ASCII letters, digits and `/_+=.@-`; the ARN adds a hyphen and six
 * random characters (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html). The
 * secrets Redshift manages for an admin password are named `redshift!<cluster or namespace>-<user>`, hence `!`.
 * Group 2 is the region.
 */
export const SECRET_ARN_PATTERN = /^arn:aws(-[a-z]+)*:secretsmanager:([a-z0-9-]+):[0-9]{12}:secret:[A-Za-z0-9/_+=.@!-]+$/;

/** An IAM role ARN (role names and paths: letters, digits and `+=,.@_-`, paths with `/`). */
export const IAM_ROLE_ARN_PATTERN = /^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role\/[A-Za-z0-9+=,.@_/-]{1,512}$/;

/**
 * A Redshift cluster identifier: 1 to 63 lower-case letters, digits or hyphens, starting with a letter, no two
 * consecutive hyphens, not ending with a hyphen (CreateCluster, ClusterIdentifier).
 */
export const CLUSTER_ID_PATTERN = /^[a-z](?!.*--)(?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** A Redshift Serverless workgroup name: 3 to 64 lower-case letters, digits or hyphens (CreateWorkgroup). */
export const WORKGROUP_NAME_PATTERN = /^[a-z0-9-]{3,64}$/;

/** A database name: lower-case letters, digits and underscores, at most 64 (CreateCluster, DBName). */
export const DATABASE_NAME_PATTERN = /^[a-z_][a-z0-9_]{0,63}$/;

/** A database user name for the Data API's DbUser (the stack's loader user, or the one the config names). */
export const DB_USER_PATTERN = /^[a-z_][a-z0-9_]{0,127}$/;

/**
 * An S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens, starting and ending alphanumeric):
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
 */
export const S3_BUCKET_NAME_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
