/**
 * The bootstrap's real ports: a SqlSession over the Redshift Data API (one per identity: the admin secret, or the
 * loader's own authentication), and the loader secret over Secrets Manager.
 */
import {
  BatchExecuteStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  type DescribeStatementCommandOutput,
  type RedshiftDataClient,
} from "@aws-sdk/client-redshift-data";
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { randomBytes } from "node:crypto";
import { failedSubStatementOf, fieldText, subStatementIndex, waitForStatement } from "../shared/data-api";
import type { LoaderSecret, SqlSession } from "./bootstrap";

/** Where and as whom: the Data API's target parameters. */
export interface DataApiTarget {
  readonly ClusterIdentifier?: string;
  readonly WorkgroupName?: string;
  readonly Database: string;
  readonly SecretArn?: string;
  readonly DbUser?: string;
}

/** A statement that ended FAILED or ABORTED: which one of the batch, and Redshift's text. */
export class BootstrapStatementError extends Error {
  readonly statementId: string;
  /** The SQL that failed (a FAILED sub-statement, not one ABORTED after it), when the Data API says. */
  readonly statement?: string;

  constructor(step: string, described: DescribeStatementCommandOutput, sqls: readonly string[]) {
    const failed = failedSubStatementOf(described);
    const text = failed?.Error || described.Error || `the statement ended ${described.Status} without an error text`;
    const index = subStatementIndex(failed);
    const statement = failed?.QueryString ?? (index !== undefined ? sqls[index - 1] : sqls.length === 1 ? sqls[0] : undefined);
    // A password hash never goes into a message: it would reach the Lambda's result, and Terraform's state.
    const shown = statement?.replace(/PASSWORD '[^']*'/g, "PASSWORD '***'");
    super(`bootstrap: ${step} failed: ${text}${shown ? ` (in: ${shown.slice(0, 300)})` : ""}`);
    this.name = "BootstrapStatementError";
    this.statementId = described.Id ?? "unknown";
    this.statement = shown;
  }
}

export interface DataApiSessionOptions {
  readonly client: Pick<RedshiftDataClient, "send">;
  readonly target: DataApiTarget;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Longest wait between two DescribeStatement calls. @default 5000 */
  readonly maxDelayMs?: number;
}

export function dataApiSession(options: DataApiSessionOptions): SqlSession {
  const { client, target } = options;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const maxDelayMs = options.maxDelayMs ?? 5000;

  const wait = (id: string) => waitForStatement(client, id, sleep, maxDelayMs);

  return {
    async query(sql) {
      const { Id } = await client.send(new ExecuteStatementCommand({ ...target, Sql: sql }));
      if (!Id) throw new Error("bootstrap: ExecuteStatement returned no statement id");
      const done = await wait(Id);
      if (done.Status !== "FINISHED") throw new BootstrapStatementError("catalog query", done, [sql]);
      if (done.HasResultSet === false) return [];
      const rows: (string | null)[][] = [];
      let nextToken: string | undefined;
      do {
        const page = await client.send(new GetStatementResultCommand({ Id, NextToken: nextToken }));
        for (const record of page.Records ?? []) rows.push(record.map(fieldText));
        nextToken = page.NextToken;
      } while (nextToken);
      return rows;
    },
    async batch(sqls, name) {
      if (sqls.length === 0) return;
      // Without ExecutionMode the statements run as one transaction (the Data API's default).
      const { Id } = await client.send(new BatchExecuteStatementCommand({ ...target, Sqls: [...sqls], StatementName: name }));
      if (!Id) throw new Error("bootstrap: BatchExecuteStatement returned no statement id");
      const done = await wait(Id);
      if (done.Status !== "FINISHED") throw new BootstrapStatementError(name, done, sqls);
    },
  };
}

/**
 * A password Redshift accepts (8 to 64 characters, an upper-case letter, a lower-case letter and a digit, none of
 * ' " \ / @): 40 random letters and digits, then "Aa1" so each class is there whatever the random part holds.
 */
export function generatePassword(random: (n: number) => Buffer = randomBytes): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = random(40);
  let out = "";
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return `${out}Aa1`;
}

/**
 * The loader secret (created empty by Terraform, so its value is never in the state): the Data API reads
 * `username` and `password` from it. The first run stores a generated password; later runs read it back.
 */
export function secretsManagerLoaderSecret(
  client: Pick<SecretsManagerClient, "send">,
  secretArn: string,
  newPassword: () => string = () => generatePassword(),
): LoaderSecret {
  return {
    async passwordFor(user) {
      try {
        const current = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
        const value = JSON.parse(current.SecretString ?? "{}") as { username?: unknown; password?: unknown };
        if (value.username === user && typeof value.password === "string" && value.password.length > 0) {
          return { password: value.password, generated: false };
        }
      } catch (err) {
        // A secret without a value yet answers ResourceNotFoundException (no AWSCURRENT version).
        if (!(err instanceof ResourceNotFoundException) && (err as Error).name !== "ResourceNotFoundException") throw err;
      }
      const password = newPassword();
      await client.send(
        new PutSecretValueCommand({ SecretId: secretArn, SecretString: JSON.stringify({ username: user, password }) }),
      );
      return { password, generated: true };
    },
  };
}
