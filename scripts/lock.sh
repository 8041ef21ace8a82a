#!/usr/bin/env bash
# Re-resolve the lock files from pyproject.toml's ranges (run after changing a dependency):
#   requirements/run.lock   what `podwall` needs to run (scripts/install.sh)
#   requirements/test.lock  that plus the test, lint and type-check tools (scripts/test.sh)
# Every direct and transitive dependency is pinned with its hashes, for Python 3.11 and up on
# any platform. uv resolves (fast, universal markers); plain pip installs (no extra tool on the
# user's machine). `--upgrade` takes the newest releases the ranges allow.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
tools=.venv-lock
if [ ! -x "$tools/bin/uv" ]; then
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q --disable-pip-version-check "uv==$UV_VERSION"
fi
common=(--universal --python-version 3.11 --generate-hashes --no-header --quiet "$@")
"$tools/bin/uv" pip compile "${common[@]}" pyproject.toml requirements/build.in \
  -o requirements/run.lock
"$tools/bin/uv" pip compile "${common[@]}" pyproject.toml requirements/build.in \
  --extra test -o requirements/test.lock
echo "wrote requirements/run.lock ($(grep -c '==' requirements/run.lock) pins)" \
     "and requirements/test.lock ($(grep -c '==' requirements/test.lock) pins)"
