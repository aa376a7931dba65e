"""The venue registry: every venue is one package, found by discovery and checked against
VENUE_IDS; adding a venue is one folder and one VENUE_IDS line."""

import sys

import pytest

import nexus.venues as venues_pkg
from nexus.exceptions import ConfigError
from nexus.venues import VENUE_IDS, registry


@pytest.fixture
def fresh_registry():
    registry.all_venues.cache_clear()
    yield
    registry.all_venues.cache_clear()


def test_every_venue_id_has_its_package_and_nothing_else_is_listed():
    found = registry.all_venues()
    assert list(found) == sorted(VENUE_IDS, key=VENUE_IDS.get)  # ordered by id: the sim's stepping order
    for name, v in found.items():
        assert v.package.startswith("nexus.venues.")
        mod = v.data_module()
        assert mod.Decoder.venue == name and mod.Sync.venue == name
        assert v.feed_spec().venue == name
        sv = v.sim_venue()
        assert sv.feed.venue == name
        assert all(inst.venue == name for inst in sv.instruments.values())


def test_a_name_without_an_id_is_not_a_venue():
    assert "mtgox" not in VENUE_IDS
    with pytest.raises(ConfigError, match="unknown venue 'mtgox'"):
        registry.venue("mtgox")


def _write_package(root, name: str, venue: str) -> None:
    pkg = root / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "from nexus.venues.registry import Venue\n"
        f"VENUES = (Venue({venue!r}, __name__, sim=None),)\n")
    (pkg / "data.py").write_text(
        "from nexus.venues.base import Decoder as _D\n"
        "from nexus.venues.booksync import Sync as _S\n"
        f"class Decoder(_D):\n    venue = {venue!r}\n"
        f"class Sync(_S):\n    venue = {venue!r}\n")
    (pkg / "feed.py").write_text(
        "from nexus.venues.registry import FeedSpec, Heartbeat\n"
        f"FEED = FeedSpec({venue!r}, 'wss://example.invalid/ws', None, str.upper, lambda s: [], "
        "Heartbeat(0, None, None))\n")


def test_a_new_venue_is_one_folder_and_one_id_line(tmp_path, monkeypatch, fresh_registry):
    _write_package(tmp_path, "newvenue", "new-venue")
    monkeypatch.setattr(venues_pkg, "__path__", [*venues_pkg.__path__, str(tmp_path)])
    # without its VENUE_IDS line the package is refused, loudly
    with pytest.raises(RuntimeError, match="no line in VENUE_IDS"):
        registry.all_venues()
    registry.all_venues.cache_clear()
    monkeypatch.setitem(VENUE_IDS, "new-venue", 200)
    try:
        assert registry.names()[-1] == "new-venue"
        dec = registry.load("new-venue").Decoder()
        assert dec.venue_id == 200
        assert registry.feed_spec("new-venue").ws_url == "wss://example.invalid/ws"
        assert "new-venue" not in registry.simulated()
        with pytest.raises(ConfigError, match="does not serve"):
            registry.venue("new-venue").sim_venue()
    finally:
        for m in [m for m in sys.modules if m.startswith("nexus.venues.newvenue")]:
            del sys.modules[m]


def test_an_id_line_without_a_package_is_refused(monkeypatch, fresh_registry):
    monkeypatch.setitem(VENUE_IDS, "ghost", 201)
    with pytest.raises(RuntimeError, match="ghost but no package declares it"):
        registry.all_venues()
