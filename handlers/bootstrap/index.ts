/**
 * Bootstrap Lambda: run by Terraform at apply time (aws_lambda_invocation, modules/bootstrap.ts) whenever the table
 * list, the table DDL, the metadata migrations or this code change. The only code that uses the warehouse's admin
 * identity: it creates the loader user, the readers' group and the schemas (as the admin), then the tables and the
 * metadata (as the loader user). Logic in bootstrap.ts and sql.ts; this file reads the environment and builds the
 * clients.
 *
 * Its result (a BootstrapReport: names and counts) is what Terraform stores as the invocation's result; a failure
 * fails the apply with the error's message (see help, Troubleshooting the bootstrap).
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { RedshiftDataClient } from "@aws-sdk/client-redshift-data";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { dataApiSession, secretsManagerLoaderSecret } from "./adapters";
import { runBootstrap, type BootstrapReport } from "./bootstrap";
import { readBootstrapEnvironment } from "./config";

const environment = readBootstrapEnvironment(process.env);
const logger = new Logger({ serviceName: environment.serviceName });
const dataApi = new RedshiftDataClient({});

export async function handler(event: unknown): Promise<BootstrapReport> {
  logger.info("bootstrap started", { input: event });
  try {
    return await runBootstrap(environment.settings, {
      ...(environment.admin ? { admin: dataApiSession({ client: dataApi, target: environment.admin }) } : {}),
      owner: dataApiSession({ client: dataApi, target: environment.owner }),
      ...(environment.loaderSecretArn
        ? { loaderSecret: secretsManagerLoaderSecret(new SecretsManagerClient({}), environment.loaderSecretArn) }
        : {}),
      log: (message, fields) => logger.info(message, fields ?? {}),
    });
  } catch (err) {
    logger.error("bootstrap failed", { error: err as Error, help: `see help: ${(err as Error).name}` });
    throw err;
  }
}
