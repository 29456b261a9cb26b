#!/usr/bin/env bash
# What getting the runtime into a job costs: `pip install` of the mlops wheel in a fresh venv
# next to `pip install mlflow` (what hand-written pipelines do in every job), both cold
# (`--no-cache-dir`), then the same two with uv (`--no-cache`).
# Usage: benches/install.sh [WHEEL]   (default: build one with maturin, dev profile; set
#        PROFILE=release for the release build the project's CI publishes)
# Figures and conditions: docs/benchmarks.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
H="${MLOPS_HARNESS:-$ROOT/target/harness}"
UV="$H/boot/bin/uv"
PYTHON="${PYTHON:-$H/venv/bin/python}"
MLFLOW_VERSION=3.17.2
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

wheel="${1:-}"
if [ -z "$wheel" ]; then
  "$H/venv/bin/maturin" build -q --profile "${PROFILE:-dev}" --offline --compatibility linux \
    --out "$WORK/dist" >/dev/null
  wheel=$(ls "$WORK"/dist/*.whl)
fi
echo "wheel: $(basename "$wheel") ($(du -h "$wheel" | cut -f1)), profile ${PROFILE:-dev}"

time_it() { # LABEL COMMAND...
  local label=$1 t0 t1; shift
  t0=$EPOCHREALTIME
  "$@" >/dev/null 2>&1
  t1=$EPOCHREALTIME
  awk -v l="$label" -v a="$t0" -v b="$t1" 'BEGIN { printf "%-36s %6.1f s\n", l, b - a }'
}

fresh_venv() { rm -rf "$WORK/venv" && "$UV" venv -q --seed --python "$PYTHON" "$WORK/venv"; }

fresh_venv
time_it "pip install <mlops wheel>" "$WORK/venv/bin/python" -m pip install --no-cache-dir "$wheel"
"$WORK/venv/bin/mlops" --version
fresh_venv
time_it "pip install mlflow==$MLFLOW_VERSION" "$WORK/venv/bin/python" -m pip install --no-cache-dir "mlflow==$MLFLOW_VERSION"
fresh_venv
time_it "uv pip install <mlops wheel>" "$UV" pip install --no-cache -p "$WORK/venv" "$wheel"
fresh_venv
time_it "uv pip install mlflow==$MLFLOW_VERSION" "$UV" pip install --no-cache -p "$WORK/venv" "mlflow==$MLFLOW_VERSION"
