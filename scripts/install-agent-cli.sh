#!/usr/bin/env bash
# Install a pinned agent CLI from npm into .tools/<name> (used by tests/e2e):
#   scripts/install-agent-cli.sh codex       ->  @openai/codex@0.169.0        .tools/codex/node_modules/.bin/codex
#   scripts/install-agent-cli.sh gemini-cli  ->  @google/gemini-cli@0.61.0    .tools/gemini-cli/node_modules/.bin/gemini
#
# Idempotent: a fast no-op when the pinned version is installed and runs. Never fails the caller: if npm is
# missing or the install fails it says why and exits 0, and the e2e tests skip themselves.
# Codex's npm package brings its native binary from the registry alias @openai/codex@<version>-linux-x64;
# Gemini CLI is a JavaScript bundle (its node-pty and keytar install scripts are not needed).
set -u

case "${1:-}" in
    codex) PACKAGE="@openai/codex"; VERSION="0.169.0"; BIN_NAME="codex" ;;
    gemini-cli) PACKAGE="@google/gemini-cli"; VERSION="0.61.0"; BIN_NAME="gemini" ;;
    *) echo "usage: $0 codex|gemini-cli" >&2; exit 2 ;;
esac
NAME="$1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="$ROOT/.tools/$NAME"
BIN="$PREFIX/node_modules/.bin/$BIN_NAME"

installed_version() {
    [ -x "$BIN" ] || return 1
    # "codex-cli 0.169.0" / "0.61.0"
    timeout 60 "$BIN" --version 2>/dev/null </dev/null | head -n1 | awk '{print $NF}'
}

if [ "$(installed_version)" = "$VERSION" ]; then
    echo "install-agent-cli: $PACKAGE@$VERSION already installed at $BIN"
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "install-agent-cli: npm not found; not installing $PACKAGE (e2e tests will skip)"
    exit 0
fi
mkdir -p "$PREFIX"
echo "install-agent-cli: npm install --prefix $PREFIX $PACKAGE@$VERSION"
if ! timeout 900 npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error --ignore-scripts \
        "$PACKAGE@$VERSION"; then
    echo "install-agent-cli: npm install of $PACKAGE failed (e2e tests will skip)"
    exit 0
fi
got="$(installed_version)"
if [ "$got" = "$VERSION" ]; then
    echo "install-agent-cli: installed $PACKAGE@$VERSION at $BIN"
else
    echo "install-agent-cli: installed, but '$BIN --version' gave '${got:-nothing}' (e2e tests will skip)"
fi
exit 0
