import { CloudBackend, LocalBackend, NamedCloudWorkspace, S3Backend, TerraformStack } from "cdktf";
import { BackendConfig } from "./config";

/**
 * The local state file, relative to the folder terraform runs in (cdktf.out/stacks/<stack>): three levels up is the
 * project folder, beside cdktf.json, so deleting or re-synthesizing cdktf.out never deletes the state.
 */
export function defaultLocalStatePath(prefix: string): string {
  return `../../../terraform.${prefix}.tfstate`;
}

/**
 * Sets the stack's backend explicitly. cdktf's implicit local backend writes this machine's absolute path into
 * cdk.tf.json; ours is relative, so the synthesized JSON is the same on every machine.
 */
export function configureBackend(stack: TerraformStack, prefix: string, region: string, backend: BackendConfig): void {
  switch (backend.type) {
    case "local":
      new LocalBackend(stack, { path: backend.path ?? defaultLocalStatePath(prefix) });
      return;
    case "s3": {
      const s3 = new S3Backend(stack, {
        bucket: backend.bucket,
        key: backend.key ?? `controlshift-mirror/${prefix}.tfstate`,
        region: backend.region ?? region,
        encrypt: true,
      });
      // S3-native locking (Terraform >= 1.10); cdktf 0.21's S3Backend has no typed field for it yet.
      if (backend.useLockfile ?? true) s3.addOverride("use_lockfile", true);
      return;
    }
    case "cloud":
      new CloudBackend(stack, {
        hostname: backend.hostname ?? "app.terraform.io",
        organization: backend.organization,
        workspaces: new NamedCloudWorkspace(backend.workspace, backend.project),
      });
      return;
  }
}
