#!/usr/bin/env bash
# Install what the tests need, then run every check: lint, types, the whole test suite.
# As root it installs missing system packages with apt-get (nftables and iproute2 for the
# kernel tests, graphviz for pictures, chromium for the browser test); without root, tests that
# need them skip with a loud reason.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v dot >/dev/null 2>&1 || need+=(graphviz)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
if ((${#need[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing system packages: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "WARNING: missing ${need[*]} and not root: the tests that need them will be skipped" >&2
  fi
fi

python3 -m pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v -i warning || true
python3 -m ruff check src tests benchmarks
python3 -m mypy
python3 -m pytest -q -p no:cacheprovider "$@"
