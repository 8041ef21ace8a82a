#!/usr/bin/env bash
# Source this: make sure Python 3 with venv is there (apt-get on Debian, as root), then build
# or refresh a venv from a lock file and install podwall into it.
#   podwall_venv DIR LOCK [EXTRA] [MODE]   e.g. podwall_venv .venv-test requirements/test.lock test
# MODE "editable" (the default; for development and tests: source changes apply at once) or
# "installed" (a regular install, as users have it: pip compiles the bytecode at install time,
# which matters where PYTHONDONTWRITEBYTECODE is set: an editable podwall then recompiles its
# source at every start, ~0.3 s).
# The venv is rebuilt only when the lock file or pyproject.toml changed (their hash is kept in
# DIR/.lock-sha256). LOCK "latest" ignores the lock and takes today's newest releases that
# pyproject's ranges allow, rebuilt every time: the early warning that a new release breaks us.
# Debian's Python is "externally managed": nothing is ever installed outside the venv.

podwall_apt() {  # podwall_apt PACKAGE...: install Debian packages (root only)
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing system packages: $*"
    if [ -z "${PODWALL_APT_UPDATED:-}" ]; then
      apt-get update -qq
      PODWALL_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  else
    echo "WARNING: missing system packages ($*) and not root: run as root, or install them:" \
         "apt-get install $*" >&2
    return 1
  fi
}

podwall_venv() {
  local dir=$1 lock=$2 extra=${3:-} mode=${4:-editable}
  if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    podwall_apt python3 python3-venv || return 1
  fi
  local pip=("$dir/bin/python" -m pip -q --disable-pip-version-check --no-input)
  local want
  want=$( { cat "$lock" 2>/dev/null || echo "$lock"; cat pyproject.toml; echo "$mode"; } \
          | sha256sum | cut -d' ' -f1)
  if [ "$lock" = latest ] || [ ! -x "$dir/bin/python" ] \
     || [ "$(cat "$dir/.lock-sha256" 2>/dev/null)" != "$want" ]; then
    echo "building $dir from $lock"
    rm -rf "$dir"
    python3 -m venv "$dir"
    if [ "$lock" = latest ]; then
      "${pip[@]}" install --upgrade pip setuptools wheel
      "${pip[@]}" install --upgrade -e ".${extra:+[$extra]}"
    else
      "${pip[@]}" install --require-hashes --no-deps -r "$lock"
      [ "$mode" = installed ] || "${pip[@]}" install --no-deps --no-build-isolation -e .
    fi
    echo "$want" > "$dir/.lock-sha256"
  fi
  if [ "$mode" = installed ]; then  # every time: the source may have changed since
    "${pip[@]}" install --no-deps --no-build-isolation --force-reinstall .
  fi
}
