"""The live terminal view of `nexus run`: the runtime's loop runs as it does headless; the view
redraws VIEW_REFRESH_HZ times a second (and at once after a key) from the state the runtime
keeps, so the hot loop does no work for the screen. On a terminal the view takes the whole
screen (rich's alternate screen, left on exit) and reads keys (nexus/view/keys.py)."""

from __future__ import annotations

import asyncio

from rich.console import Console
from rich.live import Live

from nexus.feeds.runtime import RunConfig, Runtime
from nexus.view.keys import KeyReader, handle_key
from nexus.view.layout import View
from nexus.view.model import ModelBuilder

VIEW_REFRESH_HZ = 4


async def run_view(cfg: RunConfig, depth: int, ever_live: set, view_venue: str | None = None,
                   console: Console | None = None) -> dict:
    """Run `cfg` under the view; returns the runtime's summary. `ever_live` gathers the venues
    seen LIVE; `view_venue` is the book shown first (a venue, or "agg" with --agg)."""
    console = console or Console()
    builder = ModelBuilder(cfg.venues, cfg.symbol, cfg.agg, depth, view_venue)
    live = Live(console=console, auto_refresh=False, screen=console.is_terminal, redirect_stderr=False)

    def redraw() -> None:
        live.update(View(builder.build(rt), depth), refresh=True)

    def on_second(line, rt_) -> None:
        builder.on_second(line, rt_)
        ever_live.update(v for v, s in line["venues"].items() if s.get("state") == "LIVE")
        redraw()

    def on_key(key: str) -> None:
        if handle_key(key, builder, rt.stop_event.set if rt.stop_event is not None else lambda: None):
            redraw()

    async def redraws() -> None:
        while True:
            await asyncio.sleep(1 / VIEW_REFRESH_HZ)
            if builder.line is not None:
                redraw()

    rt = Runtime(cfg, on_second)
    with live, KeyReader(on_key) as keys:
        builder.keys = keys.active
        task = asyncio.create_task(redraws())
        try:
            summary = await rt.run()
        finally:
            task.cancel()
    if not console.is_terminal:
        console.line()  # the last frame, printed once at the end off a terminal, ends its line
    return summary
