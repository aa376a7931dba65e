"""The one parameter schema (nexus/flow/params.py SCHEMA) against the compiled engine: the
structs setup.py generates from it are checked at import, and a drift -- a parameter
renamed, dropped, added, moved, resized, or a bound that no longer matches the compiled
limit -- fails loudly."""

import dataclasses

import pytest

from engine import flow
from nexus.exceptions import ConfigError, ParamLayoutError
from nexus.flow.params import BY_NAME, SCHEMA, FlowParams, check_layout, parse_value


def test_compiled_layout_is_the_schema():
    check_layout(flow.PARAM_LAYOUT, flow.LIMITS)
    size, fields = flow.PARAM_LAYOUT
    assert [name for name, _, _ in fields] == [p.name for p in SCHEMA]
    assert [f.name for f in dataclasses.fields(FlowParams)] == [p.name for p in SCHEMA]
    assert list(FlowParams().engine_dict()) == [p.name for p in SCHEMA]
    assert size == 8 * sum(p.count for p in SCHEMA)


def renamed(schema, old, new):
    return tuple(dataclasses.replace(p, name=new) if p.name == old else p for p in schema)


@pytest.mark.parametrize("schema", [
    renamed(SCHEMA, "spoof_pull_pct", "spoof_pulled_pct"),
    tuple(p for p in SCHEMA if p.name != "iceberg_settle_ns"),
    SCHEMA + (dataclasses.replace(BY_NAME["spoof_min_rank"], name="spoof_max_rank"),),
    (SCHEMA[1], SCHEMA[0]) + SCHEMA[2:],
    tuple(dataclasses.replace(p, default=(1,) * 7) if p.name == "oracle_weights" else p for p in SCHEMA),
], ids=["renamed", "missing", "added", "moved", "resized"])
def test_a_schema_that_drifted_from_the_compiled_structs_raises(schema):
    with pytest.raises(ParamLayoutError):
        check_layout(flow.PARAM_LAYOUT, flow.LIMITS, schema)


def test_a_bound_that_differs_from_its_compiled_limit_raises():
    schema = tuple(dataclasses.replace(p, hi=4097) if p.name == "delta_spike_window" else p for p in SCHEMA)
    with pytest.raises(ParamLayoutError, match="DS_WINDOW_MAX"):
        check_layout(flow.PARAM_LAYOUT, flow.LIMITS, schema)
    with pytest.raises(ParamLayoutError, match="OS_RING"):
        check_layout(flow.PARAM_LAYOUT, {**flow.LIMITS, "OS_RING": 4096})


def test_offsets_that_are_not_the_schema_order_raise():
    size, fields = flow.PARAM_LAYOUT
    gap = tuple((n, o + 8 if i >= 3 else o, b) for i, (n, o, b) in enumerate(fields))
    with pytest.raises(ParamLayoutError, match="offset"):
        check_layout((size + 8, gap), flow.LIMITS)
    with pytest.raises(ParamLayoutError, match="bytes"):
        check_layout((size + 8, fields), flow.LIMITS)


def test_the_engine_copies_every_parameter_in_by_the_layout():
    params = FlowParams().engine_dict()
    del params["spoof_min_behind"]
    with pytest.raises(ValueError, match="spoof_min_behind"):
        flow.FlowEngine(params)
    with pytest.raises(ValueError, match="oracle_weights"):
        flow.FlowEngine({**FlowParams().engine_dict(), "oracle_weights": (1, 2, 3)})
    eng = flow.FlowEngine(FlowParams(ofi_levels=7, obi_levels=3, vpin_bucket_volume=10).engine_dict())
    assert (eng.ofi_levels, eng.obi_levels, eng.vpin_enabled) == (7, 3, True)


def test_ranges_come_from_the_schema():
    for p in (p for p in SCHEMA if p.count == 1 and not p.when):
        if p.hi is not None:
            with pytest.raises(ConfigError, match=p.name):
                FlowParams(**{p.name: p.hi + 1})
        if p.lo > 0:
            with pytest.raises(ConfigError, match=p.name):
                FlowParams(**{p.name: p.lo - 1})
    FlowParams(vpin_window=0)  # VPIN off: its window is not used, so not checked
    with pytest.raises(ConfigError, match="vpin_window"):
        FlowParams(vpin_bucket_volume=10, vpin_window=0)


def test_param_values_parse_by_the_schema_type():
    assert parse_value("oracle_weights", "1,2,3,4,5,6") == (1, 2, 3, 4, 5, 6)
    assert parse_value("spoof", "off") is False
    assert parse_value("spoof_pull_pct", "60") == 60
    with pytest.raises(ValueError):
        parse_value("spoof_pull_pct", "sixty")
