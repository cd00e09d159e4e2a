#!/usr/bin/env bash
# Install ccusage, pinned, into .tools/ccusage (used by tests/transcripts and bench/ as the reference).
# 20.0.24 is pinned: 20.0.26's linux native package is missing from the registry we use, and the tests'
# expectations (and the known-wrong cases they document) are for this version's behaviour.
# Usage: scripts/install-ccusage.sh            -> .tools/ccusage/node_modules/.bin/ccusage
# Exits non-zero (and the tests skip) when npm or the package is not available.
set -euo pipefail
VERSION="${CCUSAGE_VERSION:-20.0.24}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PREFIX="$ROOT/.tools/ccusage"
BIN="$PREFIX/node_modules/.bin/ccusage"

if ! command -v npm >/dev/null 2>&1; then
  echo "install-ccusage: npm not found" >&2
  exit 2
fi
if [ -x "$BIN" ] && [ "$("$BIN" --version 2>/dev/null | tr -d '[:space:]')" = "$VERSION" ]; then
  echo "$BIN"
  exit 0
fi
mkdir -p "$PREFIX"
npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error "ccusage@$VERSION" >&2
# The package is a wrapper around a native binary from an optional dependency: check it runs.
if ! "$BIN" --version >/dev/null 2>&1; then
  echo "install-ccusage: ccusage@$VERSION installed but its native binary does not run" >&2
  exit 3
fi
echo "$BIN"
