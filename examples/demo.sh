#!/usr/bin/env bash
# `make demo`: validate the complete example site, show its plan, and draw it.
# Until the cluster demo exists, everything here runs offline from the same core the operator uses.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p out

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "mtopo validate -f examples/siroe.yaml"
npx mtopo validate -f examples/siroe.yaml

step "mtopo plan -f examples/siroe.yaml"
npx mtopo plan -f examples/siroe.yaml

step "mtopo render -f examples/siroe.yaml > out/siroe.yaml"
npx mtopo render -f examples/siroe.yaml > out/siroe.yaml
echo "$(grep -c '^kind:' out/siroe.yaml) objects written to out/siroe.yaml"

step "mtopo diagram -f examples/siroe.yaml"
npx mtopo diagram -f examples/siroe.yaml --format svg --out out/siroe.svg
npx mtopo diagram -f examples/siroe.yaml --out out/siroe.mmd
echo "diagram written to out/siroe.svg (open it in a browser) and out/siroe.mmd (Mermaid)"
