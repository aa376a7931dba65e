# Reports the Cython struct's layout so engine/__init__.py can check it against native.
from engine.record cimport (Record, KIND_BOOK_LEVEL, KIND_BOOK_CLEAR, KIND_TRADE, KIND_BBO,
                            KIND_SIGNAL, KIND_HEARTBEAT, F_LAST, F_SNAPSHOT, F_RESYNC,
                            SIDE_NONE, SIDE_BID, SIDE_ASK)


def struct_layout():
    """(sizeof(Record), {field: offset}) as compiled."""
    cdef Record r
    cdef char* base = <char*>&r
    return sizeof(Record), {
        "ts_exchange_ns": <char*>&r.ts_exchange_ns - base,
        "ts_local_ns": <char*>&r.ts_local_ns - base,
        "price": <char*>&r.price - base,
        "qty": <char*>&r.qty - base,
        "seq": <char*>&r.seq - base,
        "trade_id": <char*>&r.trade_id - base,
        "instrument_id": <char*>&r.instrument_id - base,
        "aux": <char*>&r.aux - base,
        "venue_id": <char*>&r.venue_id - base,
        "kind": <char*>&r.kind - base,
        "flags": <char*>&r.flags - base,
        "side": <char*>&r.side - base,
        "_pad": <char*>&r._pad[0] - base,
    }


def constants():
    return {
        "KIND_BOOK_LEVEL": KIND_BOOK_LEVEL, "KIND_BOOK_CLEAR": KIND_BOOK_CLEAR,
        "KIND_TRADE": KIND_TRADE, "KIND_BBO": KIND_BBO, "KIND_SIGNAL": KIND_SIGNAL,
        "KIND_HEARTBEAT": KIND_HEARTBEAT, "F_LAST": F_LAST, "F_SNAPSHOT": F_SNAPSHOT,
        "F_RESYNC": F_RESYNC, "SIDE_NONE": SIDE_NONE, "SIDE_BID": SIDE_BID, "SIDE_ASK": SIDE_ASK,
    }
