import json
import subprocess
import sys

from click.testing import CliRunner

from nexus.cli import cli


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_help_lists_commands():
    r = run("--help")
    assert r.exit_code == 0
    for cmd in ("version", "ring", "bench", "demo"):
        assert cmd in r.output


def test_version_json_contract():
    r = run("version", "--json")
    info = json.loads(r.output)
    assert info["version"]
    assert info["native"]["loaded"] is True and info["native"]["build"] in ("release", "debug")
    assert info["engine"]["loaded"] is True


def test_ring_ls_and_rm(ring_name):
    from nexus.ring import RingWriter

    w = RingWriter(ring_name, slots=64)
    listed = [json.loads(x) for x in run("ring", "ls", "--json").output.splitlines()]
    assert any(x["name"] == ring_name and x["writer_alive"] for x in listed)
    r = run("ring", "rm", ring_name)
    assert r.exit_code == 3 and "live writer" in r.output  # refused: the exit contract's 3
    w.abandon()
    assert "stale" in run("ring", "ls").output
    assert run("ring", "rm", ring_name).exit_code == 0
    assert ring_name not in run("ring", "ls").output


def test_usage_error_exits_2():
    p = subprocess.run([sys.executable, "-m", "nexus.cli", "ring", "rm"], capture_output=True, text=True)
    assert p.returncode == 2
    assert "Missing argument" in p.stderr


def test_bench_ring_json_has_the_contract_keys():
    p = subprocess.run([sys.executable, "-m", "nexus.cli", "bench", "ring", "--quick", "--json"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    for k in ("throughput_records_per_s", "latency_ns_p50", "latency_ns_p99", "latency_ns_p999",
              "mp_queue_throughput_records_per_s", "pipe_throughput_records_per_s"):
        assert isinstance(res[k], (int, float)) and res[k] > 0, k


def test_demo_runs_writer_and_reader_processes():
    p = subprocess.run([sys.executable, "-m", "nexus.cli", "demo", "--duration", "2", "--json"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    summary = lines[-1]["summary"]
    assert summary["records"] > 10_000 and summary["lost"] == 0
    assert summary["trades"] * 21 == summary["records"]


def test_ring_rm_stale_removes_only_rings_whose_writer_is_gone(ring_name):
    from nexus.ring import RingWriter

    live = RingWriter(ring_name + "-live", slots=64)
    RingWriter(ring_name, slots=64).abandon()  # what a killed writer leaves
    try:
        r = run("ring", "rm", "--stale")
        assert r.exit_code == 0 and f"removed {ring_name}\n" in r.output
        names = [json.loads(x)["name"] for x in run("ring", "ls", "--json").output.splitlines()]
        assert ring_name not in names and ring_name + "-live" in names
        assert run("ring", "rm", "--stale", ring_name).exit_code == 2  # names or --stale, not both
    finally:
        live.close()


def test_ring_rm_of_an_unknown_ring_exits_3_and_removes_the_others(ring_name):
    from nexus.ring import RingWriter

    RingWriter(ring_name, slots=64).abandon()
    p = subprocess.run([sys.executable, "-m", "nexus.cli", "ring", "rm", "nosuch", ring_name],
                       capture_output=True, text=True)
    assert p.returncode == 3 and "Traceback" not in p.stderr
    assert p.stderr.count("\n") == 1 and 'no ring named "nosuch"' in p.stderr
    assert p.stdout == f"removed {ring_name}\n"


def test_output_closed_by_its_reader_is_not_an_error(ring_name):
    """`nexus ring ls --json | head -1` with more output than the pipe holds: exit 0, quietly."""
    from nexus.ring import RingWriter

    writers = [RingWriter(f"{ring_name}-{i}", slots=64) for i in range(1000)]  # > 64 KiB of JSON lines
    try:
        p = subprocess.Popen([sys.executable, "-m", "nexus.cli", "ring", "ls", "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert json.loads(p.stdout.readline())["name"]
        p.stdout.close()
        err = p.stderr.read()
        assert p.wait(60) == 0 and err == ""
    finally:
        for w in writers:
            w.close()
