"""`nexus aeron`: the record stream between hosts (driver, pub: rings -> channel, sub: channel ->
local rings). Exit statuses: 2 for a channel Aeron rejects (its message) or a bad option,
4 when no media driver can be had at the Aeron directory (named, with the fix), when a ring to
publish does not exist, or when the publisher speaks another record layout version."""

from __future__ import annotations

import json
import os
import signal
import sys
import time

import click

from nexus.cli import EXIT_UPSTREAM, EXIT_USAGE

REPORT_S = 1.0
META_CHECK_S = 0.1  # how often `nexus aeron pub` looks for a changed side file (one stat per ring)


def _file_sig(path: str):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _dir_option(f):
    f = click.option("--external-driver", is_flag=True,
                     help="Never start an embedded media driver: use the one already running at --aeron-dir "
                          "(aeronmd, the Java driver, `nexus aeron driver`); exit 4 if there is none.")(f)
    f = click.option("--aeron-dir", default=None, metavar="DIR",
                     help="Aeron directory of the media driver (default: AERON_DIR, else /dev/shm/aeron-$USER). "
                          "With no driver alive there, Nexus starts an embedded one.")(f)
    return f


def _common(f):
    f = click.option("--json", "as_json", is_flag=True, help="One JSON line per second, then a summary line.")(f)
    f = click.option("--duration", type=click.FloatRange(0.1, None), default=None, help="Stop after this many seconds.")(f)
    f = click.option("--control", default=None, metavar="HOST:PORT",
                     help="Multi-destination: the publisher's control address. The publisher adds "
                          "control=HOST:PORT|control-mode=dynamic to its channel, a subscriber control=HOST:PORT "
                          "(its channel then names its own endpoint).")(f)
    f = click.option("--stream", "stream_id", type=int, default=1001, show_default=True, help="Aeron stream id.")(f)
    f = click.option("--channel", required=True, metavar="CHANNEL",
                     help="Aeron channel: aeron:ipc, aeron:udp?endpoint=HOST:PORT (unicast or a multicast group), "
                          "aeron:udp?control=HOST:PORT|control-mode=dynamic (multi-destination).")(f)
    return f


def with_control(channel: str, control: str | None, publisher: bool) -> str:
    """The channel with the multi-destination control parameters added (`--control`)."""
    if not control:
        return channel
    extra = f"control={control}" + ("|control-mode=dynamic" if publisher else "")
    return f"{channel}{'|' if '?' in channel else '?'}{extra}"


def _fail(code: int, msg: str, as_json: bool):
    if as_json:
        click.echo(json.dumps({"error": msg, "exit": code}))
    click.echo(f"nexus aeron: {msg}", err=True)
    sys.exit(code)


class _Stopper:
    def __init__(self, duration: float | None):
        self.stop = False
        self.end = None if duration is None else time.monotonic() + duration
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, self._on)

    def _on(self, *_):
        self.stop = True

    def done(self) -> bool:
        return self.stop or (self.end is not None and time.monotonic() >= self.end)


def _run_loop(obj, pump, stopper, as_json: bool, kind: str, extra=None) -> dict:
    from nexus.aeron import Idle

    idle = Idle()
    next_report = time.monotonic() + REPORT_S
    while not stopper.done():
        idle(pump())
        if extra is not None:
            extra()
        now = time.monotonic()
        if now >= next_report:
            next_report = now + REPORT_S
            st = obj.stats()
            if as_json:
                click.echo(json.dumps({"type": kind, **st}), nl=True)
                sys.stdout.flush()
    return obj.stats()


def _wait_for_rings(names, timeout_s: float) -> None:
    from nexus.exceptions import RingNotFound
    from nexus.ring import RingReader

    end = time.monotonic() + timeout_s
    for n in names:
        while True:
            try:
                RingReader(n).close()
                break
            except RingNotFound:
                if time.monotonic() >= end:
                    return  # the publisher's own attach then names the missing ring (exit 4)
                time.sleep(0.05)


@click.group()
def aeron() -> None:
    """Scale-out over Aeron: carry rings between hosts (pub on the feed host, sub on the far
    host, which re-publishes onto local rings every reader uses unchanged)."""


@aeron.command("driver")
@click.option("--aeron-dir", default=None, metavar="DIR", help="Aeron directory (default: AERON_DIR, else /dev/shm/aeron-$USER).")
@click.option("--spin", is_flag=True, help="Busy-spin idle strategy (lowest latency; pins a core).")
@click.option("--duration", type=click.FloatRange(0.1, None), default=None, help="Stop after this many seconds.")
def aeron_driver(aeron_dir, spin, duration) -> None:
    """Run an Aeron C media driver (embedded in this process) until Ctrl-C."""
    from nexus.aeron import AeronDriver, aeron_default_dir, aeron_driver_active
    from nexus.exceptions import AeronDriverError, ConfigError

    aeron_dir = aeron_dir or aeron_default_dir()
    if aeron_driver_active(aeron_dir):
        _fail(EXIT_USAGE, f"a media driver is already running at {aeron_dir!r}", False)
    try:
        drv = AeronDriver(aeron_dir, spin)
    except (AeronDriverError, ConfigError) as e:
        _fail(EXIT_UPSTREAM, str(e), False)
    click.echo(f"media driver running at {aeron_dir}", err=True)
    stopper = _Stopper(duration)
    while not stopper.done():
        time.sleep(0.05)
    drv.close()


@aeron.command("pub")
@click.option("--ring", "rings", multiple=True, required=True, metavar="NAME",
              help="A ring to publish (repeat for several; at most 255).")
@click.option("--snapshot-every", type=click.FloatRange(0.01, 3600), default=1.0, show_default=True,
              help="Seconds between book snapshots (also sent when a subscriber connects).")
@click.option("--wait-rings", type=click.FloatRange(0, 600), default=0.0, show_default=True,
              help="Wait up to this many seconds for the rings to appear (their writer starting); else exit 4 at once.")
@_common
@_dir_option
def aeron_pub(rings, snapshot_every, wait_rings, channel, control, stream_id, duration, as_json, aeron_dir, external_driver) -> None:
    """Publish rings on an Aeron channel. The publisher is one more reader of the rings: the
    feed handlers never wait on it. Back pressure and 'not connected' are counted."""
    from nexus.aeron import AeronPublisher, aeron_default_dir, ensure_driver, rings_with_meta
    from nexus.ring_meta import meta_path
    from nexus.exceptions import AeronChannelError, AeronDriverError, AeronError, ConfigError, RingError

    aeron_dir = aeron_dir or aeron_default_dir()
    channel = with_control(channel, control, publisher=True)
    if wait_rings:
        _wait_for_rings(rings, wait_rings)
    drv = None
    try:
        drv = ensure_driver(aeron_dir, external_driver)
        # each side file's signature before its bytes: a file (re)written after this read is seen
        # as changed by refresh_meta below, never missed
        paths = [meta_path(r) for r in rings]
        seen = [_file_sig(p) for p in paths]
        with_meta = rings_with_meta(list(rings))
        metas = [m for _, m in with_meta]
        pub = AeronPublisher(aeron_dir, channel, stream_id, with_meta, snapshot_every)
    except AeronChannelError as e:
        _fail(EXIT_USAGE, str(e), as_json)
    except ConfigError as e:
        _fail(EXIT_USAGE, str(e), as_json)
    except (AeronDriverError, RingError) as e:
        _fail(EXIT_UPSTREAM, str(e), as_json)
    stopper = _Stopper(duration)
    next_meta = [time.monotonic() + META_CHECK_S]

    def refresh_meta():
        # A ring's writer may write (or rewrite) its side file after we attached (a `nexus run`
        # once its venue listing is in): re-announce it soon, the far host waits for it.
        if time.monotonic() < next_meta[0]:
            return
        next_meta[0] = time.monotonic() + META_CHECK_S
        for i, p in enumerate(paths):
            sig = _file_sig(p)
            if sig == seen[i]:
                continue
            seen[i] = sig
            m = rings_with_meta([rings[i]])[0][1]
            if m != metas[i]:
                metas[i] = m
                pub.set_meta(i, m)

    try:
        st = _run_loop(pub, pub.pump, stopper, as_json, "aeron-pub", extra=refresh_meta)
    except AeronError as e:
        _fail(EXIT_UPSTREAM, str(e), as_json)
    pub.close()
    if drv is not None:
        drv.close()
    if as_json:
        click.echo(json.dumps({"type": "aeron-pub-summary", **st}))
    else:
        click.echo(f"published {st['records']} records in {st['messages']} messages on {channel} stream {stream_id}; "
                   f"back-pressured {st['back_pressured']}, not connected {st['not_connected']}, "
                   f"snapshots {st['snapshots']}, lost {st['lost']}, restarts {st['restarts']}")


@aeron.command("sub")
@click.option("--prefix", default="", show_default=True, metavar="P",
              help="Local ring name = P + the publisher's ring name (a prefix keeps them apart on one host).")
@click.option("--slots", type=int, default=1 << 16, show_default=True, help="Slots of each local ring (power of two).")
@_common
@_dir_option
def aeron_sub(prefix, slots, channel, control, stream_id, duration, as_json, aeron_dir, external_driver) -> None:
    """Subscribe to an Aeron channel and re-publish each announced ring onto a local ring (with
    its side file), from its first book snapshot on. Reports lost (records the publisher's ring
    reader missed) and restarts (publisher restarts, seen by local readers as writer restarts)."""
    from nexus.aeron import AeronSubscriber, aeron_default_dir, ensure_driver, remove_meta_of, write_announced_meta
    from nexus.exceptions import AeronChannelError, AeronDriverError, AeronError, AeronLayoutError, ConfigError, RingError

    aeron_dir = aeron_dir or aeron_default_dir()
    channel = with_control(channel, control, publisher=False)
    drv = None
    try:
        drv = ensure_driver(aeron_dir, external_driver)
        sub = AeronSubscriber(aeron_dir, channel, stream_id, prefix, slots)
    except (AeronChannelError, ConfigError) as e:
        _fail(EXIT_USAGE, str(e), as_json)
    except (AeronDriverError, RingError) as e:
        _fail(EXIT_UPSTREAM, str(e), as_json)
    stopper = _Stopper(duration)
    made: list[str] = []
    try:
        st = _run_loop(sub, sub.pump, stopper, as_json, "aeron-sub", extra=lambda: made.extend(write_announced_meta(sub)))
    except AeronLayoutError as e:
        sub.close()
        _fail(EXIT_UPSTREAM, str(e), as_json)
    except (AeronError, RingError) as e:
        sub.close()
        _fail(EXIT_UPSTREAM, str(e), as_json)
    sub.close()
    remove_meta_of(made)
    if drv is not None:
        drv.close()
    if as_json:
        click.echo(json.dumps({"type": "aeron-sub-summary", **st}))
    else:
        click.echo(f"received {st['records']} records in {st['messages']} messages on {channel} stream {stream_id} "
                   f"onto {', '.join(st['rings']) or 'no ring'}; snapshots {st['snapshots']}, lost {st['lost']}, "
                   f"restarts {st['restarts']}, before first snapshot {st['before_snapshot']}")
