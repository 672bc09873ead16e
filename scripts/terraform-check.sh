#!/usr/bin/env bash
# Synthesizes the app's stacks through the real entry (and the configs of scripts/plan-configs.ts) and runs `terraform validate` and an
# offline `terraform plan` on each: no AWS account, no network (fake credentials, the provider's skip_* switches).
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
rm -rf "$out" && mkdir -p "$out"
# The app's own stacks through the real entry (cdktf.json's app: scripts/synth.mjs, main.ts), configured for an
# offline plan; then the other config branches of scripts/plan-configs.ts.
CONTROLSHIFT_MIRROR_OFFLINE_PLAN=1 CDKTF_OUTDIR="$out/app" node scripts/synth.mjs
app_stacks=""
for dir in "$out"/app/stacks/*/; do
  name=$(basename "$dir")
  mkdir -p "$out/stacks" && mv "$dir" "$out/stacks/app-$name"
  app_stacks="$app_stacks app-$name"
done
stacks="$app_stacks $(npx tsx scripts/synth-plan-stacks.ts "$out" | tail -n 1)"

if [ -d /opt/tf-plugins ]; then
  export TF_CLI_CONFIG_FILE="$PWD/terraform/mirror.tfrc"
fi
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
export AWS_ACCESS_KEY_ID=AKIAOFFLINEPLAN00000 AWS_SECRET_ACCESS_KEY=offline-plan-fake-secret AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN

for stack in $stacks; do
  dir="$out/stacks/$stack"
  echo "== terraform: $stack"
  # The local backend path is relative: these stacks plan against an empty state in .build, never the operator's.
  terraform -chdir="$dir" init -input=false >/dev/null
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
