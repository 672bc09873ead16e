/**
 * verify's real ports: the Data API as the loader user (batches whose sub-statement results are read back), and the
 * exports bucket.
 */
import { BatchExecuteStatementCommand, GetStatementResultCommand, type RedshiftDataClient } from "@aws-sdk/client-redshift-data";
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { dataApiSession, type DataApiTarget } from "../../handlers/bootstrap/adapters";
import { failedSubStatementOf, fieldText, waitForStatement } from "../../handlers/shared/data-api";
import type { VerifyPorts, VerifyWarehouse } from "./verify";

export function dataApiVerifyWarehouse(
  client: Pick<RedshiftDataClient, "send">,
  target: DataApiTarget,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): VerifyWarehouse {
  const session = dataApiSession({ client, target, sleep });
  return {
    query: (sql) => session.query(sql),
    async batch(sqls, resultOf) {
      const { Id } = await client.send(new BatchExecuteStatementCommand({ ...target, Sqls: [...sqls], StatementName: "controlshift-mirror:verify" }));
      if (!Id) throw new Error("BatchExecuteStatement returned no statement id");
      const d = await waitForStatement(client, Id, sleep);
      if (d.Status !== "FINISHED") {
        // The statement that FAILED, not one ABORTED after it.
        return { error: failedSubStatementOf(d)?.Error || d.Error || `the batch ended ${d.Status}` };
      }
      // A batch's sub-statement results are read by "<id>:<n>".
      const page = await client.send(new GetStatementResultCommand({ Id: `${Id}:${resultOf}` }));
      return {
        rows: (page.Records ?? []).map((r) => r.map(fieldText)),
      };
    },
  };
}

export function s3VerifyObjects(client: Pick<S3Client, "send">, bucket: string): NonNullable<VerifyPorts["objects"]> {
  return {
    async put(key, body) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: "text/csv" }));
    },
    async remove(key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
  };
}
