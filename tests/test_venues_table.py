"""The README's venue table is what `nexus venues --markdown` prints (so it follows the
registry and the execution matrix as venues land)."""
import json
import re
import subprocess
import sys
from pathlib import Path

from nexus.venues import registry

README = Path(__file__).resolve().parents[1] / "README.md"


def nexus(*args):
    r = subprocess.run([sys.executable, "-m", "nexus.cli", "venues", *args], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_readme_table_is_the_commands_output():
    m = re.search(r"<!-- venues-table: [^>]*-->\n(.*?)\n<!-- /venues-table -->", README.read_text(), re.S)
    assert m, "the README has no venue table markers"
    assert m.group(1) == nexus("--markdown").rstrip("\n"), \
        "README venue table is stale: paste the output of `nexus venues --markdown`"


def test_every_registered_venue_is_listed_with_its_status():
    rows = {r["venue"]: r for r in json.loads(nexus("--json"))}
    for name, v in registry.all_venues().items():
        assert rows[name]["id"] == v.id and rows[name]["market_data"] not in ("", "not built yet")
    assert rows["binance-perp"]["execution"] == "native"
    assert rows["kraken"]["execution"] == "data-only"
    assert rows["hyperliquid"]["execution"] == "bridge"
