use super::buffers::records_mut;
use super::book::Book;
use super::target::{core, fast_path, other_symbol, Target};
use crate::core::binance::{decode_depth, decode_snapshot, decode_trade, depth_sync, DepthResult, TradeResult};
use numpy::PyUntypedArray;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

/// Fast path for a Binance depthUpdate (see native/src/core/binance.rs). Returns
/// (records, ts_exchange_ns, U, u, pu) when the records were written into `out` from index
/// 0, ("symbol", s) when the message is for another symbol, or None to fall back.
#[pyfunction]
fn binance_depth<'py>(
    py: Python<'py>,
    raw: &[u8],
    out: &Bound<'py, PyUntypedArray>,
    target: Option<Bound<'py, Target>>,
    ts_local_ns: i64,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    fast_path(out, target.as_ref(), ts_local_ns, |buf, t| decode_depth(raw, buf, t), |r| match r {
        DepthResult::Done(i) => Ok(Some((i.records, i.ts_exchange_ns, i.first, i.last, i.pu).into_pyobject(py)?)),
        DepthResult::OtherSymbol(s) => other_symbol(py, s),
        DepthResult::Fallback => Ok(None),
    })
}

/// Fast path for a Binance aggTrade / trade event (see native/src/core/binance.rs): one TRADE
/// record written into `out` at index 0. Returns (ts_exchange_ns, [trade id as text]: the
/// segment's trade_ids, made here rather than in Python), ("symbol", s) when the event is for
/// another symbol, or None to fall back.
#[pyfunction]
fn binance_trade<'py>(
    py: Python<'py>,
    raw: &[u8],
    out: &Bound<'py, PyUntypedArray>,
    target: Option<Bound<'py, Target>>,
    ts_local_ns: i64,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    fast_path(out, target.as_ref(), ts_local_ns, |buf, t| decode_trade(raw, buf, t), |r| match r {
        TradeResult::Done(i) => Ok(Some((i.ts_exchange_ns, PyList::new(py, [i.trade_id.to_string()])?).into_pyobject(py)?)),
        TradeResult::OtherSymbol(s) => other_symbol(py, s),
        TradeResult::Fallback => Ok(None),
    })
}

/// Fast path for a Binance REST depth snapshot body of `target`'s symbol (see
/// native/src/core/binance.rs): BOOK_CLEAR + levels written into `out` from index 0. Returns
/// (records, ts_exchange_ns or 0, lastUpdateId), or None to fall back.
#[pyfunction]
fn binance_snapshot(raw: &[u8], out: &Bound<'_, PyUntypedArray>, target: Option<Bound<'_, Target>>,
                    ts_local_ns: i64) -> PyResult<Option<(usize, i64, u64)>> {
    let buf = records_mut(out)?;
    let t = core(target.as_ref(), ts_local_ns);
    Ok(decode_snapshot(raw, buf, &t).map(|i| (i.records, i.ts_exchange_ns, i.last)))
}


/// The fused steady state of a synced Binance book (booksync.py `Sync.feed_frame`): one
/// depthUpdate of `target`'s symbol decoded into `out` exactly as `binance_depth` writes it,
/// its sequence checked against the book's update id `last_seq` and, when it is the ordinary
/// next diff, applied to `book`. `rule` 0 (spot): no `pu`, U <= last_seq + 1 and u > last_seq;
/// 1 (USD-M futures): pu == last_seq. Returns (records, ts_exchange_ns, u, crossed after the
/// apply) when applied, or None when the frame needs the Python path (decode + Sync.feed),
/// the book then untouched: another symbol, a gap, a stale or duplicate frame, anything the
/// fast decoder declines.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn binance_depth_sync(raw: &[u8], out: &Bound<'_, PyUntypedArray>, target: &Bound<'_, Target>, ts_local_ns: i64,
                      book: &Bound<'_, Book>, last_seq: i64, rule: u8) -> PyResult<Option<(usize, i64, i64, bool)>> {
    let buf = records_mut(out)?;
    let t = core(Some(target), ts_local_ns);
    Ok(depth_sync(raw, buf, &t, &mut book.borrow_mut().0, last_seq, rule)
        .map(|a| (a.records, a.ts_exchange_ns, a.seq, a.crossed)))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(binance_depth, m)?)?;
    m.add_function(wrap_pyfunction!(binance_trade, m)?)?;
    m.add_function(wrap_pyfunction!(binance_depth_sync, m)?)?;
    m.add_function(wrap_pyfunction!(binance_snapshot, m)?)
}
