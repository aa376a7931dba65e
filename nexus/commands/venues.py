"""`nexus venues`: every venue Nexus knows, with its market data and execution status (the
README's venue table is this command's `--markdown` output, checked by a test)."""

from __future__ import annotations

import json

import click


def venue_rows() -> list[dict]:
    from nexus.exec import matrix
    from nexus.venues import registry

    built = set(matrix.built())
    rows = []
    for name, v in registry.all_venues().items():
        doc = (v.data_module().__doc__ or "").strip()
        what = doc.split(":", 1)[0].split("\n\n", 1)[0].replace("\n", " ").strip() if doc else ""
        how, note = matrix.MATRIX.get(name, (None, "not in the seed's execution matrix"))
        if how == matrix.NATIVE:
            execution = "native" if name in built else "native: not built yet"
        elif how is None:
            execution = "none"
        else:
            execution = how
        rows.append({
            "venue": name, "id": v.id, "market_data": what,
            "simulator": "default" if v.sim is not None and v.sim_default else
                         ("when named" if v.sim is not None else "no"),
            "execution": execution, "execution_note": note,
        })
    for name, (how, note) in matrix.MATRIX.items():   # the seed's venues still to come
        if name not in registry.all_venues():
            rows.append({"venue": name, "id": None, "market_data": "not built yet", "simulator": "no",
                         "execution": "native: not built yet" if how == matrix.NATIVE else how,
                         "execution_note": note})
    return rows


def markdown(rows: list[dict]) -> str:
    out = ["| venue | id | market data | simulator | execution |", "|---|---|---|---|---|"]
    for r in rows:
        ex = r["execution"] if r["execution"] == "native" else f"{r['execution']} ({r['execution_note']})"
        out.append(f"| `{r['venue']}` | {r['id'] if r['id'] is not None else '-'} | {r['market_data']} | {r['simulator']} | {ex} |")
    return "\n".join(out)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON array of venues.")
@click.option("--markdown", "as_markdown", is_flag=True, help="The README's venue table.")
def venues(as_json, as_markdown):
    """Every venue: its id (Record.venue_id), what its market data is, whether the simulator
    serves it by default (or when named in --venues), and how it executes (the seed's
    execution matrix: native, bridge or data-only; native venues not built yet say so)."""
    rows = venue_rows()
    if as_json:
        click.echo(json.dumps(rows))
    elif as_markdown:
        click.echo(markdown(rows))
    else:
        w = max(len(r["venue"]) for r in rows)
        for r in rows:
            click.echo(f"{r['venue']:<{w}}  {r['id'] if r['id'] is not None else '-':>3}  sim {r['simulator']:<10}  {r['execution']:<22}  "
                       f"{r['market_data']}")
