#!/usr/bin/env bash
# Times `mlops compile --check` (process wall time, release build) for 1 model and for
# 1/10/100/500 models, to show the cost is linear in the number of models.
# Targets and figures: docs/benchmarks.md.
# Usage: benches/compile.sh            (needs hyperfine: apt-get install -y hyperfine)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
cargo build --release -q
BIN="$ROOT/target/release/mlops"
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
  (cd "$dir" && "$BIN" compile >/dev/null 2>&1)
}

args=()
for n in 1 10 100 500; do
  make_config "$n" "$W/n$n"
  args+=(--command-name "compile --check, $n model(s)" "cd $W/n$n && $BIN compile --check")
done
hyperfine -N --warmup 20 --min-runs 50 "${args[@]}" 2>/dev/null || hyperfine --warmup 20 --min-runs 50 "${args[@]}"
# Also the path that validates against GitLab's schema (a fresh write, not a no-op check):
for n in 1 500; do
  args2+=(--command-name "compile --stdout, $n model(s)" "cd $W/n$n && $BIN compile --stdout")
done
hyperfine --warmup 10 --min-runs 30 "${args2[@]}"
