#!/usr/bin/env bash
# Install (into .venv) and run the linter and every test, the browser test included.
set -euo pipefail
cd "$(dirname "$0")"
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
fc-list 2>/dev/null | grep -qi "wqy\|noto sans cjk" || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "Missing Debian packages: ${need[*]} (sudo apt-get install ${need[*]})" >&2
  fi
fi
tools/install.sh requirements-dev.txt
# Compiled modules (and pytest's rewritten tests) are kept in the ignored __pycache__ folders:
# with PYTHONDONTWRITEBYTECODE set, every worker, server and `python -m core` of the run would
# compile the project again (a fifth of a short command's time).
unset PYTHONDONTWRITEBYTECODE
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -n 4 --dist worksteal "$@"  # 4 workers on 2 cores: the browser tests mostly wait
