#!/usr/bin/env bash
# Renders a markdown plan or diff (fuelplan plan/diff --format markdown) as
# a forge shows it in a pull-request comment — tables, <details> (opened),
# the Mermaid picture drawn — and takes a screenshot with headless Chromium.
#
#   scripts/screenshot-markdown.sh plan.md plan.png
#
# Needs node/npm and chromium (Debian: apt-get install chromium npm); the
# renderer's packages (marked, mermaid) are installed once into
# .fuelplan/mdpreview from the npm registry.
set -euo pipefail
src=${1:?usage: $0 FILE.md OUT.png}
out=${2:?usage: $0 FILE.md OUT.png}
here=$(cd "$(dirname "$0")" && pwd)
cache=${FUELPLAN_MDPREVIEW:-$here/../.fuelplan/mdpreview}
mkdir -p "$cache"
cp "$here/mdpreview/package.json" "$here/mdpreview/render.mjs" "$cache/"
if [ ! -d "$cache/node_modules/mermaid" ] || [ ! -d "$cache/node_modules/marked" ]; then
  (cd "$cache" && npm install --silent --no-audit --no-fund >/dev/null)
fi
html="$cache/preview.html"
node "$cache/render.mjs" "$src" "$html"
chromium=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chromium" ] || { echo "chromium not found (apt-get install chromium)" >&2; exit 1; }
"$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --allow-file-access-from-files --virtual-time-budget=10000 \
  --window-size="${WIDTH:-1100},${HEIGHT:-1600}" --screenshot="$out" "file://$html" 2>/dev/null
echo "wrote $out"
