"""Where `nexus bench` finds its pure-Python baselines: `bench/baselines/` of the source tree,
beside the `nexus` package (they are benchmark baselines and test references, not shipped
in the package). A package installed without its source tree has none; the benchmarks then
report their native figures and say why the comparison is missing, instead of failing."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from nexus.exceptions import NexusError

SOURCE_ROOT = Path(__file__).resolve().parents[2]  # the directory holding nexus/ and bench/


class BaselineMissing(NexusError):
    """The pure-Python baselines are not available (no source tree beside the package)."""


def load(name: str):
    """The module bench/baselines/<name>.py of the source tree."""
    path = SOURCE_ROOT / "bench" / "baselines" / f"{name}.py"
    if not path.is_file():
        raise BaselineMissing(
            f"pure-Python baseline not measured: {path} is missing (the baselines live in the source tree's "
            "bench/baselines/, not in the installed package; run from a source checkout)")
    if str(SOURCE_ROOT) not in sys.path:
        sys.path.append(str(SOURCE_ROOT))
    module = importlib.import_module(f"bench.baselines.{name}")
    if Path(module.__file__).resolve() != path:
        raise BaselineMissing(f"pure-Python baseline not measured: `bench` resolves to {module.__file__}, not {path}")
    return module


def load_or_report(name: str) -> tuple[object | None, dict]:
    """(module or None, {"available": bool[, "error": why not]}) for a benchmark's output."""
    try:
        return load(name), {"available": True}
    except BaselineMissing as e:
        return None, {"available": False, "error": str(e)}
