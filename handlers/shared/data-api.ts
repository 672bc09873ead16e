/**
 * Small readers of the Redshift Data API's answers, shared by the loader's adapter, the bootstrap and verify.
 */
import {
  DescribeStatementCommand,
  type DescribeStatementCommandOutput,
  type Field,
  type RedshiftDataClient,
  type SubStatementData,
} from "@aws-sdk/client-redshift-data";

/** A result field as text (numbers and booleans as their text), null for SQL NULL or a field of no known kind. */
export function fieldText(field: Field | undefined): string | null {
  if (field === undefined || field.isNull) return null;
  if (field.stringValue !== undefined) return field.stringValue;
  if (field.longValue !== undefined) return String(field.longValue);
  if (field.doubleValue !== undefined) return String(field.doubleValue);
  if (field.booleanValue !== undefined) return String(field.booleanValue);
  return null;
}

/**
 * The sub-statement that failed a batch: the one whose status is FAILED (the statements after it are reported
 * ABORTED, and are not the cause), else the first ABORTED one (a cancelled batch).
 */
export function failedSubStatementOf(described: DescribeStatementCommandOutput): SubStatementData | undefined {
  const subs = described.SubStatements ?? [];
  return subs.find((s) => s.Status === "FAILED") ?? subs.find((s) => s.Status === "ABORTED");
}

/** The 1-based index of a batch's sub-statement, from its id "<batch id>:<n>". */
export function subStatementIndex(sub: SubStatementData | undefined): number | undefined {
  const n = sub?.Id !== undefined ? Number(/:(\d+)$/.exec(sub.Id)?.[1]) : undefined;
  return n !== undefined && Number.isInteger(n) ? n : undefined;
}

/**
 * Polls DescribeStatement until the statement ends (FINISHED, FAILED or ABORTED): at once, then after 200 ms,
 * 400 ms, ... at most maxDelayMs apart. For work with no deadline of its own (the bootstrap, verify); the loader
 * polls against its Lambda's remaining time instead.
 */
export async function waitForStatement(
  client: Pick<RedshiftDataClient, "send">,
  id: string,
  sleep: (ms: number) => Promise<void>,
  maxDelayMs = 5000,
): Promise<DescribeStatementCommandOutput> {
  let delay = 200;
  for (;;) {
    const described = await client.send(new DescribeStatementCommand({ Id: id }));
    if (described.Status === "FINISHED" || described.Status === "FAILED" || described.Status === "ABORTED") return described;
    await sleep(delay);
    delay = Math.min(delay * 2, maxDelayMs);
  }
}
