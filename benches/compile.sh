#!/usr/bin/env bash
# Times `mlops compile --check` (process wall time, release build) for 1 model and for
# 1/10/100/500 models, to show the cost is linear in the number of models; then child-pipeline
# mode for 500/1,000/2,000 models: the parent's `--check` and the CI generate job that writes
# every child pipeline.
# Targets: 1 model < 5 ms, 500 models < 50 ms (one file holds at most about 190 models, so the
# single-file rows stop at 100); 2,000 models in child mode < 1 s. Figures: docs/benchmarks.md.
# Usage: benches/compile.sh            (needs hyperfine: apt-get install -y hyperfine)
#        MLOPS_BEFORE=/path/to/older/mlops benches/compile.sh   (times that binary alongside)
#        MLOPS_BIN=/path/to/release/mlops benches/compile.sh     (times that build; no cargo build)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
if [ -z "${MLOPS_BIN:-}" ]; then cargo build --release -q; fi
BIN="${MLOPS_BIN:-$ROOT/target/release/mlops}"
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

make_config() { # N DIR
  local n=$1 dir=$2
  mkdir -p "$dir"
  {
    printf 'mlops-version = "%s"\n\n[defaults]\nframework = "sklearn"\ntraining_script = "scripts/train.py"\n' "$("$BIN" --version | cut -d' ' -f2)"
    printf 'metric_name = "accuracy"\nmin_threshold = 0.85\nrequirements_file = "requirements.txt"\n'
    for i in $(seq 1 "$n"); do
      printf '\n[model.model-%04d]\ntraining_args = "--data data/m%d/train.csv --test-data data/m%d/test.csv"\n' "$i" "$i" "$i"
      printf 'data_path = "data/m%d/train.csv"\nchanges = ["data/m%d/**", "scripts/train.py"]\n' "$i" "$i"
    done
  } >"$dir/mlops.toml"
  (cd "$dir" && "$BIN" compile >/dev/null 2>&1) || true # above 2 MiB parsed it is refused
}

args=()
# One file: 500 models (5.3 MB parsed) are past GitLab's 2 MiB and are refused.
for n in 1 10 100; do
  make_config "$n" "$W/n$n"
  args+=(--command-name "compile --check, $n model(s)" "cd $W/n$n && $BIN compile --check")
done
hyperfine -N --warmup 20 --min-runs 50 "${args[@]}" 2>/dev/null || hyperfine --warmup 20 --min-runs 50 "${args[@]}"
# Also the path that validates against GitLab's schema (a fresh write, not a no-op check):
for n in 1 100; do
  args2+=(--command-name "compile --stdout, $n model(s)" "cd $W/n$n && $BIN compile --stdout")
done
hyperfine --warmup 10 --min-runs 30 "${args2[@]}"

# Child-pipeline mode: the parent's `--check`, and what the generate job runs in CI.
args3=()
for n in 500 1000 2000; do
  d="$W/c$n"
  make_config "$n" "$d"
  rm -f "$d/.gitlab-ci.yml"
  (cd "$d" && "$BIN" compile --child-pipeline >/dev/null 2>&1)
  shards=$(grep -c '^mlops-pipeline' "$d/.gitlab-ci.yml")
  echo "$n models: $shards child pipelines"
  args3+=(--command-name "compile --child-pipeline --check, $n models" "cd $d && $BIN compile --child-pipeline --check")
  args3+=(--command-name "generate job (writes $shards children), $n models" "cd $d && MLOPS_CHILD_PIPELINES=$shards $BIN compile -o mlops-child.yml")
done
hyperfine --warmup 3 --min-runs 10 "${args3[@]}"
if [ -n "${MLOPS_BEFORE:-}" ]; then
  # The same commands with the older binary, where it has them.
  hyperfine -N --warmup 20 --min-runs 50 \
    --command-name "before: compile --check, 1 model" "cd $W/n1 && $MLOPS_BEFORE compile --check" \
    --command-name "after: compile --check, 1 model" "cd $W/n1 && $BIN compile --check" 2>/dev/null ||
    hyperfine --warmup 20 --min-runs 50 "cd $W/n1 && $MLOPS_BEFORE compile --check" "cd $W/n1 && $BIN compile --check"
  hyperfine --warmup 3 --min-runs 10 \
    --command-name "before: compile --stdout, 100 models" "cd $W/n100 && $MLOPS_BEFORE compile --stdout" \
    --command-name "after: compile --stdout, 100 models" "cd $W/n100 && $BIN compile --stdout" || true
  d="$W/b2000"; make_config 2000 "$d"; rm -f "$d/.gitlab-ci.yml"
  (cd "$d" && "$MLOPS_BEFORE" compile --child-pipeline >/dev/null 2>&1)
  hyperfine --warmup 3 --min-runs 10 \
    --command-name "before: generate job (one child), 2000 models" "cd $d && $MLOPS_BEFORE compile -o mlops-child.yml" || true
fi
