#!/usr/bin/env bash
# Build dist/wholesoil-<version>.zip for QGIS's "Install from ZIP" from the committed tree
# (HEAD): a folder wholesoil/ without tests, benchmarks and developer scripts.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
version="$(sed -n 's/^version=//p' metadata.txt)"
mkdir -p dist
git archive --format=zip --prefix=wholesoil/ -o "dist/wholesoil-$version.zip" HEAD
echo "dist/wholesoil-$version.zip"
