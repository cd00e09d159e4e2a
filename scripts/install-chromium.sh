#!/usr/bin/env bash
# Install Debian's chromium (headless browser for tests/web) when it is missing.
#
# Playwright's own browser download cannot work without the internet beyond the package registries,
# so the browser test drives Debian's /usr/bin/chromium through `executable_path`.
# Never fails the caller: without root, apt-get or the package, it says why and exits 0, and the
# browser test skips with that reason.
set -u

BIN="${CCTELEMETRY_CHROMIUM:-/usr/bin/chromium}"

if [ -x "$BIN" ] && timeout 60 "$BIN" --headless --no-sandbox --version >/dev/null 2>&1; then
    echo "install-chromium: $("$BIN" --version 2>/dev/null | head -n1) at $BIN"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-chromium: apt-get not found; not installing (browser tests will skip)"
    exit 0
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "install-chromium: not root and no password-less sudo; not installing (browser tests will skip)"
        exit 0
    fi
fi

echo "install-chromium: apt-get install chromium"
export DEBIAN_FRONTEND=noninteractive
# The package lists may be missing or stale on a fresh machine: refresh them once, then install.
if ! timeout 900 $SUDO apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >/dev/null 2>&1; then
    timeout 600 $SUDO apt-get update -q >/dev/null 2>&1
    if ! timeout 900 $SUDO apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core; then
        echo "install-chromium: apt-get install chromium failed (browser tests will skip)"
        exit 0
    fi
fi

if [ -x "$BIN" ]; then
    echo "install-chromium: installed $("$BIN" --version 2>/dev/null | head -n1) at $BIN"
else
    echo "install-chromium: installed, but $BIN is not there (browser tests will skip)"
fi
exit 0
