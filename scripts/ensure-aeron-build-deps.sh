#!/usr/bin/env bash
# Makes sure what the Aeron C sources need to build inside the native crate is installed
# (rusteron-client / rusteron-media-driver compile them with cmake and generate their bindings
# with bindgen): libclang (bindgen), libbsd and uuid (linked by the Aeron driver), from Debian
# packages when missing. CMake 3.30+ comes from PyPI into the venv (requirements-build.txt).
set -euo pipefail
have_libclang() { compgen -G "/usr/lib/llvm-*/lib/libclang*.so*" >/dev/null || compgen -G "/usr/lib/*/libclang*.so*" >/dev/null; }
have_lib() { compgen -G "/usr/lib/*/$1.so" >/dev/null || compgen -G "/usr/lib/$1.so" >/dev/null; }
have_all() { have_libclang && have_lib libbsd && have_lib libuuid && [ -e /usr/include/uuid/uuid.h ] && [ -e /usr/include/bsd/stdlib.h ]; }
if have_all; then
  exit 0
fi
PKGS="libclang-dev clang libbsd-dev uuid-dev"
if [ "$(id -u)" != "0" ]; then
  echo "nexus: the Aeron build needs libclang, libbsd and uuid headers; install them with: sudo apt-get install -y $PKGS" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "nexus: the Aeron build needs libclang, libbsd and uuid development files (Debian: $PKGS)" >&2
  exit 1
fi
echo "nexus: installing the Aeron build's dependencies from Debian packages (apt-get): $PKGS" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends $PKGS
have_all || { echo "nexus: installed $PKGS but libclang/libbsd/uuid are still not found" >&2; exit 1; }
