#!/usr/bin/env bash
# Install what the tests need, then run every check: lint, types, the whole test suite.
#
#   bash scripts/test.sh [PYTEST-ARGS...]        the locked environment (.venv-test, requirements/test.lock)
#   bash scripts/test.sh --latest [PYTEST-ARGS...]  the newest releases pyproject allows (.venv-latest)
#
# As root it installs missing system packages with apt-get: python3-venv to build the venv,
# nftables and iproute2 for the kernel tests, graphviz for pictures, chromium and its driver for
# the browser test, wget and busybox for the lab, git for `diff --git`, openssl and kubectl (Debian's
# kubernetes-client) for the live-cluster tests. Without root, tests that need them skip with a loud reason.
# Nothing is installed outside the venv but those Debian packages.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh

venv=.venv-test lock=requirements/test.lock
if [ "${1:-}" = --latest ]; then
  shift
  venv=.venv-latest lock=latest
fi

need=()
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v dot >/dev/null 2>&1 || need+=(graphviz)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v wget >/dev/null 2>&1 || need+=(wget)
command -v busybox >/dev/null 2>&1 || need+=(busybox)  # nslookup in the lab tutorial test
command -v git >/dev/null 2>&1 || need+=(git)  # diff --git, and the tests of it
command -v openssl >/dev/null 2>&1 || need+=(openssl)  # the live-cluster tests' CA and certificates
command -v kubectl >/dev/null 2>&1 || need+=(kubernetes-client)  # `kubectl podwall`, run by kubectl
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)  # scrapes the lab collector's metrics in a test
if ((${#need[@]})); then
  podwall_apt "${need[@]}" || echo "WARNING: the tests that need ${need[*]} will be skipped" >&2
fi

podwall_venv "$venv" "$lock" test
py="$venv/bin/python"
"$py" -m compileall -q src  # bytecode for the editable source: subprocess tests start faster
echo "testing with $("$py" --version) in $venv:" \
     "$("$py" -m pip list --format=freeze 2>/dev/null | grep -i -E '^(click|numpy|pyyaml|mypy|ruff|pytest)==' | tr '\n' ' ')"
"$py" -m ruff check src tests benchmarks
"$py" -m mypy
"$py" -m pytest -q -p no:cacheprovider "$@"
