//! SEP-7 URIs (placeholder until the blobs branch lands).
pub fn tx_uri(_envelope_b64: &str, _network_passphrase: Option<&str>) -> String {
    String::new()
}
