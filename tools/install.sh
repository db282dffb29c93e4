#!/usr/bin/env bash
# Install the pinned requirements file $1 into .venv (made when missing), with uv: a few
# seconds against pip's minute and a half on a clean machine, and nothing to do in a
# fraction of a second once installed. pip does it where uv cannot be installed or cannot
# reach the packages (uv reads neither pip.conf's indexes nor its find-links).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
pip_install() { .venv/bin/python -m pip install -q --disable-pip-version-check "$@"; }
# --compile-bytecode: every later process starts from compiled modules, as pip leaves them;
# --native-tls: the system's certificates, as pip uses them
if { [ -x .venv/bin/uv ] || pip_install uv==0.13.10 2>/dev/null; } \
    && .venv/bin/uv pip install -q --python .venv/bin/python --compile-bytecode --native-tls \
       -r "$1"; then
  exit 0
fi
echo "uv could not install $1; installing it with pip instead (a minute or two)." >&2
pip_install -r "$1"
