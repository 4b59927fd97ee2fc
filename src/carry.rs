//! Reading back what crossed the air gap. Whatever an operator hands the online side — a blob
//! file, a photo of a QR code, an animated GIF, frames in any order, a SEP-7 URI — is turned into
//! the pieces it carries: whole envelopes, or `ur:` parts that must be assembled with others.
//! No I/O here: callers pass bytes and name their inputs in messages.
use crate::envelope::{self, EnvelopeError};
use crate::frames::{FrameAssembler, FramesError};
use crate::qr::decode::{self, DecodeOptions, QrDecodeError};
use crate::sep7::Sep7Error;
use std::time::Duration;
use stellar_xdr::TransactionEnvelope;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CarryError {
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error("{0}")]
    Qr(#[from] QrDecodeError),
    #[error("{0}")]
    Frames(#[from] FramesError),
    #[error("{0}")]
    Sep7(#[from] Sep7Error),
    /// The picture's codes were read, but none holds an envelope, a SEP-7 URI or a frame.
    #[error("{}", no_envelope(.codes, *.out_of_time))]
    NoEnvelope {
        /// What each code holds, escaped for display.
        codes: Vec<OtherCode>,
        /// The decode budget ran out before every way of reading the picture was tried.
        out_of_time: bool,
    },
    #[error("the frames are incomplete: {seen} parts read, about {needed} more needed; show the rest of the loop")]
    Incomplete { seen: usize, needed: usize },
    #[error("these frames belong to two different envelopes: {first} (first seen in {first_input}) and {other} (in {other_input})")]
    MixedFrames {
        first: String,
        first_input: String,
        other: String,
        other_input: String,
    },
}

/// One thing an input carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// A whole envelope (base64), with the network passphrase a SEP-7 URI named, if any
    /// (`Some(None)`: a SEP-7 URI without one, which means the public network).
    Envelope {
        base64: String,
        sep7_passphrase: Option<Option<String>>,
    },
    /// One `ur:` part of a multi-frame envelope.
    Part(String),
}

/// A QR code whose content is not something this tool carries (a web address, a Wi-Fi login,
/// a payment request of another kind), as it may be shown to the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherCode {
    /// The code's content with every byte outside printable ASCII escaped, cut after
    /// [`SHOWN_CHARS`] characters.
    pub shown: String,
    /// Whether `shown` was cut.
    pub cut: bool,
    /// The content's length in bytes.
    pub bytes: usize,
    /// Why it looked like ours and still is not (a broken envelope, a SEP-7 URI that is not a
    /// transaction request), when it looked like ours.
    pub why: Option<String>,
}

/// How much of a foreign code's content is shown.
pub const SHOWN_CHARS: usize = 60;

impl std::fmt::Display for OtherCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.cut {
            write!(f, "\"{}…\" ({} bytes)", self.shown, self.bytes)?;
        } else {
            write!(f, "\"{}\"", self.shown)?;
        }
        if let Some(why) = &self.why {
            write!(f, " ({why})")?;
        }
        Ok(())
    }
}

fn no_envelope(codes: &[OtherCode], out_of_time: bool) -> String {
    let mut text = match codes {
        [one] => format!(
            "the picture's QR code holds neither a transaction envelope, a SEP-7 URI nor a ur: frame: it holds {one}"
        ),
        many => format!(
            "none of the picture's {} QR codes holds a transaction envelope, a SEP-7 URI or a ur: frame: they hold {}",
            many.len(),
            many.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        ),
    };
    if out_of_time {
        text.push_str(
            "; the decode budget ran out before every way of reading the picture was tried",
        );
    }
    text
}

/// How pictures are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// Time allowed for reading the QR codes of one picture (see [`decode::DecodeOptions`]).
    pub decode_budget: Duration,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            decode_budget: decode::DEFAULT_BUDGET,
        }
    }
}

/// What one input carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried {
    pub pieces: Vec<Piece>,
    /// Other QR codes seen in the same picture, which were ignored: the operator should hear of
    /// them (the one they meant may be among them, damaged), but they are no reason to fail.
    pub ignored: Vec<OtherCode>,
}

/// Whether the bytes are an image (PNG, JPEG, GIF, …) rather than text.
pub fn is_image(bytes: &[u8]) -> bool {
    image::guess_format(bytes).is_ok()
}

/// What the bytes of one input hold: an image is read for QR codes (every frame of a GIF); text
/// is a SEP-7 URI, `ur:` parts one per line, or a base64 envelope. Other codes in a picture are
/// ignored (see [`read`] to hear of them).
pub fn pieces(bytes: &[u8]) -> Result<Vec<Piece>, CarryError> {
    read(bytes, &ReadOptions::default()).map(|c| c.pieces)
}

/// What the bytes of one input hold, as [`pieces`] reads them, and which other QR codes a
/// picture held.
///
/// A picture may hold several codes: every code that holds an envelope, a SEP-7 URI or `ur:`
/// frames counts (two envelopes in one photo are two pieces; frames from several codes are all
/// parts), and the reading stops early only once one such code is found. Codes holding anything
/// else are returned in [`Carried::ignored`]; the picture fails only when no code is ours.
pub fn read(bytes: &[u8], options: &ReadOptions) -> Result<Carried, CarryError> {
    if !is_image(bytes) {
        return Ok(Carried {
            pieces: text_pieces(&String::from_utf8_lossy(bytes))?,
            ignored: Vec::new(),
        });
    }
    let wanted = |payload: &[u8]| classify(payload).is_ok();
    let decoded = decode::read_image(
        bytes,
        &DecodeOptions {
            budget: options.decode_budget,
            wanted: Some(&wanted),
        },
    )?;
    let mut carried = Carried {
        pieces: Vec::new(),
        ignored: Vec::new(),
    };
    for payload in &decoded.payloads {
        match classify(payload) {
            Ok(found) => carried.pieces.extend(found),
            Err(other) => carried.ignored.push(other),
        }
    }
    if carried.pieces.is_empty() {
        return Err(CarryError::NoEnvelope {
            codes: carried.ignored,
            out_of_time: decoded.out_of_time,
        });
    }
    Ok(carried)
}

/// What one QR code's content is: our pieces, or another code (with why it is not ours when it
/// looked like ours).
fn classify(payload: &[u8]) -> Result<Vec<Piece>, OtherCode> {
    let other = |why: Option<String>| {
        let (shown, cut) = shown(payload);
        OtherCode {
            shown,
            cut,
            bytes: payload.len(),
            why,
        }
    };
    let Ok(text) = std::str::from_utf8(payload) else {
        return Err(other(None));
    };
    let t = text.trim();
    if has_prefix_ignore_case(t, "web+stellar:") {
        return match crate::sep7::parse_tx_uri(t) {
            Ok(tx) => Ok(vec![Piece::Envelope {
                base64: tx.xdr,
                sep7_passphrase: Some(tx.network_passphrase),
            }]),
            Err(e) => Err(other(Some(e.to_string()))),
        };
    }
    let ours = format!("ur:{}/", crate::frames::UR_TYPE);
    let lines: Vec<&str> = t.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if !lines.is_empty() && lines.iter().all(|l| has_prefix_ignore_case(l, &ours)) {
        return Ok(lines
            .into_iter()
            .map(|l| Piece::Part(l.to_string()))
            .collect());
    }
    if has_prefix_ignore_case(t, "ur:") {
        return Err(other(None));
    }
    // base64 text: ours only if it decodes to an envelope; a code of base64 characters that
    // does not is most likely ours but damaged or cut, so say what is wrong with it
    let base64 = t.bytes().all(|b| {
        b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=') || b.is_ascii_whitespace()
    });
    match envelope::decode(t) {
        Ok(_) => Ok(vec![Piece::Envelope {
            base64: t.split_ascii_whitespace().collect(),
            sep7_passphrase: None,
        }]),
        Err(e) if base64 && t.len() >= 32 => Err(other(Some(e.to_string()))),
        Err(_) => Err(other(None)),
    }
}

/// A foreign code's content as it may be printed: escaped, and cut after [`SHOWN_CHARS`].
fn shown(payload: &[u8]) -> (String, bool) {
    let escaped = crate::review::escape_bytes(payload);
    if escaped.chars().count() <= SHOWN_CHARS {
        return (escaped, false);
    }
    (escaped.chars().take(SHOWN_CHARS).collect(), true)
}

fn text_pieces(text: &str) -> Result<Vec<Piece>, CarryError> {
    let t = text.trim();
    // Compare bytes: slicing the text at a fixed index panics inside a multi-byte character.
    if has_prefix_ignore_case(t, "web+stellar:") {
        let tx = crate::sep7::parse_tx_uri(t)?;
        return Ok(vec![Piece::Envelope {
            base64: tx.xdr,
            sep7_passphrase: Some(tx.network_passphrase),
        }]);
    }
    let lines: Vec<&str> = t.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if !lines.is_empty()
        && lines
            .iter()
            .all(|l| l.len() > 3 && has_prefix_ignore_case(l, "ur:"))
    {
        return Ok(lines
            .into_iter()
            .map(|l| Piece::Part(l.to_string()))
            .collect());
    }
    Ok(vec![Piece::Envelope {
        base64: t.split_ascii_whitespace().collect(),
        sep7_passphrase: None,
    }])
}

/// Whether `text` starts with the ASCII `prefix`, in any case.
fn has_prefix_ignore_case(text: &str, prefix: &str) -> bool {
    text.as_bytes()
        .get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// Collects `ur:` parts from any number of inputs into one envelope.
#[derive(Default)]
pub struct Frames {
    assembler: FrameAssembler,
    first_input: Option<String>,
    inputs: Vec<String>,
    seen: usize,
    /// Parts of a second envelope were seen: the whole set is refused, never half-used.
    mixed: Option<CarryError>,
}

impl Frames {
    pub fn new() -> Frames {
        Frames::default()
    }

    /// Feed one part read from `input`. A damaged part is an error for that input. A part of
    /// another envelope poisons the whole set: [`Frames::finish`] then refuses it, naming both,
    /// so a mix never yields an envelope.
    pub fn feed(&mut self, part: &str, input: &str) -> Result<(), CarryError> {
        match self.assembler.feed(part) {
            Ok(_) => {}
            Err(FramesError::OtherMessage { expected, found }) => {
                self.mixed.get_or_insert(CarryError::MixedFrames {
                    first: expected.to_string(),
                    first_input: self.first_input.clone().unwrap_or_default(),
                    other: found.to_string(),
                    other_input: input.to_string(),
                });
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
        self.seen += 1;
        self.first_input.get_or_insert_with(|| input.to_string());
        if self.inputs.last().map(String::as_str) != Some(input) {
            self.inputs.push(input.to_string());
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.seen == 0 && self.mixed.is_none()
    }

    /// The inputs the parts came from, for naming the result.
    pub fn inputs(&self) -> &[String] {
        &self.inputs
    }

    /// The assembled envelope, or how many parts are still needed.
    pub fn finish(self) -> Result<TransactionEnvelope, CarryError> {
        if let Some(mixed) = self.mixed {
            return Err(mixed);
        }
        let progress = self.assembler.progress();
        if !progress.complete {
            let missing = progress
                .parts_needed
                .saturating_sub(progress.fragments_resolved)
                .max(1);
            return Err(CarryError::Incomplete {
                seen: self.seen,
                needed: missing,
            });
        }
        let bytes = self.assembler.finish().ok_or(CarryError::Incomplete {
            seen: self.seen,
            needed: 1,
        })?;
        Ok(envelope::decode_bytes(&bytes)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_codes_are_named_escaped_and_cut() {
        let other = classify(b"https://example.com/\x1b[2Jmenu").unwrap_err();
        assert_eq!(other.to_string(), "\"https://example.com/\\x1b[2Jmenu\"");
        assert!(other.why.is_none());
        let long = "W-".repeat(100);
        let other = classify(long.as_bytes()).unwrap_err();
        assert_eq!(other.shown.len(), SHOWN_CHARS);
        assert!(other.to_string().ends_with("…\" (200 bytes)"), "{other}");
        // looks like a base64 envelope, is not one: say why
        assert!(
            classify("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB".as_bytes())
                .unwrap_err()
                .why
                .is_some()
        );
        // a UR of another type, a SEP-7 URI that is not a transaction
        assert!(classify(b"ur:crypto-psbt/lpadaxcfaxhl").is_err());
        let pay = classify(b"web+stellar:pay?destination=GABC&amount=1").unwrap_err();
        assert!(pay.why.is_some());
        assert!(classify(&[0xff, 0xfe, 0x00]).is_err());
    }

    #[test]
    fn frames_and_uris_are_ours() {
        assert!(matches!(
            classify(b"ur:bytes/1-3/lpadaxcfaxhl").as_deref(),
            Ok([Piece::Part(_)])
        ));
    }
}
