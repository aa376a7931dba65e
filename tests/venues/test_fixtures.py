"""Every fixture under tests/fixtures/venues/<venue>/NAME.jsonl with a NAME.expect.json runs
through `nexus book replay` and/or `nexus normalize` and is compared with the expectation
written there by hand (each expect file names its documentation source in `_source`).

An expected checksum may be given as {"crc32_signed_of": S} or {"crc32_unsigned_of": S}: S is
the check string written by hand from the book in the venue's documented format, and the
value is computed here with zlib, independently of the native code under test. `{dir}` in
the args is the fixture's directory (`--instruments {dir}/instruments.json`: the venue's own
instrument listing; without it the precision is inferred from the input)."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from nexus.cli import cli

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "venues"
CASES = sorted(FIXTURES.glob("*/*.expect.json"))


def expected_value(v):
    if isinstance(v, dict) and "crc32_signed_of" in v:
        c = zlib.crc32(v["crc32_signed_of"].encode())
        return c - (1 << 32) if c >= 1 << 31 else c
    if isinstance(v, dict) and "crc32_unsigned_of" in v:
        return zlib.crc32(v["crc32_unsigned_of"].encode())
    return v


def run(args: list[str], stdin: bytes):
    return CliRunner().invoke(cli, args, input=stdin, catch_exceptions=False)


def check(result, exp: dict, lines: list[bytes]) -> None:
    assert result.exit_code == exp["exit"], result.stderr
    got = [json.loads(x) for x in result.stdout.splitlines()]
    want = [{k: expected_value(v) for k, v in o.items()} for o in exp["output"]]
    assert got == want
    rejected = [int(x.split(":")[1].split()[-1]) for x in result.stderr.splitlines()
                if x.startswith("nexus: line ")]
    assert rejected == exp.get("rejected_lines", [])
    for s in exp.get("stderr_contains", ()):
        assert s in result.stderr, result.stderr


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name.split('.')[0]}")
def test_fixture(case: Path) -> None:
    exp = json.loads(case.read_text())
    assert exp["_source"].strip(), "every fixture names its source"
    raw = (case.parent / (case.name.split(".")[0] + ".jsonl")).read_bytes()
    venue = case.parent.name
    ran = False
    for command, argv in (("replay", ["book", "replay"]), ("normalize", ["normalize"])):
        if command in exp:
            args = [a.replace("{dir}", str(case.parent)) for a in exp[command]["args"]]
            res = run([*argv, "--venue", venue, *args], raw)
            check(res, exp[command], raw.splitlines())
            ran = True
    assert ran


def test_every_fixture_has_an_expectation() -> None:
    for f in FIXTURES.glob("*/*.jsonl"):
        assert (f.parent / (f.stem + ".expect.json")).exists(), f
