#!/usr/bin/env bash
# Install podwall into .venv from requirements/run.lock (every dependency pinned and
# hash-checked), as a regular install with its bytecode compiled (run it again after changing
# the source; scripts/test.sh keeps an editable install in .venv-test for development). As root on Debian it first installs python3 and python3-venv when missing.
# Afterwards: .venv/bin/podwall --help   (or: . .venv/bin/activate; podwall --help)
#
# The enforce-and-prove verbs (`lab`, `dataplane apply`) also need nftables and iproute2, and
# pictures need graphviz: `bash scripts/install.sh --system` installs those too (root).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
if [ "${1:-}" = --system ]; then
  need=()
  command -v nft >/dev/null 2>&1 || need+=(nftables)
  command -v ip >/dev/null 2>&1 || need+=(iproute2)
  command -v dot >/dev/null 2>&1 || need+=(graphviz)
  ((${#need[@]} == 0)) || podwall_apt "${need[@]}"
fi
podwall_venv .venv requirements/run.lock '' installed
echo "installed: $(.venv/bin/podwall --version) in .venv (run .venv/bin/podwall, or . .venv/bin/activate)"
