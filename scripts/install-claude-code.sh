#!/usr/bin/env bash
# Install the pinned Claude Code CLI into .tools/claude-code (used by tests/e2e).
#
# Idempotent: a fast no-op when the pinned version is already installed and runs.
# Never fails the caller: if npm is missing or the install fails it prints why and exits 0,
# and the e2e tests skip themselves because the binary is unusable.
#
# The npm package is only a wrapper; the native binary comes from the optional dependency
# @anthropic-ai/claude-code-linux-x64. npm may warn that the postinstall did not run;
# node_modules/.bin/claude works without it.
set -u

VERSION="2.1.197"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${CLAUDE_CODE_PREFIX:-$ROOT/.tools/claude-code}"
BIN="$PREFIX/node_modules/.bin/claude"

installed_version() {
    [ -x "$BIN" ] || return 1
    timeout 30 "$BIN" --version 2>/dev/null | head -n1 | awk '{print $1}'
}

if [ "$(installed_version)" = "$VERSION" ]; then
    echo "install-claude-code: $VERSION already installed at $BIN"
    exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
    echo "install-claude-code: npm not found; not installing (e2e tests will skip)"
    exit 0
fi

mkdir -p "$PREFIX"
echo "install-claude-code: npm install --prefix $PREFIX @anthropic-ai/claude-code@$VERSION"
if ! timeout 900 npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error \
        "@anthropic-ai/claude-code@$VERSION"; then
    echo "install-claude-code: npm install failed (e2e tests will skip)"
    exit 0
fi

got="$(installed_version)"
if [ "$got" = "$VERSION" ]; then
    echo "install-claude-code: installed $VERSION at $BIN"
else
    echo "install-claude-code: installed, but '$BIN --version' gave '${got:-nothing}' (e2e tests will skip)"
fi
exit 0
