#!/usr/bin/env bash
# Runs `terraform validate` and an offline `terraform plan` on the committed terraform-cloud/<stack>/ folders and on
# the configs of scripts/plan-configs.ts: no AWS account, no network (fake credentials, the provider's skip_* switches).
# Without terraform on the machine it prints one loud SKIPPED line and exits 0, except under CI, where nothing skips
# (scripts/tools.ts: the run fails naming the install step).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v terraform >/dev/null 2>&1; then
  set +e
  npx tsx scripts/tools.ts terraform "terraform validate and offline plan of the synthesized stacks"
  rc=$?
  set -e
  if [ "$rc" -eq 3 ]; then exit 0; elif [ "$rc" -ne 0 ]; then exit 1; fi
fi

out=".build/plan-check"
rm -rf "$out" && mkdir -p "$out/stacks"
# The app's own stacks are planned as committed in terraform-cloud/ (below): `npm run tfc:check` (in npm test) has
# already synthesized them through the real entry (scripts/synth.mjs, main.ts) and found them the same bytes.
# Then the other config branches of scripts/plan-configs.ts.
# Arguments name environments of config.ts to check alone (`npm run test:terraform -- staging`); without any, every
# committed environment and every config branch is checked.
stacks=""
[ "$#" -eq 0 ] && stacks="$(npx tsx scripts/synth-plan-stacks.ts "$out" | tail -n 1)"

if [ -d /opt/tf-plugins ]; then
  export TF_CLI_CONFIG_FILE="$PWD/terraform/mirror.tfrc"
fi
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
export AWS_ACCESS_KEY_ID=AKIAOFFLINEPLAN00000 AWS_SECRET_ACCESS_KEY=offline-plan-fake-secret AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN

# The committed Terraform Cloud folders (npm run tfc:export), exactly as a VCS-driven workspace gets them, plus one
# override file with the provider's offline switches (Terraform merges *_override.tf.json into the provider block).
# Their lock file must hold the installed provider's checksum: init -lockfile=readonly fails otherwise.
tfc_stacks=""
if [ "$#" -eq 0 ]; then dirs=(terraform-cloud/*/); else dirs=(); for env in "$@"; do dirs+=("terraform-cloud/$env/"); done; fi
for dir in "${dirs[@]}"; do
  if [ ! -f "$dir/cdk.tf.json" ]; then
    [ "$#" -eq 0 ] && continue
    echo "no committed stack at $dir: is $(basename "$dir") an environment of config.ts? (npm run tfc:export writes them)" >&2
    exit 1
  fi
  name="tfc-$(basename "$dir")"
  cp -r "$dir" "$out/stacks/$name"
  cat >"$out/stacks/$name/offline_override.tf.json" <<'JSON'
{ "provider": { "aws": { "skip_credentials_validation": true, "skip_requesting_account_id": true, "skip_metadata_api_check": "true" } } }
JSON
  tfc_stacks="$tfc_stacks $name"
done
if [ -z "$tfc_stacks" ]; then
  echo "no committed stack under terraform-cloud/: run npm run tfc:export and commit terraform-cloud/" >&2
  exit 1
fi
stacks="$tfc_stacks $stacks"

for stack in $stacks; do
  dir="$out/stacks/$stack"
  echo "== terraform: $stack"
  # The local backend path is relative: these stacks plan against an empty state in .build, never the operator's.
  lockfile=""
  case "$stack" in tfc-*) lockfile="-lockfile=readonly" ;; esac
  terraform -chdir="$dir" init -input=false $lockfile >/dev/null
  terraform -chdir="$dir" validate -no-color
  resources=$(terraform -chdir="$dir" plan -input=false -lock=false -refresh=false -no-color -out=plan.out \
    | grep -E '^Plan: ' || true)
  if [ -z "$resources" ]; then
    echo "terraform plan of $stack printed no 'Plan:' line" >&2
    exit 1
  fi
  echo "$stack: $resources"
done
echo "terraform validate and offline plan passed for: $stacks"
