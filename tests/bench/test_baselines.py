"""The pure-Python baselines live in the source tree's bench/baselines/, not in the nexus
package: `nexus bench flow|agg` load them from there and, when they are missing (a package
installed without its source tree), report their native figures and say why the comparison
is missing instead of failing. `nexus bench engine` is the flow benchmark's former name."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from nexus.bench import agg, baselines, flow
from nexus.commands.bench import bench

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_source_tree(monkeypatch, tmp_path):
    monkeypatch.setattr(baselines, "SOURCE_ROOT", tmp_path)


def test_baselines_load_from_the_source_tree():
    for name in ("flow_engine", "consensus"):
        module = baselines.load(name)
        assert Path(module.__file__).resolve() == ROOT / "bench" / "baselines" / f"{name}.py"
    assert not (ROOT / "nexus" / "flow" / "pyengine.py").exists()


def test_missing_baselines_raise_a_clear_error(no_source_tree, tmp_path):
    with pytest.raises(baselines.BaselineMissing, match="bench/baselines"):
        baselines.load("consensus")
    module, report = baselines.load_or_report("flow_engine")
    assert module is None and report["available"] is False and str(tmp_path) in report["error"]


def test_flow_bench_without_baselines_reports_the_compiled_figures(no_source_tree):
    res = flow.run(records=20_000, python_records=2_000, rounds=1)
    assert res["python_baseline"]["available"] is False
    assert res["engine_ns_per_record"] > 0 and res["engine_outputs"]["metric_rows"] > 0
    assert "python_ns_per_record" not in res and res["outputs_identical"] is None
    assert res["targets"]["ratio_engine_vs_python"]["met"] is None


def test_agg_bench_without_baselines_reports_the_native_figures(no_source_tree):
    res = agg.run(messages=500, rounds=1, replay=False)
    assert res["python_baseline"]["available"] is False
    assert res["native_ns_per_venue_level_update"] > 0 and res["native_apply_only_ns_per_venue_level_update"] > 0
    assert "python_ns_per_venue_level_update" not in res
    assert res["targets"]["ratio_native_vs_python"]["met"] is None


def test_cli_text_says_the_baseline_is_missing(no_source_tree):
    out = CliRunner().invoke(bench, ["flow", "--records", "10000", "--python-records", "1000"])
    assert out.exit_code == 0, out.output
    assert "pure-Python baseline not measured" in out.output
    assert "target ratio_engine_vs_python 30: not measured" in out.output


def test_bench_engine_is_a_hidden_alias_of_bench_flow():
    def run(name):
        p = subprocess.run([sys.executable, "-m", "nexus.cli", "bench", name, "--json", "--records", "10000",
                            "--python-records", "1000"], capture_output=True, timeout=300, cwd=ROOT)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    new, old = run("flow"), run("engine")
    assert new.keys() == old.keys()
    assert new["outputs_identical"] is True and old["outputs_identical"] is True
    assert new["python_baseline"] == {"available": True}
    listed = subprocess.run([sys.executable, "-m", "nexus.cli", "bench", "--help"], capture_output=True, text=True)
    commands = {line.split()[0] for line in listed.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert "flow" in commands and "engine" not in commands
