"""Shared by the signing tests: the fixture files of tests/fixtures/signing/."""
import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "signing"


def fixture_rows(venue: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / f"{venue}.jsonl").read_text().splitlines() if line.strip()]
