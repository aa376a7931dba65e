"""`nexus ring`: list and remove shared-memory ring segments."""

import json

import click

from nexus.cli import EXIT_REJECTED


@click.group()
def ring() -> None:
    """Inspect and clean up shared-memory rings (/dev/shm/nexus-ring-*)."""


@ring.command("ls")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per ring, as JSON Lines.")
def ring_ls(as_json: bool) -> None:
    """List rings with their size, writer and position. A ring whose writer is gone is stale."""
    from nexus.ring import ring_list

    rings = ring_list()
    if as_json:
        for r in rings:
            click.echo(json.dumps(r))
        return
    if not rings:
        click.echo("no rings")
        return
    click.echo(f"{'NAME':32} {'SLOTS':>9} {'MiB':>8} {'POSITION':>14} {'WRITER':>8}  STATE")
    for r in rings:
        state = "live" if r["writer_alive"] else ("invalid" if not r["valid"] else "stale")
        click.echo(
            f"{r['name']:32} {r['slots']:>9} {r['bytes'] / 2**20:>8.1f} {r['position']:>14} {r['writer_pid']:>8}  {state}"
        )


@ring.command("rm")
@click.argument("names", nargs=-1)
@click.option("--force", is_flag=True, help="Remove even if its writer is alive.")
@click.option("--stale", is_flag=True,
              help="Remove every ring whose writer is gone (killed before it closed the ring), as `ring ls` "
                   "shows them: stale or invalid.")
def ring_rm(names: tuple[str, ...], force: bool, stale: bool) -> None:
    """Remove ring segments by NAME (refuses a ring with a live writer unless --force), or
    every stale one with --stale. Exit 3 if a NAME was refused (no such ring, a live writer,
    an invalid name): the others are removed."""
    from nexus.exceptions import RingError
    from nexus.ring import remove_stale, ring_remove
    from nexus.ring_meta import remove_meta

    if stale:
        if names or force:
            raise click.UsageError("--stale takes no NAME and no --force")
        removed = remove_stale()
        for name in removed:
            remove_meta(name)  # its side file too
            click.echo(f"removed {name}")
        if not removed:
            click.echo("no stale rings")
        return
    if not names:
        raise click.UsageError("Missing argument 'NAMES...' (or --stale).")
    failed = False
    for name in names:
        try:
            ring_remove(name, force)
            remove_meta(name)  # its side file, if its writer wrote one
            click.echo(f"removed {name}")
        except RingError as e:
            click.echo(f"nexus ring rm: {e}", err=True)
            failed = True
    if failed:
        raise click.exceptions.Exit(EXIT_REJECTED)
