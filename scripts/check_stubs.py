"""Check the type stubs shipped with the compiled modules against the modules themselves.

Every compiled extension module of the `nexus` and `engine` packages (the pyo3 module
`nexus._native`, the Cython modules `engine.*`) must ship a `.pyi` beside it, and mypy's
`stubtest` must find the stub and the module in agreement: every public name, class, method,
property and parameter list (read from `__text_signature__`, which pyo3 and Cython both
provide) on both sides. Cython's own module-level artefacts are the only names excused
(scripts/stubtest-allowlist.txt says which and why).

    python scripts/check_stubs.py               # the stubs in the source tree (make test-stubs)
    python scripts/check_stubs.py --stubs DIR   # stubs laid out as DIR/nexus/_native.pyi, ...

Exit status: 0 the stubs agree, 2 usage error, 3 a stub is missing or drifted (the report
says where), 4 stubtest could not run (mypy missing: it is in the dev extra).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.machinery
import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGES = ("nexus", "engine")
ALLOWLIST = Path(__file__).with_name("stubtest-allowlist.txt")


def compiled_modules(package: str) -> dict[str, Path]:
    """{module name: package directory} of the package's compiled extension modules."""
    pkg_dir = Path(importlib.import_module(package).__file__).parent
    found = {}
    for path in pkg_dir.iterdir():
        # The most specific suffix first (".cpython-311-...so" before ".so").
        suffix = next((s for s in importlib.machinery.EXTENSION_SUFFIXES if path.name.endswith(s)), None)
        if suffix is not None:
            found[f"{package}.{path.name[: -len(suffix)]}"] = pkg_dir
    return found


def stub_modules(root: Path, package: str) -> set[str]:
    return {f"{package}.{p.stem}" for p in (root / package).glob("*.pyi") if p.stem != "__init__"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stubs", type=Path, help="root holding <package>/<module>.pyi (default: the source tree)")
    args = ap.parse_args(argv)
    if importlib.util.find_spec("mypy") is None:
        print("check_stubs: mypy is not installed (pip install -e '.[dev]')", file=sys.stderr)
        return 4
    compiled = {}
    for package in PACKAGES:
        compiled.update(compiled_modules(package))
    source_roots = {d.parent for d in compiled.values()}
    if args.stubs is None and len(source_roots) != 1:
        print(f"check_stubs: the packages live in several roots {sorted(source_roots)}; pass --stubs", file=sys.stderr)
        return 2
    root = args.stubs if args.stubs is not None else source_roots.pop()
    if not all((root / p).is_dir() for p in PACKAGES):
        print(f"check_stubs: {root} does not hold {', '.join(PACKAGES)}/", file=sys.stderr)
        return 2
    stubs = set().union(*(stub_modules(root, p) for p in PACKAGES))
    missing = sorted(set(compiled) - stubs)
    if missing:
        for m in missing:
            print(f"error: {m} is a compiled module without a stub ({root / m.replace('.', '/')}.pyi)")
        return 3
    # MYPYPATH puts `root` first on mypy's search path; the modules themselves are imported
    # from wherever Python finds them. It runs in an empty directory, so that neither the
    # current directory's packages nor a .mypy_cache left behind come into play.
    env = dict(os.environ, MYPYPATH=str(root.resolve()))
    cmd = [sys.executable, "-m", "mypy.stubtest", "--allowlist", str(ALLOWLIST), *sorted(stubs)]
    with tempfile.TemporaryDirectory(prefix="nexus-stubtest-") as cwd:
        run = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    sys.stdout.write(run.stdout)
    sys.stderr.write(run.stderr)
    if run.returncode == 0:
        print(f"check_stubs: {len(stubs)} stubs agree with their compiled modules: {', '.join(sorted(stubs))}")
        return 0
    return 3 if run.returncode == 1 else 4


if __name__ == "__main__":
    sys.exit(main())
