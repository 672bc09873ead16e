import { CloudBackend, LocalBackend, NamedCloudWorkspace, S3Backend, TaggedCloudWorkspaces, TerraformStack } from "cdktf";
import { BackendConfig, backendWithDefaults } from "./config";

/**
 * Sets the stack's backend explicitly. cdktf's implicit local backend writes this machine's absolute path into
 * cdk.tf.json; ours is relative, so the synthesized JSON is the same on every machine.
 */
export function configureBackend(stack: TerraformStack, prefix: string, region: string, config: BackendConfig): void {
  const backend = backendWithDefaults(config, prefix, region);
  switch (backend.type) {
    case "local":
      new LocalBackend(stack, { path: backend.path });
      return;
    case "s3": {
      const s3 = new S3Backend(stack, { bucket: backend.bucket, key: backend.key, region: backend.region, encrypt: true });
      // S3-native locking (Terraform >= 1.10); cdktf 0.21's S3Backend has no typed field for it yet.
      if (backend.useLockfile) s3.addOverride("use_lockfile", true);
      return;
    }
    case "cloud":
      new CloudBackend(stack, {
        hostname: backend.hostname,
        organization: backend.organization,
        workspaces:
          backend.tags !== undefined
            ? new TaggedCloudWorkspaces([...backend.tags], backend.project)
            : new NamedCloudWorkspace(backend.workspace, backend.project),
      });
      return;
  }
}
