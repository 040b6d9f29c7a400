#!/usr/bin/env bash
# Regenerate docs/report-screenshot.png: the HTML report of `briefwatch demo` (the bundled
# example pages, v1 then the edited v2) as Debian's headless chromium renders it.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PREFECT_HOME="$work/prefect" PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1
.venv/bin/briefwatch demo --workdir /tmp/briefwatch-demo > /dev/null
.venv/bin/briefwatch report --db /tmp/briefwatch-demo/briefwatch.db --format html \
    -o /tmp/briefwatch-demo/report
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --force-device-scale-factor=1 --user-data-dir="$work/profile" \
    --window-size=1200,1500 --screenshot="$PWD/docs/report-screenshot.png" \
    file:///tmp/briefwatch-demo/report/index.html 2> /dev/null
echo "wrote docs/report-screenshot.png"
