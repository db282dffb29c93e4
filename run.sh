#!/usr/bin/env bash
# Install (into .venv) and start the dashboard; the first run creates a demo register.
# It serves this machine only until sign-in is configured (README: Sign-in and roles).
set -euo pipefail
cd "$(dirname "$0")"
# The report pack's PDF and the letters in Chinese need a Chinese font (an English pack does not).
if ! fc-list 2>/dev/null | grep -qi "wqy\|noto sans cjk\|droid sans fallback"; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing a Chinese font (fonts-wqy-microhei) for the PDF report and letters…" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        fonts-wqy-microhei >/dev/null; } \
      || echo "Could not install fonts-wqy-microhei; Chinese PDFs will not be made until a Chinese font is installed." >&2
  else
    echo "No Chinese font is installed: the dashboard works, but a Chinese PDF report or letter cannot be made. Install one with: sudo apt-get install fonts-wqy-microhei" >&2
  fi
fi
tools/install.sh requirements.txt
exec .venv/bin/python -m core serve "$@"
