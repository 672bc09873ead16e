import { Construct } from "constructs";
import { TerraformOutput, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { setting } from "./access";
import { DOWNLOADER_ENV, LOADER_ENV, RECEIVER_ENV } from "../facts/environment";
import type { ExportKind } from "../facts/exports";
import { deploymentMetricsNamespace } from "../facts/metrics";
import { Alerts } from "./alerts";
import { WarehouseBootstrap } from "./bootstrap";
import { configureBackend } from "./backend";
import { MirrorConfig, loaderFunctionName, loaderSizing, mirroredTables } from "./config";
import { ExportsBucket } from "./exports-bucket";
import { DEFAULT_BUNDLE_DIR, HandlerBundles } from "./handler-bundles";
import { MirrorFunction } from "./mirror-function";
import { Network } from "./network";
import { QueueWithDlq, addQueueConsumer } from "./queue-with-dlq";
import { SigningSecret } from "./signing-secret";
import { Warehouse } from "./warehouse";
import { networkFromConfig, warehouseFromConfig } from "./warehouse-from-config";
import { TableLoader } from "./table-loader";
import { WebhookApi } from "./webhook-api";

export interface MirrorStackProps {
  /** A resolved, validated config (modules/config.ts, resolveConfig). */
  readonly config: MirrorConfig;
  /** Where the handler zips are. @default ".build/handlers" */
  readonly bundleDir?: string;
  /**
   * Configure the provider so `terraform plan` runs without AWS credentials or network (CI, reviews):
   * skips the credential check, the account-id lookup and the metadata API. Never for an apply.
   * @default false
   */
  readonly offlinePlan?: boolean;
}

/** AWS advises an SQS visibility timeout of at least six times the consuming function's timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** Everything one deployment needs: webhook endpoint, download queue, exports bucket and the functions. */
export class MirrorStack extends TerraformStack {
  readonly exportsBucket: ExportsBucket;
  readonly signingSecret: SigningSecret;
  readonly downloads: QueueWithDlq;
  readonly receiver: MirrorFunction;
  readonly downloader: MirrorFunction;
  readonly webhookApi: WebhookApi;
  /** One full and one incremental loader per configured table, in config order. */
  readonly loaders: readonly { readonly table: string; readonly full: TableLoader; readonly incremental: TableLoader }[];
  /** The warehouse's VPC, subnets and security group; undefined for an existing warehouse. */
  readonly network?: Network;
  /** Where the loaders load: `warehouse.grantDataApi()` gives a function the Data API access and its variables. */
  readonly warehouse: Warehouse;
  /** The function that sets up the warehouse at apply time (the only reader of the admin secret), and its invocation. */
  readonly bootstrap: WarehouseBootstrap;
  /** The alerts topic and every alarm: each DLQ, each queue's age, each function's errors, each table's freshness, the webhook. */
  readonly alerts: Alerts;

  constructor(scope: Construct, id: string, props: MirrorStackProps) {
    super(scope, id);
    const { config } = props;
    const p = config.prefix;

    configureBackend(this, p, config.region, config.backend);
    new AwsProvider(this, "aws", {
      region: config.region,
      defaultTags: [{ tags: { ...config.tags, "controlshift-mirror:prefix": p } }],
      ...(props.offlinePlan
        ? { skipCredentialsValidation: true, skipRequestingAccountId: true, skipMetadataApiCheck: "true" }
        : {}),
    });

    const metricsNamespace = deploymentMetricsNamespace(p);
    const bundles = new HandlerBundles(this, "bundles", { directory: props.bundleDir ?? DEFAULT_BUNDLE_DIR });

    this.exportsBucket = new ExportsBucket(this, "exports", {
      prefix: p,
      expireAfterDays: config.exports.expireAfterDays,
      versioned: config.exports.versioned,
      noncurrentDays: config.exports.noncurrentDays,
    });
    this.signingSecret = new SigningSecret(this, "signing-secret", {
      prefix: p,
      recoveryWindowDays: config.secretRecoveryDays,
    });
    this.downloads = new QueueWithDlq(this, "downloads", {
      queueName: `${p}-downloads`,
      visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_FACTOR * config.downloader.timeoutSeconds,
      maxReceiveCount: config.downloader.maxReceiveCount,
    });

    this.network = networkFromConfig(this, "network", config);
    this.warehouse = warehouseFromConfig(this, "warehouse", config, this.exportsBucket, this.network);

    this.receiver = new MirrorFunction(this, "receiver", {
      functionName: `${p}-receiver`,
      description: "Verifies ControlShift webhooks and queues bulk-data exports for download",
      bundle: bundles.get("receiver"),
      memoryMiB: config.receiver.memoryMiB,
      timeoutSeconds: config.receiver.timeoutSeconds,
      logRetentionDays: config.logRetentionDays,
      metricsNamespace,
      grants: [
        this.signingSecret.grantRead(),
        this.downloads.grantSend(RECEIVER_ENV.downloadQueueUrl),
        this.exportsBucket.grantWriteQuarantine(),
        setting(RECEIVER_ENV.tables, mirroredTables(config).join(",")),
        setting(RECEIVER_ENV.controlshiftBuckets, config.controlshift.exportBuckets.join(",")),
        setting(RECEIVER_ENV.maxBodyBytes, config.receiver.maxBodyBytes),
        setting(RECEIVER_ENV.secretCacheSeconds, config.receiver.secretCacheSeconds),
      ],
    });

    this.downloader = new MirrorFunction(this, "downloader", {
      functionName: `${p}-downloader`,
      description: "Streams ControlShift export files into the exports bucket",
      bundle: bundles.get("downloader"),
      memoryMiB: config.downloader.memoryMiB,
      timeoutSeconds: config.downloader.timeoutSeconds,
      logRetentionDays: config.logRetentionDays,
      metricsNamespace,
      grants: [
        this.exportsBucket.grantWriteExports(),
        this.downloads.grantConsume(),
        this.downloads.grantSendToDeadLetter(DOWNLOADER_ENV.deadLetterQueueUrl),
        setting(DOWNLOADER_ENV.partSizeMib, config.downloader.partSizeMiB),
        setting(DOWNLOADER_ENV.uploadQueueSize, config.downloader.uploadQueueSize),
      ],
    });
    addQueueConsumer(this, "downloader-source", this.downloads, this.downloader, {
      batchSize: 1,
      maxConcurrency: config.downloader.maxConcurrency,
    });

    // A full and an incremental loader per configured table, sharing one bundle (per-table isolation,
    // logs, tuning and alarms). Construct ids are the table names: adding a table never renames another's.
    const loaderBundle = bundles.get("loader");
    const warehouseGrants = [this.warehouse.grantDataApi()];
    const schemas = [
      setting(LOADER_ENV.dataSchema, config.loaders.dataSchema),
      setting(LOADER_ENV.metadataSchema, config.loaders.metadataSchema),
    ];
    this.loaders = mirroredTables(config).map((table) => {
      const sizing = loaderSizing(config, table);
      const pair = new Construct(this, `load-${table}`);
      const make = (kind: ExportKind) =>
        new TableLoader(pair, kind, {
          prefix: p,
          table,
          kind,
          bundle: loaderBundle,
          exportsBucket: this.exportsBucket,
          warehouseGrants,
          settings: schemas,
          memoryMiB: sizing.memoryMiB,
          timeoutSeconds: sizing.timeoutSeconds,
          logRetentionDays: config.logRetentionDays,
          batchSize: config.loaders.incrementalBatchSize,
          batchingWindowSeconds: config.loaders.incrementalBatchingWindowSeconds,
          maxReceiveCount: config.loaders.maxReceiveCount,
          metricsNamespace,
        });
      return { table, full: make("full"), incremental: make("incremental") };
    });

    this.bootstrap = new WarehouseBootstrap(this, "bootstrap", {
      prefix: p,
      warehouse: this.warehouse,
      bundle: bundles.get("bootstrap"),
      // Only the tables schemas/ knows: the loaders create an extraTables table from its first export's header.
      tables: config.tables,
      dataSchema: config.loaders.dataSchema,
      metadataSchema: config.loaders.metadataSchema,
      logRetentionDays: config.logRetentionDays,
      metricsNamespace,
      warehouseResources: this.warehouse.readyWhen,
    });

    this.webhookApi = new WebhookApi(this, "webhook", {
      prefix: p,
      receiver: this.receiver,
      logRetentionDays: config.logRetentionDays,
      throttleRatePerSecond: config.receiver.throttleRatePerSecond,
      throttleBurst: config.receiver.throttleBurst,
    });

    // Alarms on everything above (help, "Alerts: what the alarms mean"). Names are physical names without the prefix, so each alarm's
    // construct id comes from a table name, never from its position in the list.
    const a = config.alerts;
    this.alerts = new Alerts(this, "alerts", {
      prefix: p,
      emails: config.alertEmails,
      httpsEndpoints: a.httpsEndpoints,
      metricsNamespace,
    });
    this.alerts.alarmOnDeadLetters("downloads", this.downloads, "a download job");
    this.alerts.alarmOnQueueAge("downloads", this.downloads, a.downloadsQueueAgeMinutes, "download jobs");
    this.alerts.alarmOnErrors("receiver", this.receiver, a.functionErrors);
    this.alerts.alarmOnErrors("downloader", this.downloader, a.functionErrors);
    this.alerts.alarmOnErrors("bootstrap", this.bootstrap.function, a.functionErrors);
    for (const { table, full, incremental } of this.loaders) {
      for (const [kind, loader, maxAgeMinutes] of [
        ["full", full, a.fullQueueAgeMinutes],
        ["incremental", incremental, a.incrementalQueueAgeMinutes],
      ] as const) {
        const name = loaderFunctionName(p, kind, table).slice(p.length + 1);
        this.alerts.alarmOnDeadLetters(name, loader.queue, `${kind === "full" ? "a full" : "an incremental"} load of ${table}`);
        this.alerts.alarmOnQueueAge(name, loader.queue, maxAgeMinutes, `${kind} exports of ${table}`);
        this.alerts.alarmOnErrors(name, loader.loader, a.functionErrors);
      }
      this.alerts.alarmOnFreshness(table, a.freshnessHours);
    }
    this.alerts.alarmOnWebhook(this.receiver, this.webhookApi, {
      unauthorized: a.webhookUnauthorized,
      rejected: a.webhookRejected,
      serverErrors: a.webhookServerErrors,
    });

    new TerraformOutput(this, "webhook_url", {
      value: this.webhookApi.webhookUrl,
      description: "Paste into ControlShift: Settings > Integrations > Webhooks > New webhook",
    });
    new TerraformOutput(this, "signing_secret_name", {
      value: this.signingSecret.secret.name,
      description: "Put ControlShift's webhook signing secret here: aws secretsmanager put-secret-value --secret-id <name> --secret-string '<secret>'",
    });
    new TerraformOutput(this, "exports_bucket", {
      value: this.exportsBucket.bucket.bucket,
      description: "Where export files land: exports/{full|incremental}/<table>/<YYYYMMDD>/<file>",
    });
    new TerraformOutput(this, "download_dead_letter_queue_url", {
      value: this.downloads.deadLetterQueue.url,
      description: "Jobs whose download failed for good (expired URL, refused redirect) wait here",
    });

    if (this.warehouse.endpoint !== undefined) {
      new TerraformOutput(this, "warehouse_endpoint", {
        value: this.warehouse.endpoint,
        description: "psql -h <endpoint> -p <port> -U <admin> -d <database> (from an address in network.allowedCidrs)",
      });
      new TerraformOutput(this, "warehouse_port", { value: this.warehouse.port, description: "The warehouse port" });
    }
    new TerraformOutput(this, "warehouse_database", { value: this.warehouse.database, description: "The database the mirror loads into" });
    if (this.warehouse.adminSecretArn !== undefined) {
      new TerraformOutput(this, "warehouse_admin_secret_arn", {
        value: this.warehouse.adminSecretArn,
        description: "The admin password's secret, managed by Redshift (only the bootstrap function may read it): aws secretsmanager get-secret-value --secret-id <arn>",
      });
    }
    if (this.warehouse.loaderUser !== undefined) {
      new TerraformOutput(this, "warehouse_loader_user", {
        value: this.warehouse.loaderUser,
        description: "The database user every loader acts as; it owns the mirror's schemas (see help: The loader user)",
      });
    }
    new TerraformOutput(this, "warehouse_reader_group", {
      value: this.bootstrap.names.readerGroup,
      description: "Analysts read the mirror through this group: ALTER GROUP <group> ADD USER <analyst> (see help)",
    });
    new TerraformOutput(this, "alerts_topic_arn", {
      value: this.alerts.topic.arn,
      description: "Every alarm notifies this topic: subscribe more e-mails or a chat integration here (see help, Alerts)",
    });
    new TerraformOutput(this, "copy_role_arn", {
      value: this.warehouse.copyRoleArn,
      description: "The role COPY uses; for an existing warehouse, attach it to the cluster or namespace (see help)",
    });
  }
}
