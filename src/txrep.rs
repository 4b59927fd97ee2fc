//! SEP-11 txrep (placeholder until the txrep branch lands).
#[derive(Debug, thiserror::Error)]
pub enum TxrepError {
    #[error("txrep is not available in this build")]
    Unavailable,
}
pub fn to_txrep(_env: &stellar_xdr::TransactionEnvelope) -> Result<String, TxrepError> {
    Err(TxrepError::Unavailable)
}
