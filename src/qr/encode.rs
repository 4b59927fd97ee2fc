//! placeholder until the blobs branch lands
#[derive(Debug, thiserror::Error)]
pub enum QrEncodeError {
    #[error("QR output is not available in this build")]
    Unavailable,
}
pub struct QrCode;
pub fn single_qr(_t: &str) -> Result<QrCode, QrEncodeError> {
    Err(QrEncodeError::Unavailable)
}
pub fn render_png(_c: &QrCode) -> Result<Vec<u8>, QrEncodeError> {
    Err(QrEncodeError::Unavailable)
}
pub fn render_svg(_c: &QrCode) -> String {
    String::new()
}
