"""The EXECUTE panel of `nexus trade` on a terminal (seed 000, "Sending orders safely" and
"Auto-trader modules"): drawn with rich from the auto-trader's status line (one a second,
AutoTrader.status() plus the session's venue, symbol, mode and feed state).

Top to bottom:
- the title: venue, symbol, mode (sim / paper / live), feed state, seconds run;
- the trading state (ACTIVE green, REDUCING yellow, HALTED red), AUTO ON / off, the SMART and
  REVERSE badges, and the red LIMIT HIT badge while the latch is set;
- the day's PnL against the caps (loss cap below zero, profit cap above), and the fees paid
  (the caps are on the trading PnL before fees, as issue 15 defines them);
- the loss streak and the next SMART size (the base without SMART);
- the open positions with the signal that opened each, entry, TP and SL;
- the last orders sent (UTC time, trade, role, type, side, qty, price);
- the last refusals with the gate's reason code and its text.

Nothing is cut: a line longer than the width wraps (rich), no figure is truncated.
"""

from __future__ import annotations

import time

from rich.console import Group
from rich.text import Text

STATE_STYLE = {"ACTIVE": "bold green", "REDUCING": "bold yellow", "HALTED": "bold red"}
ROWS_KEPT = 5            # last orders / refusals shown


def _hms(ts_ns: int | None) -> str:
    if not ts_ns:
        return "--:--:--"
    return time.strftime("%H:%M:%S", time.gmtime(ts_ns // 1_000_000_000))


def _section(title: str) -> Text:
    return Text(title, style="bold underline")


def render(line: dict) -> Group:
    """The panel for one status line (the dict `nexus trade --json` prints each second)."""
    out: list[Text] = []
    title = Text("EXECUTE", style="bold reverse")
    title.append(f"  {line.get('venue', '?')} {line.get('symbol', '?')}  {line.get('mode', '')}"
                 f"  feed {line.get('feed') or '-'}  t={line.get('t_s', 0)}s")
    out.append(title)

    state = Text("state ")
    st = line.get("state", "?")
    state.append(st, style=STATE_STYLE.get(st, "bold"))
    state.append("   AUTO ")
    state.append("ON" if line.get("auto") else "off", style="bold green" if line.get("auto") else "dim")
    if line.get("smart"):
        state.append("  ")
        state.append("[SMART]", style="bold cyan")
    if line.get("reverse"):
        state.append("  ")
        state.append("[REVERSE]", style="bold magenta")
    if line.get("limit_hit"):
        state.append("  ")
        state.append(" LIMIT HIT ", style="bold white on red")
    out.append(state)

    caps = line.get("caps") or {}
    pnl = Text("day PnL ")
    day = line.get("day_pnl", "0")
    pnl.append(str(day), style="red" if str(day).startswith("-") else "green")
    loss, profit = caps.get("daily_loss"), caps.get("daily_profit")
    pnl.append(f"   loss cap -{loss}" if loss is not None else "   loss cap none")
    pnl.append(f"   profit cap +{profit}" if profit is not None else "   profit cap none")
    pnl.append(f"   fees {line.get('fees', '0')}")
    out.append(pnl)

    out.append(Text(f"loss streak {line.get('loss_streak', 0)}   next size {line.get('next_qty') or '-'}"
                    f"{' (SMART)' if line.get('smart') else ''}   signals {line.get('signals', {}).get('seen', 0)}"
                    f"   sent {line.get('orders', {}).get('sent', 0)}   fills {line.get('fills', 0)}"
                    f"   closed {line.get('trades_closed', 0)}"))

    out.append(_section("open positions"))
    opened = line.get("open") or []
    if not opened:
        out.append(Text("  none", style="dim"))
    for p in opened:
        out.append(Text(f"  #{p['trade']} {p['signal']} {p['side']} {p['qty']} @ {p['entry']}"
                        f"  TP {p['tp'] or '-'}  SL {p['sl'] or '-'}  PnL {p['pnl']}"))

    out.append(_section("last orders"))
    orders = (line.get("last_orders") or [])[-ROWS_KEPT:]
    if not orders:
        out.append(Text("  none", style="dim"))
    for o in reversed(orders):
        px = f" @ {o['price']}" if o.get("price") else ""
        out.append(Text(f"  {_hms(o.get('ts_ns'))} #{o['trade']} {o['role']} {o['type']} {o['side']} {o['qty']}{px}"))

    out.append(_section("last refusals"))
    refusals = (line.get("last_refusals") or [])[-ROWS_KEPT:]
    if not refusals:
        out.append(Text("  none", style="dim"))
    for r in reversed(refusals):
        t = Text(f"  {_hms(r.get('ts_ns'))} #{r['trade']} {r['role']} {r['side']} {r['qty']}  ")
        t.append(r["code"], style="bold red")
        t.append(f": {r['reason']}")
        out.append(t)
    return Group(*out)


class PanelEmitter:
    """`nexus trade` on a terminal: each status line redraws the panel in place (rich Live);
    the summary line stops the panel and is handed to `on_summary` (printed below the last
    frame, which stays on screen)."""

    def __init__(self, on_summary, console=None) -> None:
        from rich.console import Console

        self.console = console or Console()
        self.on_summary = on_summary
        self.live = None

    def __call__(self, line: dict) -> None:
        if "summary" in line:
            self.close()
            self.on_summary(line)
            return
        if "confirm_caps" in line:
            return
        if self.live is None:
            from rich.live import Live

            self.live = Live(console=self.console, auto_refresh=False, redirect_stderr=False)
            self.live.start()
        self.live.update(render(line), refresh=True)

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
