//! Reading back what crossed the air gap. Whatever an operator hands the online side — a blob
//! file, a photo of a QR code, an animated GIF, frames in any order, a SEP-7 URI — is turned into
//! the pieces it carries: whole envelopes, or `ur:` parts that must be assembled with others.
//! No I/O here: callers pass bytes and name their inputs in messages.
use crate::envelope::{self, EnvelopeError};
use crate::frames::{FrameAssembler, FramesError};
use crate::qr::decode::QrDecodeError;
use crate::sep7::Sep7Error;
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
    #[error("the QR code holds neither a transaction envelope, a SEP-7 URI nor a ur: frame: {0}")]
    NotAnEnvelope(EnvelopeError),
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

/// Whether the bytes are an image (PNG, JPEG, GIF, …) rather than text.
pub fn is_image(bytes: &[u8]) -> bool {
    image::guess_format(bytes).is_ok()
}

/// What the bytes of one input hold: an image is read for QR codes (every frame of a GIF); text
/// is a SEP-7 URI, `ur:` parts one per line, or a base64 envelope.
pub fn pieces(bytes: &[u8]) -> Result<Vec<Piece>, CarryError> {
    if is_image(bytes) {
        let payloads = crate::qr::decode::decode_animation(bytes)?;
        let mut out = Vec::new();
        for p in payloads {
            let text = String::from_utf8_lossy(&p);
            let found = text_pieces(&text)?;
            // A code that is neither our envelope, a URI nor a frame: say so plainly.
            if let [Piece::Envelope { base64, .. }] = found.as_slice() {
                if let Err(e) = envelope::decode(base64) {
                    return Err(CarryError::NotAnEnvelope(e));
                }
            }
            out.extend(found);
        }
        return Ok(out);
    }
    text_pieces(&String::from_utf8_lossy(bytes))
}

fn text_pieces(text: &str) -> Result<Vec<Piece>, CarryError> {
    let t = text.trim();
    if t.len() >= 12 && t[..12].eq_ignore_ascii_case("web+stellar:") {
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
            .all(|l| l.len() > 3 && l[..3].eq_ignore_ascii_case("ur:"))
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
