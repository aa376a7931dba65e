"""`nexus config show`: the effective settings of the long-running commands (defaults, the
config file, the environment), secrets masked. See nexus/config.py for the precedence."""

from __future__ import annotations

import json

import click

from nexus.config import CONFIG_ENV, effective_settings

# the long-running commands that take --config, as typed after `nexus`
LONG_RUNNING = ("run", "record", "sim", "trade", "broker serve", "tradebot run")


def _command(path: str) -> click.Command:
    from nexus.cli import cli

    ctx = click.Context(cli, info_name="nexus")
    cmd: click.Command | None = cli
    for part in path.split():
        cmd = cmd.get_command(ctx, part) if isinstance(cmd, click.Group) else None
        if cmd is None:
            break
    if cmd is None:
        raise click.BadParameter(f"not a command: {path!r}", param_hint="--command")
    return cmd


@click.group()
def config() -> None:
    """Settings of the long-running commands (run, record, sim, trade, broker serve, tradebot run)."""


@config.command("show")
@click.option("--command", "commands", multiple=True, type=click.Choice(LONG_RUNNING), metavar="COMMAND",
              help=f"Only this command (repeatable): {', '.join(LONG_RUNNING)}. Default: all of them.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar=CONFIG_ENV, default=None,
              metavar="FILE", help=f"The TOML file the commands would read (or {CONFIG_ENV}).")
@click.option("--json", "as_json", is_flag=True, help='One JSON object: {"config", "commands": {COMMAND: {SETTING: {"value", "source", "env"}}}}.')
def show(commands, config_path, as_json):
    """Print each setting as the command would resolve it without flags: its value and where
    it comes from (env, file, default). Secrets print as ******** (or null when unset), never
    their value; a secret file readable by group or others is refused here as in the command."""
    out = {}
    for path in commands or LONG_RUNNING:
        out[path] = effective_settings(_command(path), path.split(), config_path)
    if as_json:
        click.echo(json.dumps({"config": config_path, "commands": out}))
        return
    click.echo(f"# config file: {config_path or 'none'}")
    for path, settings in out.items():
        click.echo(f"[{'.'.join(path.split())}]")
        for name, s in settings.items():
            click.echo(f"  {name} = {json.dumps(s['value'])}    # {s['source'] or 'unset'}; env {s['env']}")
