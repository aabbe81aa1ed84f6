#!/bin/sh
# Install the system tools some tests and features need (Debian/Ubuntu):
#   chromium    headless browser for the feedback/dashboard tests (tests/reports)
#   postgresql  a real server for the gradebook's PostgreSQL tests (tests/gradebook)
#   bubblewrap  sandbox used by the engine when not running as root
# Idempotent: installs only what is missing, runs `apt-get update` at most once.
# Not root (or no apt-get): says what is missing and exits 0; the tests that need
# a missing tool skip with a reason.
set -eu

missing=""
have_postgres() {
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ] && return 0
    done
    return 1
}
[ -x /usr/bin/chromium ] || missing="$missing chromium"
have_postgres || missing="$missing postgresql"
command -v bwrap >/dev/null 2>&1 || missing="$missing bubblewrap"

if [ -z "$missing" ]; then
    echo "system-deps: chromium, postgresql and bubblewrap are already installed; nothing to do"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "system-deps: missing:$missing"
    echo "system-deps: not root, installing nothing; run as root (or: sudo apt-get install$missing)."
    echo "system-deps: the tests that need them will be skipped with a reason."
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: missing:$missing; no apt-get on this system, install them by hand" >&2
    exit 0
fi

echo "system-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086  # word splitting of the package list is intended
apt-get install -y --no-install-recommends $missing
echo "system-deps: installed:$missing"
