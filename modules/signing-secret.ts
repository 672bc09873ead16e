import { Construct } from "constructs";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { RECEIVER_ENV } from "../facts/environment";
import { Grant } from "./access";

export interface SigningSecretProps {
  readonly prefix: string;
  /** Days a deleted secret stays recoverable (0: deleted at once). */
  readonly recoveryWindowDays: number;
}

/**
 * The webhook signing secret. The stack creates the secret but never its value: the operator copies the value
 * from ControlShift (Settings > Integrations > Webhooks) with `aws secretsmanager put-secret-value`, so it is in
 * neither the Terraform config nor its state. Until then the receiver answers 401 to every webhook.
 */
export class SigningSecret extends Construct {
  readonly secret: SecretsmanagerSecret;

  constructor(scope: Construct, id: string, props: SigningSecretProps) {
    super(scope, id);
    this.secret = new SecretsmanagerSecret(this, "secret", {
      name: `${props.prefix}/webhook-signing-secret`,
      description:
        "ControlShift webhook signing secret (Settings > Integrations > Webhooks). Put the value with " +
        "aws secretsmanager put-secret-value; the stack never sets it.",
      recoveryWindowInDays: props.recoveryWindowDays,
    });
  }

  /** Read the secret's value. Sets SIGNING_SECRET_ARN. */
  grantRead(): Grant {
    return {
      environment: { [RECEIVER_ENV.signingSecretArn]: this.secret.arn },
      statements: [{ sid: "ReadSigningSecret", actions: ["secretsmanager:GetSecretValue"], resources: [this.secret.arn] }],
    };
  }
}
