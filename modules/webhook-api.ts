import { Construct } from "constructs";
import { Apigatewayv2Api } from "@cdktf/provider-aws/lib/apigatewayv2-api";
import { Apigatewayv2Integration } from "@cdktf/provider-aws/lib/apigatewayv2-integration";
import { Apigatewayv2Route } from "@cdktf/provider-aws/lib/apigatewayv2-route";
import { Apigatewayv2Stage } from "@cdktf/provider-aws/lib/apigatewayv2-stage";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { MirrorFunction } from "./mirror-function";

export interface WebhookApiProps {
  readonly prefix: string;
  readonly receiver: MirrorFunction;
  readonly logRetentionDays: number;
  readonly throttleRatePerSecond: number;
  readonly throttleBurst: number;
}

/** The one route ControlShift posts to. */
export const WEBHOOK_ROUTE = "POST /webhook";

/** Access-log fields: enough to trace a delivery, nothing from the body or the signature header. */
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: "$context.requestId",
  ip: "$context.identity.sourceIp",
  requestTime: "$context.requestTime",
  routeKey: "$context.routeKey",
  status: "$context.status",
  responseLength: "$context.responseLength",
  integrationStatus: "$context.integrationStatus",
  integrationLatency: "$context.integrationLatency",
  integrationError: "$context.integrationErrorMessage",
  userAgent: "$context.identity.userAgent",
});

/** HTTP API `POST /webhook` -> receiver function, with access logs and throttling. */
export class WebhookApi extends Construct {
  readonly api: Apigatewayv2Api;
  readonly stage: Apigatewayv2Stage;
  /** The URL to paste into ControlShift. */
  readonly webhookUrl: string;

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);
    this.api = new Apigatewayv2Api(this, "api", {
      name: `${props.prefix}-webhook`,
      protocolType: "HTTP",
      description: "Receives ControlShift bulk-data webhooks",
    });
    const integration = new Apigatewayv2Integration(this, "integration", {
      apiId: this.api.id,
      integrationType: "AWS_PROXY",
      integrationUri: props.receiver.function.invokeArn,
      payloadFormatVersion: "2.0",
      // The receiver answers in well under a second; a slow answer means something is wrong, so fail fast.
      timeoutMilliseconds: 15000,
    });
    new Apigatewayv2Route(this, "route", {
      apiId: this.api.id,
      routeKey: WEBHOOK_ROUTE,
      target: `integrations/${integration.id}`,
    });
    const accessLogs = new CloudwatchLogGroup(this, "access-logs", {
      name: `/aws/apigateway/${props.prefix}-webhook`,
      retentionInDays: props.logRetentionDays,
    });
    this.stage = new Apigatewayv2Stage(this, "stage", {
      apiId: this.api.id,
      name: "$default",
      autoDeploy: true,
      accessLogSettings: { destinationArn: accessLogs.arn, format: ACCESS_LOG_FORMAT },
      defaultRouteSettings: {
        throttlingRateLimit: props.throttleRatePerSecond,
        throttlingBurstLimit: props.throttleBurst,
        detailedMetricsEnabled: true,
      },
    });
    // Without this, the API answers 500 to every request: a plan cannot see it missing.
    new LambdaPermission(this, "invoke-permission", {
      statementId: "AllowWebhookApiInvoke",
      action: "lambda:InvokeFunction",
      functionName: props.receiver.function.functionName,
      principal: "apigateway.amazonaws.com",
      sourceArn: `${this.api.executionArn}/*/*/webhook`,
    });
    this.webhookUrl = `${this.api.apiEndpoint}/webhook`;
  }
}
