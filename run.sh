#!/usr/bin/env bash
# Install (into .venv) and start the dashboard; the first run creates a demo register.
# It serves this machine only until sign-in is configured (README: Sign-in and roles).
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
exec .venv/bin/python -m core serve "$@"
