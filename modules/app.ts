import { App, Testing, TerraformStack } from "cdktf";

/**
 * The only doors to cdktf's App and Testing for code outside modules/ and main.ts (scripts, tests): CDKTF is
 * archived upstream, and keeping every cdktf import in main.ts and modules/ keeps a move to its fork to those files
 * (__tests__/cdktf-boundary.test.ts enforces it).
 */

/** An app that synthesizes into `outdir` (stacks/<name>/cdk.tf.json, manifest.json). */
export function createApp(outdir: string): App {
  return new App({ outdir });
}

/** An app for synthesizing one stack in memory (tests). */
export function createTestApp(): App {
  return Testing.app();
}

/** A stack's Terraform JSON, as a string, without writing files. */
export function synthesizeInMemory(stack: TerraformStack): string {
  return Testing.synth(stack);
}
