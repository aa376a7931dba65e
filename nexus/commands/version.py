import json

import click

from nexus import __version__


def version_info() -> dict:
    info: dict = {"version": __version__}
    try:
        from nexus import _native, record  # noqa: F401  (record checks the layout)

        info["native"] = {"loaded": True, "build": _native.BUILD, "version": _native.VERSION}
    except Exception as e:  # report, do not crash: this command is how users diagnose builds
        info["native"] = {"loaded": False, "error": str(e)}
    try:
        import engine  # noqa: F401  (checks the Cython struct against native)

        info["engine"] = {"loaded": True}
    except Exception as e:
        info["engine"] = {"loaded": False, "error": str(e)}
    return info


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def version(as_json: bool) -> None:
    """Show the version and whether the native core and the engine are loaded."""
    info = version_info()
    if as_json:
        click.echo(json.dumps(info))
        return
    click.echo(f"nexus {info['version']}")
    n, e = info["native"], info["engine"]
    click.echo(f"native: {'loaded (' + n['build'] + ')' if n['loaded'] else 'NOT loaded: ' + n['error']}")
    click.echo(f"engine: {'loaded' if e['loaded'] else 'NOT loaded: ' + e['error']}")
