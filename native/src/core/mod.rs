//! Pure Rust core: no pyo3 here. Tested with `cargo test`.
pub mod bench;
pub mod binance;
pub mod book;
pub mod bybit;
pub mod coinbase;
pub mod consensus;
pub mod consensus_side;
pub mod dedup;
pub mod decimal;
pub mod fastpath;
pub mod hyperliquid;
pub mod kraken;
pub mod okx;
pub mod record;
pub mod ring;
#[cfg(feature = "aeron")]
pub mod aeron;
