#!/usr/bin/env bash
# Checks what `make` needs before it builds, and says what to install when something is missing.
set -u
fail=0
need() { echo "nexus: missing prerequisite: $1" >&2; echo "  install: $2" >&2; fail=1; }
PY=${PYTHON:-python3}
if ! command -v "$PY" >/dev/null 2>&1; then
  need "Python 3.11+ ($PY)" "apt-get install python3 python3-venv (or pyenv install 3.11)"
elif ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  need "Python 3.11+ (found $("$PY" --version 2>&1))" "a Python 3.11 or newer, then PYTHON=/path/to/python3.11 make ..."
elif ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  need "Python venv/ensurepip module" "apt-get install python3-venv"
fi
command -v cargo >/dev/null 2>&1 || need "a Rust toolchain (cargo, rustc 1.80+)" "curl https://sh.rustup.rs | sh, or apt-get install cargo"
command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || need "a C compiler (for the Cython engine)" "apt-get install build-essential"
[ -d /dev/shm ] || need "/dev/shm (POSIX shared memory)" "a Linux host with /dev/shm mounted"
exit $fail
