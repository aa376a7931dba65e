"""The ring through its Python API, in one process (multi-process tests are beside it)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nexus import record
from nexus.exceptions import RingBusy, RingConfigError, RingNotFound
from nexus.ring import RingReader, RingWriter, ring_list, ring_remove


def batch(start, n):
    b = record.empty(n)
    b["seq"] = np.arange(start, start + n)
    b["price"] = b["seq"].astype(np.int64) * 7
    return b


def drain(reader, out):
    got = []
    while n := reader.poll(out):
        got.append(out[:n].copy())
    return np.concatenate(got) if got else record.empty(0)


def test_publish_poll_in_order(ring_name):
    with RingWriter(ring_name, slots=1024) as w, RingReader(ring_name) as r:
        w.publish(batch(0, 1000))
        got = drain(r, record.empty(300))
        assert got["seq"].tolist() == list(range(1000))
        assert (got["price"] == got["seq"].astype(np.int64) * 7).all()
        assert r.lost == 0


def test_ring_handles_may_move_between_threads(ring_name):
    # A writer made on one thread publishes from another, and the handles are released on a
    # thread other than the one that made them (a web server's worker threads, a garbage
    # collection that runs elsewhere): the classes are not bound to their creating thread.
    import threading

    w, r = RingWriter(ring_name, slots=1024), RingReader(ring_name)
    errors = []

    def work():
        try:
            w.publish(batch(0, 100))
        except Exception as e:                                      # noqa: BLE001
            errors.append(e)

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert errors == []
    assert drain(r, record.empty(64))["seq"].tolist() == list(range(100))
    holder = [w, r]
    del w, r
    t = threading.Thread(target=lambda: (holder[1].close(), holder[0].close(), holder.clear()))
    t.start()
    t.join()
    assert holder == []


def test_two_readers_each_see_everything(ring_name):
    with RingWriter(ring_name, slots=64) as w:
        a, b = RingReader(ring_name), RingReader(ring_name)
        w.publish(batch(0, 40))
        assert drain(a, record.empty(64))["seq"].tolist() == list(range(40))
        w.publish(batch(40, 10))
        assert drain(b, record.empty(64))["seq"].tolist() == list(range(50))
        assert drain(a, record.empty(64))["seq"].tolist() == list(range(40, 50))


def test_earliest_reader_gets_what_is_still_in_the_ring(ring_name):
    with RingWriter(ring_name, slots=16) as w:
        w.publish(batch(0, 20))
        r = RingReader(ring_name, start="earliest")
        assert drain(r, record.empty(64))["seq"].tolist() == list(range(4, 20))


def test_lapped_reader_knows_exactly_how_many_it_lost(ring_name):
    with RingWriter(ring_name, slots=32) as w, RingReader(ring_name) as r:
        w.publish(batch(0, 100))
        got = drain(r, record.empty(8))
        assert got["seq"].tolist() == list(range(68, 100))
        assert r.lost == 68


def test_validation_errors_are_clear(ring_name):
    with pytest.raises(RingConfigError, match="power of two"):
        RingWriter(ring_name, slots=1000)
    with pytest.raises(RingConfigError, match="invalid ring name"):
        RingWriter("no/slashes", slots=64)
    with pytest.raises(RingNotFound, match="nexus ring ls"):
        RingReader("nobody-writes-this")
    with RingWriter(ring_name, slots=64):
        with pytest.raises(RingBusy, match="live writer"):
            RingWriter(ring_name, slots=64)


def test_wrong_arrays_are_refused(ring_name):
    with RingWriter(ring_name, slots=64) as w, RingReader(ring_name) as r:
        with pytest.raises(TypeError, match="RECORD_DTYPE"):
            w.publish(np.zeros(10, dtype=np.int64))
        with pytest.raises(ValueError, match="contiguous"):
            w.publish(record.empty(10)[::2])
        ro = record.empty(4)
        ro.flags.writeable = False
        w.publish(batch(0, 1))
        with pytest.raises(ValueError, match="read-only"):
            r.poll(ro)


def test_close_removes_segment_and_ls_rm_handle_stale(ring_name):
    w = RingWriter(ring_name, slots=64)
    assert any(x["name"] == ring_name and x["writer_alive"] for x in ring_list())
    w.close()
    assert not any(x["name"] == ring_name for x in ring_list())
    stale = RingWriter(ring_name, slots=64)
    stale.abandon()  # what a killed writer leaves behind
    info = next(x for x in ring_list() if x["name"] == ring_name)
    assert info["valid"] and not info["writer_alive"]
    ring_remove(ring_name)
    assert not any(x["name"] == ring_name for x in ring_list())


@settings(max_examples=60, deadline=None)
@given(slots_log2=st.integers(1, 7), sizes=st.lists(st.integers(0, 300), max_size=30), polls=st.lists(st.integers(1, 200), min_size=1, max_size=30))
def test_ordering_and_loss_accounting(slots_log2, sizes, polls):
    """Whatever the interleaving: records arrive in order, none twice, and
    delivered + lost == published."""
    import os
    name = f"prop-{os.getpid()}"
    with RingWriter(name, slots=1 << slots_log2) as w, RingReader(name) as r:
        seq = 0
        seen = []
        for i, size in enumerate(sizes):
            w.publish(batch(seq, size))
            seq += size
            out = record.empty(polls[i % len(polls)])
            n = r.poll(out)
            seen.extend(out["seq"][:n].tolist())
        seen.extend(drain(r, record.empty(64))["seq"].tolist())
        assert seen == sorted(set(seen))
        assert len(seen) + r.lost == seq
        if seen:
            assert seen[-1] == seq - 1  # the newest record is never lost


def _rss_shmem() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssShmem:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no RssShmem in /proc/self/status")


def test_ring_pages_are_resident_from_creation(ring_name):
    """Rings are mapped populated: no first-touch page faults on the hot path, and a
    process's resident size does not creep up while a ring fills its first lap."""
    slots = 1 << 16                       # 4 MiB of slots
    before = _rss_shmem()
    with RingWriter(ring_name, slots=slots):
        after_writer = _rss_shmem()
        assert after_writer - before >= slots * record.RECORD_SIZE
        r = RingReader(ring_name)
        try:
            # the reader's mapping is populated too: the same pages, mapped a second time
            assert _rss_shmem() - after_writer >= slots * record.RECORD_SIZE
        finally:
            r.close()
