import json

import click


@click.group()
def bench() -> None:
    """Benchmarks, each against its named baseline in the same run."""


@bench.command("ring")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every figure.")
@click.option("--quick", is_flag=True, help="Smaller counts (for smoke tests; noisier figures).")
def bench_ring(as_json: bool, quick: bool) -> None:
    """Shared-memory ring vs multiprocessing.Queue and os.pipe: throughput and latency."""
    from nexus.bench import ring as ring_bench

    progress = (lambda m: click.echo(f"… {m}", err=True)) if not as_json else None
    res = ring_bench.run(quick=quick, progress=progress)
    if as_json:
        click.echo(json.dumps(res))
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
    for k, t in res["targets"].items():
        click.echo(f"target {k} {t['target']}: {'met' if t['met'] else 'MISSED'}")


@bench.command("broker")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every figure.")
@click.option("--quick", is_flag=True, help="Smaller counts (for smoke tests; noisier figures).")
def bench_broker(as_json: bool, quick: bool) -> None:
    """Broker: full Buy flows/s on SQLite and PostgreSQL, and callback deliveries/s."""
    from nexus.broker import bench as broker_bench

    progress = (lambda m: click.echo(f"… {m}", err=True)) if not as_json else None
    res = broker_bench.run(quick=quick, progress=progress)
    if as_json:
        click.echo(json.dumps(res))
        return
    f, cb = res["buy_flows"], res["callback_deliveries"]
    click.echo(f"{'':28}{'SQLite':>14}{'PostgreSQL':>14}")
    click.echo(f"{'full Buy flows/s':28}{f['sqlite']['buy_flows_per_s']:>14}{f['postgresql']['buy_flows_per_s']:>14}")
    click.echo(f"{'Buy flow latency p50 (ms)':28}{f['sqlite']['flow_latency_ms_p50']:>14}{f['postgresql']['flow_latency_ms_p50']:>14}")
    click.echo(f"{'callback deliveries/s':28}{cb['sqlite']['deliveries_per_s']:>14}{cb['postgresql']['deliveries_per_s']:>14}")
    ok = all(x["correct"] for part in (f, cb) for x in part.values())
    click.echo(f"results checked (chain balances, audit, signatures): {'ok' if ok else 'FAILED'}")
    click.echo(res["note"])
