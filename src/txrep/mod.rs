//! SEP-11 txrep: the human-readable `field: value` form of a transaction envelope.
//!
//! [`to_txrep`] writes the text the Python stellar-sdk (`stellar_sdk.sep.txrep.to_txrep`) writes
//! for the same envelope, line for line, comments included, with these deliberate exceptions
//! where the SDK's text loses information (txrep must recompile to the exact same bytes):
//!
//! * `setOptionsOp.clearFlags` / `setFlags` present with the value 0 are written as present
//!   (`_present: true` then `0`); the SDK writes `_present: false`.
//! * `allowTrustOp.authorize` is written `true` for 1 and `false` for 0 as the SDK does, and as
//!   the bare number for any other value (2 is "authorized to maintain liabilities"); the SDK
//!   writes `true` for every non-zero value.
//! * A home domain or data name that is not UTF-8 is written as bare hex, as the SDK writes a
//!   non-UTF-8 text memo; the SDK cannot render such an envelope at all.
//! * A time bound after 9999-12-31 gets no date comment; the SDK cannot render it.
//!
//! Strings are written as the SDK writes them (JSON string syntax with ASCII-only output:
//! `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, `\u00XX` for other control bytes and DEL, `\uXXXX`
//! for everything outside printable ASCII); a text memo that is not UTF-8 is bare hex.
//!
//! [`from_txrep`] reads that text, and the SEP-11 forms the SDK does not write (`\xHH` escapes in
//! strings, `0` for an empty opaque value). It is stricter than SEP-11 in ways meant for a
//! signing tool: every field must be given exactly once (no defaults, no overriding by a later
//! line; only `tx.ext.v`, `feeBump.tx.innerTx.type` and `feeBump.tx.ext.v` may be left out), a
//! line that names no field of the envelope is an error, integers are plain decimal (no octal
//! or hex), and the native asset must be spelled `native`, `NATIVE`, `XLM` or `TestXLM`.
//!
//! `write` turns an envelope into lines, `read` turns the fields back into an envelope, and
//! `lex` holds the text itself: `field: value` lines, strings and their escapes, plain decimals,
//! and the typed reading of one field. The names of XDR shapes both directions use live here.

use stellar_xdr::{OperationType, SignerKey};

/// Why an envelope could not be written as txrep, or txrep text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxrepError {
    /// The envelope or text uses something this module does not handle (an operation type, an
    /// extension); `line` is set when reading text.
    #[error("{}txrep support does not cover {what}.", at_line(.line))]
    Unsupported { what: String, line: Option<usize> },
    /// A line of the text is malformed or holds a value that is not valid for its field.
    #[error("line {line}: {reason}.")]
    Malformed { line: usize, reason: String },
    /// A field the envelope needs has no line in the text.
    #[error("the txrep has no line for `{key}`.")]
    Missing { key: String },
    /// The envelope holds a value txrep cannot express (for example an empty signed payload).
    #[error("the envelope cannot be written as txrep because {reason}.")]
    Unrepresentable { reason: String },
}

fn at_line(line: &Option<usize>) -> String {
    match line {
        Some(n) => format!("line {n}: "),
        None => String::new(),
    }
}

type Result<T> = std::result::Result<T, TxrepError>;

const TRUE: &str = "true";
const FALSE: &str = "false";
const MAX_SIGNATURES: usize = 20;
const MAX_OPERATIONS: usize = stellar_xdr::MAX_OPS_PER_TX as usize;
const MAX_EXTRA_SIGNERS: usize = 2;

mod lex;
mod read;
mod write;

pub use read::from_txrep;
pub use write::to_txrep;

// ---------------------------------------------------------------------------------------------
// Names of XDR shapes, the same both ways
// ---------------------------------------------------------------------------------------------

/// `CREATE_ACCOUNT` → `createAccountOp`: the body's field name in the XDR union.
fn body_field(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c);
            upper = false;
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out.push_str("Op");
    out
}

/// `ExtendFootprintTtl` → `EXTEND_FOOTPRINT_TTL`: the XDR enum name of an operation type.
fn op_type_name(t: OperationType) -> String {
    let mut out = String::new();
    for (i, c) in t.name().chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

fn signer_key_kind(key: &SignerKey) -> (&'static str, &'static str) {
    match key {
        SignerKey::Ed25519(_) => ("SIGNER_KEY_TYPE_ED25519", "ed25519"),
        SignerKey::PreAuthTx(_) => ("SIGNER_KEY_TYPE_PRE_AUTH_TX", "preAuthTx"),
        SignerKey::HashX(_) => ("SIGNER_KEY_TYPE_HASH_X", "hashX"),
        SignerKey::Ed25519SignedPayload(_) => (
            "SIGNER_KEY_TYPE_ED25519_SIGNED_PAYLOAD",
            "ed25519SignedPayload",
        ),
    }
}
