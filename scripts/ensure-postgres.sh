#!/usr/bin/env bash
# Makes sure PostgreSQL server binaries (initdb, pg_ctl) are installed, from Debian packages
# when missing. The broker tests start their own server in a temporary directory with them.
set -euo pipefail
have_pg() {
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1
}
if have_pg; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "nexus: PostgreSQL is not installed and this is not root; install it with: sudo apt-get install -y postgresql" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "nexus: PostgreSQL is not installed and apt-get is not available; install PostgreSQL 13+ server binaries" >&2
  exit 1
fi
echo "nexus: installing PostgreSQL from Debian packages (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends postgresql
have_pg || { echo "nexus: PostgreSQL installed but initdb not found" >&2; exit 1; }
