//! SEP-7 transaction URIs: `web+stellar:tx?xdr=…&network_passphrase=…`.
//!
//! [`tx_uri`] writes what the Stellar Python SDK's `TransactionStellarUri.to_uri()` writes for an
//! envelope and a passphrase: every byte of a value except `A-Z a-z 0-9 - . _ ~` is
//! percent-encoded (so `+`, `/`, `=` and spaces become `%2B`, `%2F`, `%3D`, `%20`), and
//! `network_passphrase` appears only when one is given. SEP-7 says to leave it out for the public
//! network.
//!
//! [`parse_tx_uri`] reads `tx` requests as form-urlencoded queries (the SDK's `parse_qsl`
//! rules). It keeps `callback`, `pubkey`, `msg`, `origin_domain`, `signature`, `replace` and
//! `chain` as given and **verifies nothing**: the SEP-7 request signature is not checked, so
//! `origin_domain` is unauthenticated and must not be shown as trusted.

use base64::Engine;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// URI scheme of SEP-7.
pub const SCHEME: &str = "web+stellar";

/// Bytes left as they are in a query value: the RFC 3986 unreserved characters, as Python's
/// `urllib.parse.quote(value, safe="")` does.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Errors from reading a SEP-7 URI.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Sep7Error {
    /// The text does not start with `web+stellar:`.
    #[error("this is not a SEP-7 URI (it does not start with `web+stellar:`)")]
    NotSep7,
    /// A SEP-7 request other than `tx`.
    #[error("this is a SEP-7 `{0}` request; only `tx` requests, which carry a transaction, are supported")]
    UnsupportedOperation(String),
    /// The `xdr` parameter is missing.
    #[error("the SEP-7 URI has no `xdr` parameter")]
    MissingXdr,
    /// A parameter appears more than once.
    #[error("the SEP-7 URI gives `{0}` more than once")]
    DuplicateParameter(String),
    /// The `xdr` parameter is not base64.
    #[error("the `xdr` parameter is not base64: {0}")]
    XdrNotBase64(String),
}

/// A SEP-7 `tx` request as read, nothing verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sep7Tx {
    /// The transaction envelope, base64 XDR.
    pub xdr: String,
    /// `network_passphrase`; `None` means the public network.
    pub network_passphrase: Option<String>,
    /// `callback`, as given (normally `url:https://…`).
    pub callback: Option<String>,
    /// `pubkey`: the key the requester wants a signature from.
    pub pubkey: Option<String>,
    /// `msg`: text for the user, written by the requester.
    pub msg: Option<String>,
    /// `origin_domain`: **unverified**; see the module documentation.
    pub origin_domain: Option<String>,
    /// `signature`: base64 request signature, not verified here.
    pub signature: Option<String>,
    /// `replace`: SEP-11 field replacements, as given.
    pub replace: Option<String>,
    /// `chain`: a nested SEP-7 request, as given.
    pub chain: Option<String>,
}

/// Writes `web+stellar:tx?xdr=…` for a base64 envelope, with `&network_passphrase=…` when a
/// passphrase is given.
pub fn tx_uri(envelope_b64: &str, network_passphrase: Option<&str>) -> String {
    let mut uri = format!(
        "{SCHEME}:tx?xdr={}",
        utf8_percent_encode(envelope_b64.trim(), QUERY_VALUE)
    );
    if let Some(p) = network_passphrase {
        uri.push_str("&network_passphrase=");
        uri.extend(utf8_percent_encode(p, QUERY_VALUE));
    }
    uri
}

/// Reads a SEP-7 `tx` URI.
///
/// The scheme and operation are matched without regard to case; values are form-urlencoded
/// (`%XX`, and `+` for a space). Because base64 has no spaces, spaces in `xdr` are read as `+`,
/// which recovers an `xdr` whose `+` signs were not percent-encoded. Unknown parameters are
/// ignored; a parameter given twice is an error.
pub fn parse_tx_uri(uri: &str) -> Result<Sep7Tx, Sep7Error> {
    let uri = uri.trim();
    let rest = match uri.split_once(':') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case(SCHEME) => rest,
        _ => return Err(Sep7Error::NotSep7),
    };
    let (op, query) = rest.split_once('?').unwrap_or((rest, ""));
    if !op.eq_ignore_ascii_case("tx") {
        return Err(Sep7Error::UnsupportedOperation(op.to_string()));
    }
    let mut tx = Sep7Tx {
        xdr: String::new(),
        network_passphrase: None,
        callback: None,
        pubkey: None,
        msg: None,
        origin_domain: None,
        signature: None,
        replace: None,
        chain: None,
    };
    let mut xdr = None;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let slot = match key.as_ref() {
            "xdr" => &mut xdr,
            "network_passphrase" => &mut tx.network_passphrase,
            "callback" => &mut tx.callback,
            "pubkey" => &mut tx.pubkey,
            "msg" => &mut tx.msg,
            "origin_domain" => &mut tx.origin_domain,
            "signature" => &mut tx.signature,
            "replace" => &mut tx.replace,
            "chain" => &mut tx.chain,
            _ => continue,
        };
        if slot.is_some() {
            return Err(Sep7Error::DuplicateParameter(key.into_owned()));
        }
        *slot = Some(value.into_owned());
    }
    let xdr = xdr.ok_or(Sep7Error::MissingXdr)?.replace(' ', "+");
    base64::engine::general_purpose::STANDARD
        .decode(&xdr)
        .map_err(|e| Sep7Error::XdrNotBase64(e.to_string()))?;
    tx.xdr = xdr;
    Ok(tx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_pay_and_other_schemes() {
        assert_eq!(
            parse_tx_uri("web+stellar:pay?destination=GABC&amount=1"),
            Err(Sep7Error::UnsupportedOperation("pay".into()))
        );
        assert_eq!(
            parse_tx_uri("https://example.com/?xdr=AAAA"),
            Err(Sep7Error::NotSep7)
        );
        assert_eq!(
            parse_tx_uri("web+stellar:tx?msg=hi"),
            Err(Sep7Error::MissingXdr)
        );
        assert_eq!(
            parse_tx_uri("web+stellar:tx?xdr=AAAA&xdr=BBBB"),
            Err(Sep7Error::DuplicateParameter("xdr".into()))
        );
        assert!(matches!(
            parse_tx_uri("web+stellar:tx?xdr=not%20base64!"),
            Err(Sep7Error::XdrNotBase64(_))
        ));
    }

    #[test]
    fn unencoded_plus_in_xdr_is_recovered() {
        let tx = parse_tx_uri("web+stellar:tx?xdr=AA+/AA==").expect("parses");
        assert_eq!(tx.xdr, "AA+/AA==");
        assert_eq!(tx.network_passphrase, None);
    }
}
