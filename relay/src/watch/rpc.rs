//! Watching over Stellar RPC: `getEvents` with CAP-67 events.

/// RPC's cursor at the end of ledger `ledger - 1` (`"%019d-%010d"` of the TOID
/// `(ledger - 1, transaction mask, operation mask)` and the largest event index): what RPC
/// returns after scanning through that ledger, so paging from it starts at `ledger`.
pub fn ledger_cursor(ledger: u32) -> String {
    let toid = (i64::from(ledger) << 32) - 1;
    format!("{toid:019}-{:010}", u32::MAX)
}

/// Start reading over RPC (not written yet).
pub fn start(
    url: &str,
    _db: &mut crate::db::Db,
    _opts: &super::Options,
    _stop: &std::sync::atomic::AtomicBool,
    _tx: std::sync::mpsc::Sender<super::Msg>,
    _out: &mut dyn FnMut(&crate::db::Recorded),
) -> Result<String, super::WatchError> {
    Err(super::WatchError::Server(format!(
        "RPC ({url}) is not supported yet"
    )))
}
