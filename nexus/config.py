"""Settings of the long-running commands from a TOML file, the environment and flags, and
their secrets from owner-only files or the environment.

Precedence, implemented once here on click's own resolution: a flag on the command line, then
the environment (`NEXUS_<COMMAND>_<OPTION>`, e.g. NEXUS_BROKER_SERVE_PORT, or an option's own
variable such as NEXUS_DB), then the file given with `--config FILE` (or NEXUS_CONFIG), then
the option's default. `@config_option` adds `--config` as an eager option whose callback fills
the command context's `default_map` from the file's section for the command (`[run]`,
`[broker.serve]`, `[tradebot.run]`; keys are the long option names: `metrics-port = 9100`).

Secrets (`@secret_option`): `--NAME-file FILE` (refused unless only its owner can read it,
with the chmod that fixes it), the environment variable named in `--help`, or `--NAME VALUE`
(kept for users and tests that rely on it, but every user on the host sees it in `ps`). A
secret is never read from the config file, and `effective_settings` (`nexus config show`)
prints whether it is set and from where, never its value.
"""

from __future__ import annotations

import functools
import os
import stat
import tomllib
from decimal import Decimal
from typing import Any

import click
from click.core import ParameterSource

CONFIG_ENV = "NEXUS_CONFIG"
ENV_PREFIX = "NEXUS"
MASK = "********"
GROUP_OTHER_BITS = stat.S_IRWXG | stat.S_IRWXO
SECRET_FILE_BYTES_MAX = 64 * 1024
_UNSET = getattr(click.core, "UNSET", None)  # click >= 8.3 marks "no value" with a sentinel


class SecretOption(click.Option):
    """A secret's value option: never from the config file or auto-environment, always masked."""

    def __init__(self, *args, env: str, file_param: str, **kw) -> None:
        super().__init__(*args, allow_from_autoenv=False, **kw)
        self.secret_env = env
        self.file_param = file_param


class CommandLineOnly(click.Option):
    """An option a person must type (e.g. `nexus trade --auto`): never taken from the config
    file or the environment, so a stale file or variable cannot switch it on."""

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, allow_from_autoenv=False, **kw)


def command_parts(ctx: click.Context) -> list[str]:
    """The command's path below the root group: ["broker", "serve"]."""
    parts = []
    while ctx.parent is not None:
        parts.append(ctx.info_name)
        ctx = ctx.parent
    return parts[::-1]


def env_prefix(parts: list[str]) -> str:
    return "_".join([ENV_PREFIX, *(p.upper().replace("-", "_") for p in parts)])


def read_config(path: str) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as e:
        raise click.UsageError(f"--config {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise click.UsageError(f"--config {path}: not valid TOML: {e}") from None


def _section(data: dict, parts: list[str], path: str) -> dict:
    node: Any = data
    for p in parts:
        node = node.get(p, {}) if isinstance(node, dict) else {}
    if not isinstance(node, dict):
        raise click.UsageError(f"--config {path}: [{'.'.join(parts)}] must be a table")
    return {k: v for k, v in node.items() if not isinstance(v, dict)}  # sub-tables belong to subcommands


def _keys_of(cmd: click.Command) -> dict[str, click.Option]:
    """The keys a config section may use for `cmd`: every long option name without dashes
    (`metrics-port`, also written `metrics_port`), and the parameter's own name."""
    out = {}
    for p in cmd.params:
        if not isinstance(p, click.Option) or p.name in ("config", "help"):
            continue
        out[p.name] = p
        for opt in p.opts + p.secondary_opts:
            if opt.startswith("--"):
                out[opt[2:]] = out[opt[2:].replace("-", "_")] = p
    return out


def defaults_from(cmd: click.Command, parts: list[str], data: dict, path: str) -> dict:
    """The `default_map` for `cmd` from the config file's section; unknown keys and secrets
    in the file are refused (a usage error naming the key)."""
    keys = _keys_of(cmd)
    where = "[" + ".".join(parts) + "]"
    out = {}
    for k, v in _section(data, parts, path).items():
        p = keys.get(k)
        if p is None:
            raise click.UsageError(f"--config {path}: {where} has no setting {k!r} (see `nexus {' '.join(parts)} --help`)")
        if isinstance(p, CommandLineOnly):
            raise click.UsageError(f"--config {path}: {where} {k}: only on the command line (--{k.replace('_', '-')})")
        if isinstance(p, SecretOption):
            raise click.UsageError(f"--config {path}: {where} {k}: a secret does not belong in a config file; "
                                   f"name a file with {k}-file = \"PATH\" (owner-only) or set {p.secret_env}")
        out[p.name] = v
    return out


def _load(ctx: click.Context, _param, path: str | None) -> None:
    parts = command_parts(ctx)
    ctx.auto_envvar_prefix = env_prefix(parts)
    if path:
        ctx.default_map = {**(ctx.default_map or {}), **defaults_from(ctx.command, parts, read_config(path), path)}


def config_option(f):
    """`--config FILE` for a long-running command (see the module docstring)."""
    return click.option(
        "--config", type=click.Path(dir_okay=False), envvar=CONFIG_ENV, is_eager=True, expose_value=False,
        callback=_load, metavar="FILE",
        help=f"Settings from this TOML file (or {CONFIG_ENV}); flags, then NEXUS_<COMMAND>_<OPTION> variables, "
             "override it. `nexus config show` prints the result.",
    )(f)


# -- secrets --------------------------------------------------------------------------------


def read_secret_file(path: str, option: str) -> str:
    """The secret in `path` (surrounding whitespace dropped), refused unless only its owner can
    read it (no group or other permission bits)."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise click.UsageError(f"{option} {path}: {e.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise click.UsageError(f"{option} {path}: not a regular file")
    if st.st_mode & GROUP_OTHER_BITS:
        raise click.UsageError(f"{option} {path}: readable by group or others (mode {stat.S_IMODE(st.st_mode):04o}); "
                               f"only its owner may read a secret file: chmod 600 {path}")
    if st.st_size > SECRET_FILE_BYTES_MAX:
        raise click.UsageError(f"{option} {path}: over {SECRET_FILE_BYTES_MAX} bytes, not a secret file")
    with open(path, encoding="utf-8") as fh:
        value = fh.read().strip()
    if not value:
        raise click.UsageError(f"{option} {path}: empty")
    return value


def secret_option(flag: str, env: str, what: str, *, required: bool = True, multiple: bool = False,
                  metavar: str = "VALUE", param: str | None = None):
    """Adds `flag VALUE` and `flag-file FILE` to a command; the command receives one
    parameter (named after `flag`) holding the secret from, in order: the flag, the file flag
    given on the command line, the environment variable `env`, a file named in the config file
    or in `env`_FILE. With `multiple`, a tuple (the file's or variable's content is one item).
    Missing and `required`: a usage error naming every way to give it. `param` renames the
    command's parameter."""
    name = param or flag.lstrip("-").replace("-", "_")
    file_flag, file_name = f"{flag}-file", f"{name}_file"
    missing = (f"missing the {what}: give {file_flag} FILE (owner-only: chmod 600 FILE) or set {env}; "
               f"{flag} {metavar} works too but shows in `ps` to every user of the host")

    def decorate(f):
        @functools.wraps(f)
        def wrapper(*args, **kw):
            ctx = click.get_current_context()
            given, path = kw.pop(name), kw.pop(file_name)
            file_first = ctx.get_parameter_source(file_name) == ParameterSource.COMMANDLINE
            value = given or None
            if value is None and path and file_first:
                value = read_secret_file(path, file_flag)
            if value is None and os.environ.get(env):
                value = os.environ[env]
            if value is None and path:
                value = read_secret_file(path, file_flag)
            if value is None and required:
                raise click.UsageError(missing, ctx)
            kw[name] = ((value,) if isinstance(value, str) else value or ()) if multiple else value
            return f(*args, **kw)

        wrapper = click.option(file_flag, file_name, type=click.Path(dir_okay=False), envvar=f"{env}_FILE", default=None,
                               metavar="FILE", help=f"read the {what} from FILE (owner-only; or {env}_FILE)")(wrapper)
        return click.option(flag, name, cls=SecretOption, env=env, file_param=file_name, multiple=multiple,
                            default=None, metavar=metavar,
                            help=f"the {what} (prefer {env} or {file_flag}: a flag shows in `ps`)")(wrapper)

    return decorate


# -- nexus config show ----------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if value is _UNSET:
        return None
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


SOURCE_NAMES = {ParameterSource.COMMANDLINE: "flag", ParameterSource.ENVIRONMENT: "env",
                ParameterSource.DEFAULT_MAP: "file", ParameterSource.DEFAULT: "default"}


def effective_settings(cmd: click.Command, parts: list[str], config_path: str | None) -> dict[str, dict]:
    """Each option of `cmd` as the command would resolve it with no flags: {name: {"value",
    "source" (env|file|default), "env"}}. Secrets show `MASK` or null and where they come from."""
    default_map = defaults_from(cmd, parts, read_config(config_path), config_path) if config_path else {}
    ctx = click.Context(cmd, info_name=parts[-1], auto_envvar_prefix=env_prefix(parts), default_map=default_map)
    out = {}
    for p in cmd.params:
        if not isinstance(p, click.Option) or p.name in ("config", "help") or p.hidden:
            continue
        if isinstance(p, SecretOption):
            out[p.name] = _secret_setting(ctx, p)
            continue
        raw, source = p.consume_value(ctx, {})
        try:
            value = p.type_cast_value(ctx, raw) if raw is not _UNSET and raw is not None else None
        except click.BadParameter as e:
            raise click.UsageError(f"{p.name}: {e.format_message()}") from None
        env = p.envvar if isinstance(p.envvar, str) else f"{ctx.auto_envvar_prefix}_{p.name.upper()}"
        if value is None and p.multiple:
            value = ()
        out[p.name] = {"value": _plain(value), "source": SOURCE_NAMES.get(source, "default"), "env": env}
    return out


def _secret_setting(ctx: click.Context, p: SecretOption) -> dict:
    """Where the secret would come from (the file's permissions are checked), never its value."""
    file_opt = next(q for q in ctx.command.params if q.name == p.file_param)
    path, file_source = file_opt.consume_value(ctx, {})
    if os.environ.get(p.secret_env):
        source = "env"
    elif path and path is not _UNSET:
        read_secret_file(path, file_opt.opts[0])
        source = "file" if file_source == ParameterSource.DEFAULT_MAP else "env-file"
    else:
        return {"value": None, "source": None, "env": p.secret_env}
    return {"value": MASK, "source": source, "env": p.secret_env}
