"""The type stubs shipped with the compiled modules (nexus/_native.pyi, engine/*.pyi) describe
them truthfully, as scripts/check_stubs.py (mypy's stubtest) judges: the real stubs pass, and a
copy drifted in each way a stub can drift fails, naming the name that drifted.

This replaces tests/engine/test_flow_stubs.py, whose four assertions are the first four drift
cases below (a stub name the module lacks, a module name the stub lacks, the same two for a
class's members), now for the native module too, plus parameter lists and missing stubs."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKER = ROOT / "scripts" / "check_stubs.py"
STUBS = [ROOT / "nexus" / "_native.pyi", *sorted((ROOT / "engine").glob("*.pyi"))]


def check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECKER), *args], capture_output=True, text=True, timeout=300)


def test_the_shipped_stubs_agree_with_the_compiled_modules():
    run = check()
    assert run.returncode == 0, run.stdout + run.stderr
    for stub in STUBS:
        module = f"{stub.parent.name}.{stub.stem}"
        assert module in run.stdout.splitlines()[-1], f"{module} was not checked: {run.stdout}"


def copy_stubs(root: Path) -> Path:
    for path in STUBS:
        dest = root / path.parent.name / path.name
        dest.parent.mkdir(exist_ok=True)
        shutil.copy(path, dest)
    return root


# name: (stub, text to replace, replacement, the names the report must give). The cases touch
# different lines, so one drifted copy holds them all and one stubtest run judges them.
DRIFTS = {
    "stub name the module lacks": (
        "engine/flow.pyi", "FACTS: int\n", "FACTS: int\nGHOST_LIMIT: int\n", ("engine.flow.GHOST_LIMIT",)),
    "module name the stub lacks": ("engine/flow.pyi", "PHI_BITS: int\n", "", ("engine.flow.PHI_BITS",)),
    "class member the class lacks": (
        "engine/batch_stats.pyi", "    def reset(self) -> None: ...\n",
        "    def reset(self) -> None: ...\n    def rewind(self) -> None: ...\n", ("engine.batch_stats.BatchStats.rewind",)),
    "class member the stub lacks": (
        "engine/flow.pyi", "    def reset_counters(self) -> None: ...\n", "", ("engine.flow.FlowEngine.reset_counters",)),
    "native function parameter renamed": (
        "nexus/_native.pyi", "def parse_scaled(s: str, exponent: int)", "def parse_scaled(s: str, exp: int)",
        ("nexus._native.parse_scaled",)),
    "native method default changed": (
        "nexus/_native.pyi", "def checksum_okx(self, depth: int = 25)", "def checksum_okx(self, depth: int = 20)",
        ("nexus._native.Book.checksum_okx",)),
    "native constant under its old name": (
        "nexus/_native.pyi", "VENUES_MAX: int\n", "MAX_VENUES: int\n",
        # the old name is not at runtime, the new one is not in the stub, nor in its __all__
        ("nexus._native.MAX_VENUES", "nexus._native.VENUES_MAX", "nexus._native.__all__")),
    "native property the class lacks": (
        "nexus/_native.pyi", "    def unique(self) -> int: ...\n",
        "    def unique(self) -> int: ...\n    @property\n    def duplicates(self) -> int: ...\n",
        ("nexus._native.TradeDedup.duplicates",)),
}


@pytest.fixture(scope="module")
def drifted_report(tmp_path_factory):
    root = copy_stubs(tmp_path_factory.mktemp("stubs"))
    for stub, old, new, _ in DRIFTS.values():
        target = root / stub
        text = target.read_text()
        assert text.count(old) == 1, f"{old!r} is not once in {stub}: update this test with the stub"
        target.write_text(text.replace(old, new))
    return check("--stubs", str(root))


def test_a_drifted_stub_fails_the_check(drifted_report):
    assert drifted_report.returncode == 3, drifted_report.stdout + drifted_report.stderr


@pytest.mark.parametrize("case", sorted(DRIFTS))
def test_the_report_names_each_drift(drifted_report, case):
    for name in DRIFTS[case][3]:
        assert f"error: {name} " in drifted_report.stdout, drifted_report.stdout


def test_the_report_names_nothing_else(drifted_report):
    reported = {line.split()[1] for line in drifted_report.stdout.splitlines() if line.startswith("error: ")}
    assert reported == {n for d in DRIFTS.values() for n in d[3]}, drifted_report.stdout


def test_a_compiled_module_without_a_stub_fails_the_check(tmp_path):
    root = copy_stubs(tmp_path)
    (root / "engine" / "batch_stats.pyi").unlink()
    run = check("--stubs", str(root))
    assert run.returncode == 3, run.stdout + run.stderr
    assert "engine.batch_stats is a compiled module without a stub" in run.stdout
