import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { Construct } from "constructs";
import { AssetType, TerraformAsset } from "cdktf";

/** One handler's zip, as built by `npm run build:handlers`. */
export interface HandlerBundle {
  readonly name: string;
  readonly asset: TerraformAsset;
  /** base64 SHA-256 of the zip: what Lambda reports as CodeSha256, so plans show a change only when the code changed. */
  readonly sha256: string;
}

export interface HandlerBundlesProps {
  /** The folder holding `<handler>.zip` files. */
  readonly directory: string;
}

/** Where `scripts/build-handlers.mjs` writes the zips, relative to the project folder. */
export const DEFAULT_BUNDLE_DIR = ".build/handlers";

/**
 * The handler zips as Terraform assets, one asset per handler however many functions share it
 * (126 loaders share one bundle). The zips are built outside synth, by one esbuild call with fixed file dates,
 * so synth stays fast and the hashes stay stable.
 */
export class HandlerBundles extends Construct {
  private readonly bundles = new Map<string, HandlerBundle>();

  constructor(scope: Construct, id: string, private readonly props: HandlerBundlesProps) {
    super(scope, id);
  }

  get(name: string): HandlerBundle {
    const existing = this.bundles.get(name);
    if (existing) return existing;
    const file = path.resolve(this.props.directory, `${name}.zip`);
    if (!existsSync(file)) {
      throw new Error(
        `Handler bundle ${file} does not exist. Run \`npm run build:handlers\` first ` +
          "(`cdktf synth` and `npm run synth` do it for you).",
      );
    }
    const sha256 = createHash("sha256").update(readFileSync(file)).digest("base64");
    const asset = new TerraformAsset(this, name, { path: file, type: AssetType.FILE });
    const bundle = { name, asset, sha256 };
    this.bundles.set(name, bundle);
    return bundle;
  }
}
