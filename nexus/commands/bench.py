import json

import click


def _measure(run, as_json: bool, **kw) -> dict | None:
    """Run a benchmark: progress on stderr in text mode; with --json its one object is printed
    here and None returned (the caller prints nothing more)."""
    res = run(progress=None if as_json else (lambda m: click.echo(f"… {m}", err=True)), **kw)
    if as_json:
        click.echo(json.dumps(res))
        return None
    return res


@click.group()
def bench() -> None:
    """Benchmarks, each against its named baseline in the same run."""


def echo_targets(res: dict) -> None:
    for k, t in res["targets"].items():
        verdict = "not measured" if t["met"] is None else "met" if t["met"] else "MISSED"
        click.echo(f"target {k} {t['target']}: {verdict}")


def echo_baseline_missing(res: dict) -> bool:
    """Say so when the pure-Python baseline could not be loaded; True if it was."""
    if not res["python_baseline"]["available"]:
        click.echo(res["python_baseline"]["error"])
    return res["python_baseline"]["available"]


@bench.command("ring")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every figure.")
@click.option("--quick", is_flag=True, help="Smaller counts (for smoke tests; noisier figures).")
def bench_ring(as_json: bool, quick: bool) -> None:
    """Shared-memory ring vs multiprocessing.Queue and os.pipe: throughput and latency."""
    from nexus.bench import ring as ring_bench

    res = _measure(ring_bench.run, as_json, quick=quick)
    if res is None:
        return
    click.echo(f"batch publish+consume (1 process): {res['throughput_records_per_s'] / 1e6:8.1f} M records/s")
    click.echo(f"multiprocessing.Queue, 1 rec/put:  {res['mp_queue_throughput_records_per_s'] / 1e6:8.3f} M records/s  (ring is {res['ratio_vs_mp_queue']:.0f}x)")
    click.echo(f"multiprocessing.Queue, batched:    {res['mp_queue_batched_throughput_records_per_s'] / 1e6:8.1f} M records/s  (ring is {res['ratio_vs_mp_queue_batched']:.1f}x)")
    click.echo(f"os.pipe, batched:                  {res['pipe_throughput_records_per_s'] / 1e6:8.1f} M records/s  (ring is {res['ratio_vs_pipe']:.1f}x)")
    click.echo(
        f"cross-process latency, native loops: p50 {res['latency_ns_p50']} ns  p99 {res['latency_ns_p99']} ns  "
        f"p99.9 {res['latency_ns_p999']} ns  ({res['latency_ns_samples']} samples)"
    )
    click.echo(
        f"cross-process latency, Python API:   p50 {res['latency_py_ns_p50']} ns  p99 {res['latency_py_ns_p99']} ns  "
        f"p99.9 {res['latency_py_ns_p999']} ns"
    )
    echo_targets(res)


@bench.command("book")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every figure.")
@click.option("--messages", type=click.IntRange(100, 10_000_000), default=20_000, show_default=True, help="10+10-level delta messages.")
def bench_book(as_json: bool, messages: int) -> None:
    """Native L2 book vs a pure-Python sorted-dict book and NautilusTrader's OrderBook."""
    from nexus.bench import book as book_bench

    res = _measure(book_bench.run, as_json, messages=messages)
    if res is None:
        return
    click.echo(f"native: {res['native_ns_per_level_update']:.1f} ns/level update (10-level deltas), "
               f"{res['native_ns_per_level_snapshot']:.1f} ns/level (snapshot rebuild)")
    click.echo(f"native via Python API, one apply per message: {res['native_msgs_per_s'] / 1e3:,.0f} k msgs/s "
               f"({res['native_us_per_msg_python_api']:.2f} µs/msg)")
    click.echo(f"pure-Python sorted-dict book: {res['python_msgs_per_s'] / 1e3:,.0f} k msgs/s "
               f"(native is {res['ratio_native_vs_python']:.1f}x)")
    nt = res["nautilus"]
    if nt["available"]:
        click.echo(f"NautilusTrader {nt['version']} OrderBook: {nt['msgs_per_s'] / 1e3:,.0f} k msgs/s "
                   f"(native is {res['ratio_native_vs_nautilus']:.1f}x)")
    else:
        click.echo(f"NautilusTrader: not measured ({nt['error']}); install with `.venv/bin/pip install nautilus_trader`")
    n3 = res.get("nautilus_pyo3", {})
    if n3.get("available"):
        click.echo(f"NautilusTrader pyo3 OrderBook: {n3['msgs_per_s'] / 1e3:,.0f} k msgs/s "
                   f"(native is {res['ratio_native_vs_nautilus_pyo3']:.1f}x)")
    echo_targets(res)


@bench.command("flow")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every figure.")
@click.option("--records", type=click.IntRange(10_000, 50_000_000), default=2_000_000, show_default=True,
              help="Records in the stream the compiled engine runs.")
@click.option("--python-records", type=click.IntRange(1_000, 5_000_000), default=200_000, show_default=True,
              help="Records of its prefix the pure-Python engine runs (and both are checked on).")
def bench_flow(as_json: bool, records: int, python_records: int) -> None:
    """Flow engine (every metric and detector on) vs the same logic in pure Python."""
    from nexus.bench import flow as flow_bench

    res = _measure(flow_bench.run, as_json, records=records, python_records=python_records)
    if res is None:
        return
    click.echo(f"compiled engine, all metrics + detectors: {res['engine_ns_per_record']:.1f} ns/record CPU "
               f"({res['engine_wall_ns_per_record']:.1f} wall), {res['engine_records_per_s'] / 1e6:.2f} M records/s "
               f"on one core ({res['records']:,} records)")
    click.echo(f"  metrics only: {res['engine_metrics_only_ns_per_record']:.1f} ns/record; "
               f"in 4096-record batches: {res['engine_ns_per_record_4096_chunks']:.1f} ns/record")
    if echo_baseline_missing(res):
        click.echo(f"pure Python, same logic: {res['python_ns_per_record']:.0f} ns/record, "
                   f"{res['python_records_per_s'] / 1e3:,.0f} k records/s ({res['python_records']:,} records)")
        click.echo(f"compiled / Python: {res['ratio_engine_vs_python']:.0f}x; outputs identical: {res['outputs_identical']}")
    echo_targets(res)


# The benchmark's former name, kept for the users and scripts that call it (same output).
bench.add_command(click.Command("engine", params=bench_flow.params, callback=bench_flow.callback, hidden=True,
                                help="Former name of `nexus bench flow`."))


@bench.command("agg")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every figure.")
@click.option("--messages", type=click.IntRange(100, 10_000_000), default=10_000, show_default=True)
def bench_agg(as_json: bool, messages: int) -> None:
    """Consensus book update cost per venue level update vs a pure-Python merge."""
    from nexus.bench import agg as agg_bench

    res = _measure(agg_bench.run, as_json, messages=messages)
    if res is None:
        return
    click.echo(f"native consensus: {res['native_ns_per_venue_level_update']:.1f} ns per venue level update "
               f"(one apply + touch read per message; {res['native_apply_only_ns_per_venue_level_update']:.1f} ns "
               f"apply only; {res['native_ns_per_venue_level_update_bulk']:.1f} ns in bulk)")
    if echo_baseline_missing(res):
        click.echo(f"pure-Python merge, same job (sorted levels, touch read per message): "
                   f"{res['python_ns_per_venue_level_update']:.1f} ns (native is {res['ratio_native_vs_python']:.1f}x)")
        click.echo(f"former pure-Python baseline, unsorted dict sorted once at the end: "
                   f"{res['python_unsorted_dict_ns_per_venue_level_update']:.1f} ns "
                   f"(native apply-only is {res['ratio_native_apply_only_vs_python_unsorted_dict']:.1f}x)")
        click.echo(f"pure-Python re-merge per message (top 25): {res['python_remerge_ns_per_venue_level_update']:.0f} ns "
                   f"(native is {res['ratio_native_vs_python_remerge']:.0f}x)")
    if "agg_replay_msgs_per_s" in res:
        click.echo(f"five-venue recorded session through decoders, sync and consensus: "
                   f"{res['agg_replay_msgs_per_s']:,.0f} msgs/s ({res['agg_replay_msgs']:,} msgs)")
    if "agg_replay_python_merge_msgs_per_s" in res:
        click.echo(f"  with the pure-Python merge {res['agg_replay_python_merge_msgs_per_s']:,.0f} msgs/s "
                   f"({res['agg_replay_ratio_native_vs_python_merge']:.2f}x; decoding dominates both)")
    echo_targets(res)


@bench.command("feeds")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every figure.")
@click.option("--quick", is_flag=True, help="Short runs (smoke test; noisier figures).")
@click.option("--minutes", type=click.FloatRange(1, 120), default=10.0, show_default=True,
              help="Simulated minutes of traffic for the memory figure.")
@click.option("--speed", type=click.FloatRange(1, 100), default=10.0, show_default=True,
              help="Simulator speed for the memory run (simulated seconds per second).")
@click.option("--decode-only", is_flag=True, help="Only the per-venue decode cost (fast).")
@click.option("--latency-only", is_flag=True, help="Only the one-venue wire-to-book latency and its breakdown.")
@click.option("--latency-venue", default="binance-perp", show_default=True,
              help="The venue of the one-venue wire-to-book latency.")
@click.option("--latency-seconds", type=click.FloatRange(1, 600), default=None,
              help="Seconds of traffic per latency round (default 10; --quick 4).")
@click.option("--latency-rounds", type=click.IntRange(1, 50), default=None,
              help="Latency rounds, each against a fresh simulator; medians reported (default 3; --quick 1).")
@click.option("--latency-speed", type=click.FloatRange(1, 100), default=1.0, show_default=True,
              help="Above 1: also measure the one-venue latency with the simulator this many times faster "
                   "(the handler then stays hot in the caches; the target is at 1).")
@click.option("--pin-cpu", "pin_cpu", default=None, metavar="N",
              help="Also measure the one-venue latency pinned to CPU N (the simulator kept off it). "
                   "Cost in production: that core should be kept free of other work.")
@click.option("--busy-poll", is_flag=True,
              help="Also measure the one-venue latency with the loop spinning instead of sleeping. Cost in "
                   "production: one core at 100 % all the time.")
@click.option("--busy-poll-socket", "busy_poll_socket_us", type=click.IntRange(0, 1_000_000), default=0,
              metavar="US", help="With the tuned run, SO_BUSY_POLL US µs on the socket (reported applied or refused).")
@click.option("--keep-warm", is_flag=True,
              help="Also measure the one-venue latency (the tuned run, with --pin-cpu/--busy-poll when given) with "
                   "the feed re-decoding its last trade frame and last book diff every 100 µs of idle loop (nothing "
                   "published; see `nexus run --keep-warm`). Cost in production: ~4 µs of CPU per venue per "
                   "100 µs, ~4 % of a core with --busy-poll, ~0.4 % without.")
def bench_feeds(as_json: bool, quick: bool, minutes: float, speed: float, decode_only: bool, latency_only: bool,
                latency_venue: str, latency_seconds: float | None, latency_rounds: int | None, latency_speed: float,
                pin_cpu: str | None,
                busy_poll: bool, busy_poll_socket_us: int, keep_warm: bool) -> None:
    """Per-venue decode cost, replay throughput of a five-venue session, live wire-to-book
    latency (five venues; one venue broken down per stage: receive, decode, sync, ring publish,
    reader poll, book apply), memory growth."""
    from nexus.bench import feeds as feeds_bench
    from nexus.commands.run import parse_pin_cpu

    if latency_venue not in feeds_bench.registry_simulated():
        raise click.BadParameter(f"{latency_venue!r} is not a venue the simulator serves", param_hint="--latency-venue")
    cpus = parse_pin_cpu(pin_cpu)
    res = _measure(feeds_bench.run, as_json, quick=quick, minutes=minutes, speed=speed, decode_only=decode_only,
                   latency_only=latency_only, latency_venue=latency_venue, latency_seconds=latency_seconds,
                   latency_rounds=latency_rounds, pin_cpu=cpus[:1], busy_poll=busy_poll,
                   busy_poll_socket_us=busy_poll_socket_us, latency_speed=latency_speed, keep_warm=keep_warm)
    if res is None:
        return
    if not decode_only:
        _echo_latency(res)
    if latency_only:
        return
    for v, d in res["decode"].items():
        if "error" in d:
            click.echo(f"decode {v}: not measured ({d['error']})")
        else:
            click.echo(f"decode {v}: {d['ns_per_msg'] / 1e3:.1f} µs/msg, {d['msgs_per_s']:,.0f} msgs/s "
                       f"({d['msgs']:,} msgs, {d['records_per_msg']:.1f} records/msg)")
    if decode_only:
        return
    click.echo(f"replay (decode+sync+book+ring+reader): {res['replay_msgs_per_s']:,.0f} msgs/s "
               f"({res['replay_us_per_msg']:.1f} µs/msg, {res['replay_msgs']:,} msgs)")
    click.echo(f"live wire-to-book latency, five venues: p50 {res['wire_to_book_ns_p50'] / 1e3:.0f} µs  "
               f"p99 {res['wire_to_book_ns_p99'] / 1e3:.0f} µs  p99.9 {res['wire_to_book_ns_p999'] / 1e3:.0f} µs "
               f"({res['wire_to_book_samples']:,} samples)")
    click.echo(f"RSS after 1 simulated minute {res['rss_first_minute_bytes'] / 2**20:.1f} MiB, after "
               f"{res['rss_simulated_minutes']:g}: {res['rss_end_bytes'] / 2**20:.1f} MiB "
               f"(growth {res['rss_growth_bytes'] / 2**20:+.1f} MiB; "
               f"private heap over the second half {res['rss_anon_growth_second_half_bytes'] / 2**20:+.2f} MiB)")
    click.echo(f"  of which private (heap): {res['rss_anon_first_minute_bytes'] / 2**20:.1f} -> "
               f"{res['rss_anon_end_bytes'] / 2**20:.1f} MiB (growth {res['rss_anon_growth_bytes'] / 2**20:+.1f} MiB); "
               f"ring shared memory {res['rss_shmem_end_bytes'] / 2**20:.1f} MiB "
               f"(bounded by {res['rss_shmem_bound_bytes'] / 2**20:.1f} MiB)")
    for k, t in res.get("targets", {}).items():
        click.echo(f"bound {k} <= {t['target'] / 2**20:.1f} MiB: {'met' if t['met'] else 'EXCEEDED'}")


def _echo_latency(res: dict) -> None:
    from nexus.feeds.stages import STAGES

    for key, label in (("wire_to_book_one_venue", "plain"), ("wire_to_book_one_venue_fast", "fast"),
                       ("wire_to_book_one_venue_tuned", "tuned")):
        r = res.get(key)
        if r is None:
            continue
        opts = (f" pin-cpu {','.join(map(str, r['pin_cpu']))}" if r["pin_cpu"] else "") + (" busy-poll" if r["busy_poll"] else "")
        opts += " keep-warm" if r.get("keep_warm") else ""
        opts += f" simulator at {r['sim_speed']:g}x" if r["sim_speed"] != 1 else ""
        click.echo(f"wire-to-book {r['venues'][0]} ({label}{opts}): p50 {r['p50_ns'] / 1e3:.1f} µs  "
                   f"p99 {r['p99_ns'] / 1e3:.1f} µs (median of {len(r['rounds'])} rounds)")
        bd = r["breakdown"]
        for s in STAGES:
            if s in bd:
                click.echo(f"  {s:<13} p50 {bd[s]['p50_ns'] / 1e3:7.1f} µs  p99 {bd[s]['p99_ns'] / 1e3:7.1f} µs")
        if "so_busy_poll" in r:
            click.echo(f"  SO_BUSY_POLL {r['so_busy_poll_us']} µs: {r['so_busy_poll']}")
    for k, t in res.get("latency_targets", {}).items():
        click.echo(f"target {k} <= {t['target'] / 1e3:.0f} µs: {'met' if t['met'] else 'MISSED'} "
                   f"({t['measured'] / 1e3:.1f} µs)")


@bench.command("broker")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every figure.")
@click.option("--quick", is_flag=True, help="Smaller counts (for smoke tests; noisier figures).")
def bench_broker(as_json: bool, quick: bool) -> None:
    """Broker: full Buy flows/s on SQLite and PostgreSQL, and callback deliveries/s."""
    from nexus.bench import broker as broker_bench

    res = _measure(broker_bench.run, as_json, quick=quick)
    if res is None:
        return
    f, cb = res["buy_flows"], res["callback_deliveries"]
    click.echo(f"{'':28}{'SQLite':>14}{'PostgreSQL':>14}")
    click.echo(f"{'full Buy flows/s':28}{f['sqlite']['buy_flows_per_s']:>14}{f['postgresql']['buy_flows_per_s']:>14}")
    click.echo(f"{'Buy flow latency p50 (ms)':28}{f['sqlite']['flow_latency_ms_p50']:>14}{f['postgresql']['flow_latency_ms_p50']:>14}")
    click.echo(f"{'callback deliveries/s':28}{cb['sqlite']['deliveries_per_s']:>14}{cb['postgresql']['deliveries_per_s']:>14}")
    ok = all(x["correct"] for part in (f, cb) for x in part.values())
    click.echo(f"results checked (chain balances, audit, signatures): {'ok' if ok else 'FAILED'}")
    click.echo(res["note"])


@bench.command("risk")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every figure.")
@click.option("--orders", type=click.IntRange(10_000, 50_000_000), default=2_000_000, show_default=True,
              help="Orders in the stream the compiled gate checks (one batch).")
@click.option("--python-orders", type=click.IntRange(1_000, 5_000_000), default=200_000, show_default=True,
              help="Orders of its prefix the pure-Python gate checks (and both are compared on).")
@click.option("--iterations", type=click.IntRange(100, 10_000_000), default=20_000, show_default=True,
              help="Signals timed through ring -> gate -> stub adapter.")
def bench_risk(as_json: bool, orders: int, python_orders: int, iterations: int) -> None:
    """Risk gate checks/s vs the same gate in pure Python; signal -> order latency via a ring."""
    from nexus.bench import risk as risk_bench

    res = _measure(risk_bench.run, as_json, orders=orders, python_orders=python_orders, iterations=iterations)
    if res is None:
        return
    click.echo(f"compiled gate (batch, nogil): {res['gate_checks_per_s'] / 1e6:.1f} M checks/s "
               f"({res['gate_ns_per_check']:.1f} ns/check, {res['accepted_share']:.0%} accepted, codes {', '.join(res['codes_seen'])})")
    if "ratio_gate_vs_python" in res:
        click.echo(f"pure-Python gate, same logic: {res['python_checks_per_s'] / 1e3:,.0f} k checks/s "
                   f"(compiled is {res['ratio_gate_vs_python']:.0f}x; codes identical: {res['codes_identical']})")
    else:
        click.echo(res["python_baseline"])
    click.echo(f"signal -> ring -> gate -> adapter: p50 {res['signal_to_order_ns_p50'] / 1e3:.1f} us  "
               f"p99 {res['signal_to_order_ns_p99'] / 1e3:.1f} us  ({res['signal_to_order_samples']:,} signals)")
    click.echo(f"signal -> ring -> AutoTrader -> Gate -> adapter: p50 {res['auto_signal_to_order_ns_p50'] / 1e3:.1f} us  "
               f"p99 {res['auto_signal_to_order_ns_p99'] / 1e3:.1f} us  ({res['auto_signal_to_order_orders_sent']:,} orders)")
    for k, t in res["targets"].items():
        click.echo(f"target {k} {t['target']}: {'met' if t['met'] else 'MISSED'}")


@bench.command("exec")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every figure.")
@click.option("--iterations", type=click.IntRange(100, 10_000_000), default=20_000, show_default=True,
              help="Orders built and signed per venue (ccxt: a quarter of these).")
def bench_exec(as_json: bool, iterations: int) -> None:
    """Order decision to signed request bytes per venue, side by side with ccxt's offline sign()."""
    from nexus.bench import exec as exec_bench

    res = exec_bench.run(iterations, max(100, iterations // 4))
    if as_json:
        click.echo(json.dumps(res))
        return
    for venue, r in res["venues"].items():
        line = f"{venue}: nexus p50 {r['nexus_ns_p50'] / 1000:.1f} µs p99 {r['nexus_ns_p99'] / 1000:.1f} µs"
        if "ccxt_ns_p50" in r:
            line += (f"; ccxt p50 {r['ccxt_ns_p50'] / 1000:.1f} µs p99 {r['ccxt_ns_p99'] / 1000:.1f} µs "
                     f"({r['ratio_p50']}x at p50)")
        click.echo(line)
        for k, t in r["targets"].items():
            click.echo(f"  target {k}: {t['value']} {'met' if t['met'] else 'MISSED'}")
    if not res["ccxt"]["available"]:
        click.echo(f"ccxt: not measured ({res['ccxt']['error']})")
    click.echo(f"results checked (signatures): {'ok' if res['ok'] else 'FAILED'}")
    click.echo(res["note"])


@bench.command("peers")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every figure.")
@click.option("--quick", is_flag=True, help="Short streams and 2 rounds (smoke test; noisier figures).")
@click.option("--rounds", type=click.IntRange(1, 50), default=None, help="Rounds per measurement (default 5; --quick 2).")
@click.option("--messages", type=click.IntRange(100, 10_000_000), default=None,
              help="Book stream messages (default 20000; --quick 2000).")
@click.option("--seconds", type=click.FloatRange(1, 600), default=None,
              help="Simulated seconds of each venue's frames (default 30; --quick 5).")
@click.option("--venue", "venues", multiple=True, help="Decode only these venues (repeatable).")
@click.option("--book-only", is_flag=True, help="Only the book maintenance comparison.")
@click.option("--decode-only", is_flag=True, help="Only the venue decoding comparison.")
def bench_peers(as_json: bool, quick: bool, rounds: int | None, messages: int | None, seconds: float | None,
                venues: tuple[str, ...], book_only: bool, decode_only: bool) -> None:
    """Nexus side by side with NautilusTrader, hftbacktest, cryptofeed and ccxt in one run, on the
    same input, each peer's output checked equal to Nexus's before it is timed."""
    from nexus.bench import peers as peers_bench

    if book_only and decode_only:
        raise click.UsageError("--book-only and --decode-only exclude each other")
    res = _measure(peers_bench.run, as_json, quick=quick, rounds=rounds, messages=messages, seconds=seconds,
                   venues=list(venues) or None, book=not decode_only, decode=not book_only)
    if res is None:
        return

    def peer_line(r: dict, unit: str) -> str:
        name = r["peer"] + (f" {r['version']}" if r.get("version") else "")
        if not r.get("available"):
            why = r["error"] + (f" ({r['first_difference']})" if r.get("first_difference") else "")
            return f"  {name}: not timed: {why}" + (f"\n    cause: {r['known_cause']}" if r.get("known_cause") else "")
        fig = r["ns_per_update"] if unit == "update" else r["ns_per_msg"]
        return (f"  {name}: {fig:,.0f} ns/{unit}, {r['msgs_per_s']:,.0f} msgs/s -> Nexus is {r['ratio']:.2f}x "
                f"(target {r['target']:g}x: {'met' if r['met'] else 'MISSED'}; checked equal)\n    via {r['api']}")

    if "book" in res:
        b = res["book"]
        click.echo(f"L2 book maintenance: {b['snapshot_levels']} snapshot levels, {b['messages']:,} messages, "
                   f"{b['level_updates']:,} level updates; final books compared (top {b['top_n_compared']}) first")
        for mode, n in b["nexus"].items():
            click.echo(f"  Nexus {mode}: {n['ns_per_update']:,.1f} ns/update, {n['msgs_per_s']:,.0f} msgs/s ({n['api']})")
        for r in b["peers"]:
            click.echo(peer_line(r, "update"))
    if "decode" in res:
        click.echo(f"venue decoding (simulator frames, {res['decode']['simulated_seconds']:g} simulated s per venue; "
                   f"final book and trades compared first)")
        for v, d in res["decode"]["venues"].items():
            if "error" in d:
                click.echo(f"{v}: not measured ({d['error']})")
                continue
            n = d.get("nexus")
            if n:
                click.echo(f"{v}: Nexus {n['decode_book_ns_per_msg']:,.0f} ns/msg decode+sync+book "
                           f"({n['decode_ns_per_msg']:,.0f} decode only), {n['frames']:,} frames")
            else:
                click.echo(f"{v}:")
            for r in d["peers"]:
                click.echo(peer_line(r, "msg"))
    s = res["summary"]
    click.echo(f"peers timed {s['peers_timed']}, not timed {s['peers_not_timed']}; all timed outputs equal to "
               f"Nexus's: {s['all_timed_agree']}; targets met {s['targets_met']}, missed {s['targets_missed']}")
    click.echo(res["note"])


@bench.command("aeron")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every figure.")
@click.option("--quick", is_flag=True, help="Smaller counts (for smoke tests; noisier figures).")
def bench_aeron(as_json: bool, quick: bool) -> None:
    """Aeron (aeron:ipc, UDP loopback) vs the shared-memory ring: records/s and one-way latency."""
    from nexus.bench import aeron as aeron_bench

    res = _measure(aeron_bench.run, as_json, quick=quick)
    if res is None:
        return
    click.echo(f"aeron:ipc ring->Aeron->ring (Python API): {res['ipc_records_per_s'] / 1e6:8.2f} M records/s")
    click.echo(f"aeron:ipc ring->Aeron->ring (Rust only):   {res['ipc_native_path_records_per_s'] / 1e6:8.2f} M records/s "
               f"(Python layer: {res['python_layer_overhead_pct']:+.1f} %)")
    click.echo(f"aeron:ipc C client alone:                 {res['ipc_c_client_records_per_s'] / 1e6:8.2f} M records/s "
               f"(over the Rust ring loop: {res['rings_vs_c_client_overhead_pct']:+.1f} %)")
    click.echo(f"UDP loopback ring->Aeron->ring:           {res['udp_records_per_s'] / 1e6:8.2f} M records/s")
    click.echo(f"UDP loopback ring->Aeron->ring (Rust):    {res['udp_native_path_records_per_s'] / 1e6:8.2f} M records/s "
               f"(Python layer: {res['udp_python_layer_overhead_pct']:+.1f} %)")
    click.echo(f"Python layer on the loop thread's CPU time: ipc {res['python_layer_overhead_cpu_pct']:+.1f} %, "
               f"udp {res['udp_python_layer_overhead_cpu_pct']:+.1f} % (medians of per-round paired ratios)")
    click.echo(f"UDP loopback C client alone:              {res['udp_c_client_records_per_s'] / 1e6:8.2f} M records/s")
    click.echo(f"shared-memory ring, batched:              {res['ring_records_per_s'] / 1e6:8.2f} M records/s")
    click.echo(f"one-way latency p50/p99: ipc {res['ipc_one_way_ns_p50']}/{res['ipc_one_way_ns_p99']} ns, "
               f"udp {res['udp_one_way_ns_p50']}/{res['udp_one_way_ns_p99']} ns, "
               f"ring {res['ring_one_way_ns_p50']}/{res['ring_one_way_ns_p99']} ns")
    echo_targets(res)
