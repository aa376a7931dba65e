"""The record stream over Aeron: rings -> `nexus aeron pub` -> Aeron -> `nexus aeron sub` -> local
rings, with the real Aeron C client and media driver (embedded, built from the rusteron crates).

The two-host test puts the publisher and the subscriber in two network namespaces joined by a
veth pair the test creates (addresses of its own choosing, only inside those namespaces), each
with its own media driver, over UDP; it checks that the far ring carries the near ring's records
in order (the publisher's book snapshots aside) and that the far books equal the near books at
the same sequence, also with data frames dropped (tc netem on the veth where the kernel has it,
else Aeron's own loss generator in the receiving driver): Aeron retransmits."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import warnings

import numpy as np
import pytest

from nexus import record
from nexus.feeds.run.config import venue_ring
from nexus.ring import RingReader, RingWriter
from nexus.ring_meta import meta_path

from .helpers import Proc, book_state, books_of, read_all, stream, without_inserted_snapshots

PID = os.getpid()
_seq = iter(range(1000))


def _uniq() -> int:
    return next(_seq)


def _cleanup_dir(d: str) -> None:
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def aeron_dir():
    d = f"/dev/shm/nexus-aeron-test-{PID}-{_uniq()}"
    yield d
    _cleanup_dir(d)


@pytest.fixture
def driver(aeron_dir):
    from nexus.aeron import AeronDriver

    drv = AeronDriver(aeron_dir)
    yield drv
    drv.close()


def _compare_at_checkpoints(near: np.ndarray, far: np.ndarray, checkpoints: int = 4) -> None:
    """The far stream without the inserted snapshots is the near stream, byte for byte; and the
    far books (snapshots applied) equal the near books at the same sequence."""
    plain = without_inserted_snapshots(far)
    assert len(plain) == len(near), f"far carried {len(plain)} of the near ring's {len(near)} records"
    assert plain.tobytes() == near.tobytes(), "far records differ from the near ring's"
    counted = np.cumsum((far["flags"] & 4) == 0)
    for k in np.linspace(len(near) // checkpoints, len(near), checkpoints).astype(int):
        idx = int(np.searchsorted(counted, k))
        assert book_state(books_of([far[: idx + 1]])) == book_state(books_of([near[:k]])), f"books differ at sequence {k}"


def test_ipc_round_trip_python_api(driver, aeron_dir):
    """Publisher and subscriber over aeron:ipc through one embedded driver: the far ring gets the
    near ring's records in order, books equal; a publisher restart is seen as a restart by the
    subscriber and by the far ring's readers."""
    from nexus.aeron import AeronPublisher, AeronSubscriber

    near_name = f"aeron-near-{PID}-{_uniq()}"
    prefix = "far-"
    stream_id = 2001 + _uniq()
    batches = stream(200)
    with RingWriter(near_name, slots=1 << 16) as w:
        sub = AeronSubscriber(aeron_dir, "aeron:ipc", stream_id, prefix)
        pub = AeronPublisher(aeron_dir, "aeron:ipc", stream_id, [(near_name, b"")], 0.2)
        end = time.monotonic() + 10
        while not pub.connected and time.monotonic() < end:
            pub.pump()
            sub.pump()
            time.sleep(0.001)
        assert pub.connected
        for b in batches:
            w.publish(b)
        near = np.concatenate(batches)
        far_reader = None
        got = []
        end = time.monotonic() + 20
        while time.monotonic() < end:
            pub.pump()
            sub.pump()
            if far_reader is None:
                try:
                    far_reader = RingReader(prefix + near_name, start="earliest")
                except Exception:
                    continue
            out = record.empty(4096)
            n = far_reader.poll(out)
            if n:
                got.append(out[:n].copy())
            if got and len(without_inserted_snapshots(np.concatenate(got))) >= len(near):
                break
        far = np.concatenate(got)
        _compare_at_checkpoints(near, far)
        ps, ss = pub.stats(), sub.stats()
        assert ps["lost"] == 0 and ps["records"] == len(near) and ps["snapshots"] >= 1
        assert ss["records"] == len(near) and ss["restarts"] == 0 and ss["lost"] == 0
        assert ss["rings"] == [prefix + near_name]

        # A publisher restart: a new publisher (new epoch) on the same ring.
        pub.close()
        pub2 = AeronPublisher(aeron_dir, "aeron:ipc", stream_id, [(near_name, b"")], 0.2)
        end = time.monotonic() + 15
        while sub.stats()["restarts"] == 0 and time.monotonic() < end:
            pub2.pump()
            sub.pump()
            time.sleep(0.001)
        assert sub.stats()["restarts"] == 1
        more = stream(5, seed=9)[1:]
        for b in more:
            w.publish(b)
        end = time.monotonic() + 10
        restarts_seen = 0
        while time.monotonic() < end and restarts_seen == 0:
            pub2.pump()
            sub.pump()
            far_reader.poll(record.empty(4096))
            restarts_seen = far_reader.restarts
        assert restarts_seen >= 1, "the far ring's reader did not see the publisher restart"
        pub2.close()
        sub.close()


def _sh(*args, ns: str | None = None) -> subprocess.CompletedProcess:
    cmd = list(args)
    if ns:
        cmd = ["ip", "netns", "exec", ns, *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=20)


class TwoHosts:
    """Two network namespaces joined by a veth pair (10.251.X.1 and .2, /30, only inside them)."""

    def __init__(self):
        tag = f"{PID % 100000}{_uniq()}"
        self.a, self.b = f"nxa-a-{tag}", f"nxa-b-{tag}"
        self.va, self.vb = f"nxa{tag}a"[:15], f"nxa{tag}b"[:15]
        octet = 1 + (PID + _uniq()) % 250
        self.ip_a, self.ip_b = f"10.251.{octet}.1", f"10.251.{octet}.2"
        self.reason = None
        steps = [
            ("ip", "netns", "add", self.a),
            ("ip", "netns", "add", self.b),
            ("ip", "link", "add", self.va, "type", "veth", "peer", "name", self.vb),
            ("ip", "link", "set", self.va, "netns", self.a),
            ("ip", "link", "set", self.vb, "netns", self.b),
            ("ip", "-n", self.a, "addr", "add", f"{self.ip_a}/30", "dev", self.va),
            ("ip", "-n", self.b, "addr", "add", f"{self.ip_b}/30", "dev", self.vb),
            ("ip", "-n", self.a, "link", "set", self.va, "up"),
            ("ip", "-n", self.b, "link", "set", self.vb, "up"),
            ("ip", "-n", self.a, "link", "set", "lo", "up"),
            ("ip", "-n", self.b, "link", "set", "lo", "up"),
        ]
        if shutil.which("ip") is None:
            self.reason = "iproute2 (`ip`) is not installed"
            return
        for s in steps:
            try:
                r = _sh(*s)
            except (OSError, subprocess.SubprocessError) as e:
                self.reason = f"`{' '.join(s)}` failed: {e}"
                break
            if r.returncode != 0:
                self.reason = f"`{' '.join(s)}` failed: {r.stderr.strip()}"
                break
        if self.reason:
            self.close()

    def netem_loss(self, pct: int) -> str | None:
        """Drop `pct`% of the packets leaving the publisher's side; None, or why it cannot."""
        r = _sh("tc", "qdisc", "add", "dev", self.va, "root", "netem", "loss", f"{pct}%", ns=self.a)
        return None if r.returncode == 0 else (r.stderr.strip() or "tc failed")

    def close(self):
        for ns in (self.a, self.b):
            _sh("ip", "netns", "del", ns)


@pytest.fixture
def two_hosts():
    """The two hosts of the UDP tests: two network namespaces joined by a veth pair, or, where
    they cannot be made (no privileges, no iproute2), both ends on loopback (the test warns why).
    Yields the TwoHosts (`reason` is None when the namespaces exist) with `pub_ns`, `sub_ns` and
    the publisher's / subscriber's addresses `pub_ip`, `sub_ip` set for either case."""
    hosts = TwoHosts()
    if hosts.reason is None:
        hosts.pub_ns, hosts.sub_ns, hosts.pub_ip, hosts.sub_ip = hosts.a, hosts.b, hosts.ip_a, hosts.ip_b
    else:
        warnings.warn(f"network namespaces unavailable ({hosts.reason}): loopback UDP instead", stacklevel=2)
        hosts.pub_ns = hosts.sub_ns = None
        hosts.pub_ip = hosts.sub_ip = "127.0.0.1"
    try:
        yield hosts
    finally:
        hosts.close()


def _udp_pair_run(hosts: TwoHosts, pub_channel: str, sub_channel: str, batches, sub_env: dict | None = None,
                  expect_naks: bool = False) -> None:
    """`nexus aeron pub` (on the publisher's host) -> `nexus aeron sub` (the subscriber's), each
    with its own media driver: the far ring is the near ring (inserted snapshots aside), the books
    equal at the same sequence, nothing lost; with `expect_naks`, the receiving driver asked for
    retransmits (frames were dropped) and got them."""
    near_name = f"aeron-near-{PID}-{_uniq()}"
    prefix = f"far{_uniq()}-"
    dir_a = f"/dev/shm/nexus-aeron-test-a-{PID}-{_uniq()}"
    dir_b = f"/dev/shm/nexus-aeron-test-b-{PID}-{_uniq()}"
    near = np.concatenate(batches)
    sub = pub = None
    try:
        with RingWriter(near_name, slots=1 << 16) as w:
            sub = Proc(["aeron", "sub", "--channel", sub_channel, "--prefix", prefix, "--aeron-dir", dir_b, "--json"],
                       netns=hosts.sub_ns, env=sub_env or {})
            pub = Proc(["aeron", "pub", "--ring", near_name, "--channel", pub_channel, "--aeron-dir", dir_a,
                        "--snapshot-every", "0.5", "--json"], netns=hosts.pub_ns)
            if pub.wait_for(lambda ln: ln.get("connected") is True, 30) is None:
                pub.stop(), sub.stop()
                pytest.fail(f"publisher never connected over {pub_channel}: pub {pub.stderr[-2000:]} sub {sub.stderr[-2000:]}")
            for b in batches:
                w.publish(b)
            end = time.monotonic() + 30
            far_reader = None
            while far_reader is None and time.monotonic() < end:
                try:
                    far_reader = RingReader(prefix + near_name, start="earliest")
                except Exception:
                    time.sleep(0.05)
            assert far_reader is not None, "the subscriber made no local ring"
            far = read_all(far_reader, 10, until=lambda got: len(without_inserted_snapshots(got)) >= len(near))
            _compare_at_checkpoints(near, far)
            far_reader.close()
            assert pub.stop() == 0
            assert sub.stop() == 0
        ps = next(ln for ln in reversed(pub.lines) if ln["type"] == "aeron-pub-summary")
        ss = next(ln for ln in reversed(sub.lines) if ln["type"] == "aeron-sub-summary")
        assert ps["lost"] == 0 and ps["records"] == len(near)
        assert ss["records"] == len(near) and ss["lost"] == 0 and ss["restarts"] == 0 and ss["snapshots"] >= 1
        if expect_naks:
            assert ss["naks_sent"] > 0, ss
    finally:
        for p in (pub, sub):
            if p is not None and p.p.poll() is None:
                p.stop()
        _cleanup_dir(dir_a)
        _cleanup_dir(dir_b)


def _unicast(hosts: TwoHosts) -> str:
    return f"aeron:udp?endpoint={hosts.sub_ip}:{40100 + (PID + _uniq()) % 20000}"


def test_two_hosts_udp(two_hosts):
    ch = _unicast(two_hosts)
    _udp_pair_run(two_hosts, ch, ch, stream(400))


def test_two_hosts_udp_with_loss(two_hosts):
    """10% of the publisher's packets dropped (tc netem on its veth end; where that cannot be set,
    Aeron's own loss generator in the receiving driver): Aeron retransmits, nothing is lost."""
    why = two_hosts.netem_loss(10) if two_hosts.reason is None else "no namespaces"
    sub_env = None
    if why is not None:
        # Aeron's own loss generator in the receiving driver: 10% of the data frames are dropped
        # on receipt (seeded), so the receiver NAKs and the sender retransmits.
        warnings.warn(f"tc netem unavailable ({why}): Aeron's receive-side loss generator drops 10% of data frames",
                      stacklevel=2)
        sub_env = {"AERON_UDP_CHANNEL_INCOMING_INTERCEPTORS": "loss",
                   "AERON_UDP_CHANNEL_TRANSPORT_BINDINGS_LOSS_ARGS": "rate=0.1|seed=7|recv-msg-mask=0x2"}
    ch = _unicast(two_hosts)
    _udp_pair_run(two_hosts, ch, ch, stream(400), sub_env=sub_env, expect_naks=True)


_MC_PROBE = """
import socket, sys
grp, port, iface = sys.argv[1], int(sys.argv[2]), sys.argv[3]
try:
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    r.bind((grp, port))
    r.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(grp) + socket.inet_aton(iface))
    r.settimeout(2)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(iface))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
    s.sendto(b"nx", (grp, port))
    r.recvfrom(16)
except OSError as e:
    print(f"{type(e).__name__}: {e}")
    sys.exit(1)
"""


def _multicast_probe(group: str, port: int, iface: str, ns: str | None) -> str | None:
    """None when a datagram sent to `group` on `iface` comes back to a member there (inside
    namespace `ns`), else the OS error (or the probe's output)."""
    import sys

    r = _sh(sys.executable, "-c", _MC_PROBE, group, str(port), iface, ns=ns)
    return None if r.returncode == 0 else (r.stdout.strip() or r.stderr.strip() or f"exit {r.returncode}")


def test_multicast_udp(two_hosts):
    """UDP multicast (`aeron:udp?endpoint=GROUP:PORT|interface=ADDR`): the publisher in one network
    namespace sends to a multicast group on its end of the veth pair, the subscriber in the other
    joins the group on its end (each with its own media driver); the far ring carries the near
    ring's records and the books match. Without namespaces: both on loopback (interface=127.0.0.1).
    Skipped, with the OS error, only where the kernel delivers no multicast on either."""
    h = two_hosts
    octet = 1 + 2 * ((PID + _uniq()) % 120)  # Aeron: the data group's last octet is odd (control = +1)
    group = f"239.255.{(PID >> 3) % 250}.{octet}"
    port = 44100 + (PID + _uniq()) % 20000
    # the veth ends (or loopback) are multicast-capable; the probe checks a group member there receives
    why = _multicast_probe(group, port, h.sub_ip, h.sub_ns)
    if why is not None:
        pytest.skip(f"no multicast delivery to group {group} on {h.sub_ip}"
                    f"{' (namespace ' + h.sub_ns + ')' if h.sub_ns else ''}: {why}")
    _udp_pair_run(h, f"aeron:udp?endpoint={group}:{port}|interface={h.pub_ip}",
                  f"aeron:udp?endpoint={group}:{port}|interface={h.sub_ip}", stream(150))


def test_late_joiner_gets_books_from_snapshots(driver, aeron_dir):
    """A subscriber that joins after the books were built gets them from the publisher's
    snapshot on connect: its books equal the near books, though it never saw the first records."""
    near_name = f"aeron-near-{PID}-{_uniq()}"
    prefix = f"late{_uniq()}-"
    stream_id = 3001 + _uniq()
    port = 41000 + (PID + _uniq()) % 20000
    channel = f"aeron:udp?endpoint=127.0.0.1:{port}"
    batches = stream(100)
    first, rest = batches[:60], batches[60:]
    with RingWriter(near_name, slots=1 << 16) as w:
        pub = Proc(["aeron", "pub", "--ring", near_name, "--channel", channel, "--stream", str(stream_id),
                    "--aeron-dir", aeron_dir, "--external-driver", "--snapshot-every", "0.5", "--json"])
        try:
            for b in first:
                w.publish(b)
            assert pub.wait_for(lambda ln: ln.get("type") == "aeron-pub" and ln.get("not_connected", 0) > 0, 20), pub.stderr
            sub = Proc(["aeron", "sub", "--channel", channel, "--stream", str(stream_id), "--prefix", prefix,
                        "--aeron-dir", aeron_dir, "--external-driver", "--json"])
            try:
                assert pub.wait_for(lambda ln: ln.get("connected") is True, 20), pub.stderr
                for b in rest:
                    w.publish(b)
                end = time.monotonic() + 20
                far_reader = None
                while far_reader is None and time.monotonic() < end:
                    try:
                        far_reader = RingReader(prefix + near_name, start="earliest")
                    except Exception:
                        time.sleep(0.05)
                assert far_reader is not None
                tail = np.concatenate(rest)
                far = read_all(far_reader, 5, until=lambda got: len(without_inserted_snapshots(got)) >= len(tail)
                               and got[-1]["seq"] == tail[-1]["seq"])
                far_reader.close()
                assert (far[0]["flags"] & 4) and far[0]["kind"] == record.Kind.BOOK_CLEAR, "the far ring must start with a snapshot"
                assert book_state(books_of([far])) == book_state(books_of(batches))
            finally:
                assert sub.stop() == 0, sub.stderr
        finally:
            pub.stop()


def test_no_driver_exit_4_names_the_directory(tmp_path):
    missing = str(tmp_path / "no-driver-here")
    p = Proc(["aeron", "sub", "--channel", "aeron:ipc", "--aeron-dir", missing, "--external-driver"])
    p.p.wait(30)
    p.stop()
    assert p.p.returncode == 4, p.stderr
    assert missing in p.stderr and "nexus aeron driver" in p.stderr


def test_no_permission_to_start_a_driver_exit_4(tmp_path):
    bad = "/proc/nexus-cannot-be-here/aeron"
    p = Proc(["aeron", "sub", "--channel", "aeron:ipc", "--aeron-dir", bad])
    p.p.wait(30)
    p.stop()
    assert p.p.returncode == 4
    assert bad in p.stderr


def test_channel_aeron_rejects_exit_2_with_its_message(driver, aeron_dir):
    p = Proc(["aeron", "sub", "--channel", "aeron:udp?endpoint=nonsense", "--aeron-dir", aeron_dir,
              "--external-driver"])
    p.p.wait(30)
    p.stop()
    assert p.p.returncode == 2, p.stderr
    assert "Aeron rejected the channel" in p.stderr and "aeron:udp?endpoint=nonsense" in p.stderr
    # Aeron's own words follow (its error text, not ours)
    assert len(p.stderr.split("aeron:udp?endpoint=nonsense", 1)[1].strip()) > 5


def test_other_record_layout_refused_naming_both_versions(driver, aeron_dir):
    from nexus.aeron import AeronPublisher

    near_name = f"aeron-near-{PID}-{_uniq()}"
    stream_id = 4001 + _uniq()
    with RingWriter(near_name, slots=1 << 10) as w:
        pub = AeronPublisher(aeron_dir, "aeron:ipc", stream_id, [(near_name, b"")], 0.2, layout_version=2)
        p = Proc(["aeron", "sub", "--channel", "aeron:ipc", "--stream", str(stream_id), "--prefix", "lay-",
                  "--aeron-dir", aeron_dir, "--external-driver"])
        end = time.monotonic() + 20
        while p.p.poll() is None and time.monotonic() < end:
            pub.pump()
            w.publish(stream(1)[0][:5])
            time.sleep(0.01)
        p.stop()
        pub.close()
    assert p.p.returncode == 4, p.stderr
    assert "version 2" in p.stderr and "version 1" in p.stderr


def test_multi_destination_two_subscribers_via_control(driver, aeron_dir):
    """One publication, two subscribers joined through the publisher's control address
    (`--control`, Aeron multi-destination): both far rings carry the near ring's records."""
    near_name = f"aeron-near-{PID}-{_uniq()}"
    stream_id = 5001 + _uniq()
    base = 43000 + (PID + _uniq() * 7) % 20000
    control = f"127.0.0.1:{base}"
    batches = stream(60)
    near = np.concatenate(batches)
    common = ["--stream", str(stream_id), "--aeron-dir", aeron_dir, "--external-driver", "--json"]
    with RingWriter(near_name, slots=1 << 16) as w:
        subs = [Proc(["aeron", "sub", "--channel", f"aeron:udp?endpoint=127.0.0.1:{base + 1 + i}", "--control", control,
                      "--prefix", f"mdc{i}-", *common]) for i in range(2)]
        pub = Proc(["aeron", "pub", "--ring", near_name, "--channel", "aeron:udp", "--control", control,
                    "--snapshot-every", "0.5", *common])
        try:
            # both subscribers must be in before the records go: wait for both far rings
            readers = {}
            end = time.monotonic() + 30
            while len(readers) < 2 and time.monotonic() < end:
                for i in range(2):
                    if i not in readers:
                        try:
                            readers[i] = RingReader(f"mdc{i}-{near_name}", start="earliest")
                        except Exception:
                            pass
                time.sleep(0.05)
            assert len(readers) == 2, (pub.stderr, [s.stderr for s in subs])
            time.sleep(0.5)
            for b in batches:
                w.publish(b)
            for i, r in readers.items():
                far = read_all(r, 10, until=lambda got: len(without_inserted_snapshots(got)) >= len(near))
                r.close()
                assert without_inserted_snapshots(far).tobytes() == near.tobytes(), f"subscriber {i}"
                assert book_state(books_of([far])) == book_state(books_of(batches))
        finally:
            pub.stop()
            for s in subs:
                s.stop()


def test_nexus_run_publishes_its_rings_with_aeron(driver, aeron_dir):
    """`nexus run --sim --aeron CHANNEL,STREAM`: the run's venue rings reach a subscriber."""
    stream_id = 6001 + _uniq()
    prefix = f"run{_uniq()}-"
    env = {"AERON_DIR": aeron_dir}
    sub = Proc(["aeron", "sub", "--channel", "aeron:ipc", "--stream", str(stream_id), "--prefix", prefix,
                "--external-driver", "--json"], env=env)
    try:
        run = Proc(["run", "--sim", "--venues", "binance-spot,okx-swap", "--duration", "6", "--json",
                    "--aeron", f"aeron:ipc,{stream_id}"], env=env)
        run.p.wait(90)
        assert run.stop() == 0, run.stderr[-3000:]
        assert "published" in run.stderr and "on aeron:ipc stream" in run.stderr, run.stderr[-3000:]
    finally:
        assert sub.stop() == 0, sub.stderr
    ss = next(ln for ln in reversed(sub.lines) if ln["type"] == "aeron-sub-summary")
    assert ss["records"] > 0 and ss["snapshots"] >= 1, ss
    # local rings: prefix + the run's venue rings (nx-PID-VENUE)
    assert sorted(r[len(prefix):].split("-", 2)[2] for r in ss["rings"]) == ["binance-spot", "okx-swap"], ss["rings"]


def test_nexus_run_from_aeron_shows_the_far_books(driver, aeron_dir):
    """Host A: `nexus run --sim --aeron CH,S`; host B: `nexus run --from-aeron CH,S` runs no feed
    and shows the venues LIVE with books (best bid below best ask) from the Aeron stream."""
    stream_id = 7001 + _uniq()
    env = {"AERON_DIR": aeron_dir}
    venues = "binance-spot,okx-swap,kraken"
    near = Proc(["run", "--sim", "--venues", venues, "--duration", "10", "--json", "--aeron", f"aeron:ipc,{stream_id}"],
                env=env)
    # The far run builds a venue's book once the near run's side files carry the venue listings
    # (written when its readers have them): start it then, so a slow start-up of the near run on a
    # loaded host does not eat the far run's seconds.
    sides = [meta_path(venue_ring(v, near.p.pid)) for v in venues.split(",")]
    end = time.monotonic() + 30
    while not all(os.path.exists(f) for f in sides) and near.p.poll() is None and time.monotonic() < end:
        time.sleep(0.05)
    far = Proc(["run", "--from-aeron", f"aeron:ipc,{stream_id}", "--venues", venues, "--duration", "6", "--json"],
               env=env)
    try:
        far.p.wait(90)
        far_rc = far.stop()
    finally:
        near.p.wait(90)
        near.stop()
    assert far_rc == 0, (f"far: {far.stderr[-2000:]}\nfar lines: {far.lines[-2:]}\nnear: {near.stderr[-2000:]}\n"
                         f"side files there at far start: {[os.path.basename(f) for f in sides]}")
    summary = next(ln for ln in reversed(far.lines) if "summary" in ln)["summary"]
    near_summary = next(ln for ln in reversed(near.lines) if "summary" in ln)["summary"]
    for v in venues.split(","):
        s = summary[v]
        assert s["state"] == "LIVE" and s["source"] == "aeron" and s["msgs"] > 0, summary
        assert s["best_bid"] is not None and s["best_ask"] is not None, summary
        assert float(s["best_bid"]) < float(s["best_ask"]), summary
        # the publishing host's instruments (its venue listings) came along: same scale as there
        # (the far run builds a venue's book only once the ring's side file carries the listing;
        # see test_from_aeron_builds_no_book_before_the_listing_arrives)
        ratio = float(s["best_bid"]) / float(near_summary[v]["best_bid"])
        assert abs(ratio - 1) < 0.01, f"{v}: far best bid {s['best_bid']} vs near {near_summary[v]['best_bid']}"


def test_from_aeron_builds_no_book_before_the_listing_arrives(driver, aeron_dir, monkeypatch):
    """The race behind a far book once seen 10^7 off: `nexus aeron pub` announces a venue ring
    before the ring's side file carries the venue's listing (here forced: the side file is
    written only after the far side has had several snapshots). The far `nexus run --from-aeron`
    runtime builds no book (and no consensus) on a generic scale meanwhile; once the publisher
    sees the side file and re-announces it, the far books read the near figures."""
    import asyncio

    from nexus.aeron import write_venue_ring_meta
    from nexus.feeds.run.config import RunConfig
    from nexus.feeds.runtime import Runtime
    from nexus.instruments import Instrument
    from nexus.ring_meta import remove_meta

    venue = "binance-spot"
    near_name = f"near{PID}x{_uniq()}-{venue}"
    stream_id = 8001 + _uniq()
    inst = Instrument(venue, "BTCUSDT", "0.01", "0.00001", base="BTC", quote="USDT")
    b = record.empty(3)
    b["venue_id"] = 1
    b["kind"] = [record.Kind.BOOK_CLEAR, record.Kind.BOOK_LEVEL, record.Kind.BOOK_LEVEL]
    b["side"] = [0, 1, 2]
    b["price"] = [0, 6_499_700, 6_499_800]  # 64997.00 / 64998.00 at the listing's 2 decimals
    b["qty"] = [0, 150_000, 250_000]
    b["flags"] = [2, 2, 3]
    b["seq"] = np.arange(3)
    monkeypatch.setenv("AERON_DIR", aeron_dir)

    async def scenario(pub):
        rt = Runtime(RunConfig(venues=[venue], from_aeron=f"aeron:ipc,{stream_id}", agg=True))
        await rt.start()
        try:
            end = time.monotonic() + 20
            while rt.aeron_source.stats()["snapshots"] < 3 and time.monotonic() < end:
                rt.poll()
                await asyncio.sleep(0.005)
            ss = rt.aeron_source.stats()
            assert ss["snapshots"] >= 3 and ss["rings"] and ss["rings"][0].endswith(near_name), (ss, pub.stderr)
            rs = rt.readers[venue]
            # announced and snapshotted, but no listing yet: no book, no consensus, no figure
            assert rs.ring.endswith(near_name)
            assert rs.book is None and rs.inst is None, (rs.inst, rs.book and rs.book.best_bid())
            assert rt.agg is None
            assert rt.venue_stats()[venue]["best_bid"] is None

            # the near run writes the side file once its reader has the listing; the publisher re-announces it
            write_venue_ring_meta(near_name, inst)
            end = time.monotonic() + 20
            while rt.venue_stats()[venue]["best_bid"] is None and time.monotonic() < end:
                rt.poll()
                await asyncio.sleep(0.005)
            s = rt.venue_stats()[venue]
            assert (s["best_bid"], s["best_ask"]) == ("64997", "64998"), s
            assert rs.inst == inst and rt.agg is not None
            assert rt.agg.venues[venue].inst == inst
        finally:
            await rt.stop()

    with RingWriter(near_name, slots=1 << 12) as w:
        w.publish(b)
        pub = Proc(["aeron", "pub", "--ring", near_name, "--channel", "aeron:ipc", "--stream", str(stream_id),
                    "--aeron-dir", aeron_dir, "--external-driver", "--snapshot-every", "0.05"])
        try:
            asyncio.run(scenario(pub))
        finally:
            assert pub.stop() == 0, pub.stderr
            remove_meta(near_name)


@pytest.mark.parametrize("renumber", [False, True])
def test_bench_loops_carry_every_record_in_order(driver, aeron_dir, renumber):
    """The `nexus bench aeron` ring -> Aeron -> ring loops (through the Python API, and the same
    loop in Rust) check every poll's last sequence number, then drain and require exact counts
    (publisher, subscriber and far reader agree with what was published) and no loss: a short
    run of each passes those checks and reports a rate from both clocks."""
    from nexus.aeron import aeron_bench_rings_throughput
    from nexus.bench.aeron import BATCH, nexus_path_throughput

    total = 20 * BATCH
    ch = "aeron:ipc?mtu=65504|term-length=1m"  # a small log: the loops' untimed warm-up lap is short
    py = nexus_path_throughput(aeron_dir, ch, 7301 + _uniq(), total, renumber=renumber)
    assert py["records_per_s"] > 0 and py["cpu_records_per_s"] > 0
    assert py["messages"] >= total // 1022
    wall, cpu = aeron_bench_rings_throughput(aeron_dir, ch, 7401 + _uniq(), total, renumber=renumber)
    assert wall > 0 and cpu > 0
