//! Animated QR frames: an envelope too long for one QR code, as a multi-part Uniform Resource.
//!
//! The format is Blockchain Commons UR (BCR-2020-005) with fountain codes (BCR-2020-006), the
//! one Sparrow, Keystone and BlueWallet use for PSBTs, with UR type `bytes`: the message is the
//! raw XDR envelope wrapped in one CBOR byte string. The first frames carry the fragments in
//! order; the rest are fountain frames (XOR mixes of fragments), so a reader that misses frames
//! keeps watching the loop and finishes from whichever frames it catches, in any order.
//! docs/formats.md describes the bytes exactly, so another program can read our frames.
//!
//! The `ur` crate does the fountain coding, bytewords and CRC-32 checks; `minicbor` the CBOR.

use std::collections::BTreeSet;
use std::fmt;

use image::codecs::gif::{GifEncoder, Repeat};
use image::{Delay, Frame, Rgba, RgbaImage};
use qrcode::{QrCode, Version};

use crate::qr::encode::{code_at, gray_to_png, render_gray, QrDensity, QrEncodeError, MODULE_PX};

/// The fewest fountain frames after the pure ones (see [`encode_frames`]).
pub const MIN_FOUNTAIN_FRAMES: usize = 24;

/// UR type of our frames.
pub const UR_TYPE: &str = "bytes";

/// Largest message, in bytes, that we encode or accept. Stellar envelopes are far smaller; the
/// bound keeps a forged part from making the decoder allocate for a huge message.
pub const MAX_MESSAGE_LEN: usize = 256 * 1024;

/// Time each frame of [`frames_gif`] stays on screen: 200 ms, five frames a second. A phone
/// camera delivers 30 images a second and its decoder keeps up with a few of them, so each frame
/// stays long enough to be caught. A 10 KB envelope at `Medium` is 84 fragments, 252 frames; a
/// reader needs about 100 of them, some 20 s.
pub const GIF_FRAME_DELAY_MS: u32 = 200;

/// Pixels per module in [`frames_gif`]: 8, as in [`frames_png`], so a version-11 frame is 552 px
/// square and still shows at one image pixel per screen pixel on a laptop.
pub const GIF_MODULE_PX: u32 = 8;

/// Identifies one message: the CRC-32 and length of the UR message (the CBOR byte string), as
/// every multi-part frame states them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageId {
    /// CRC-32 (ISO-HDLC, as in zlib) of the message.
    pub checksum: u32,
    /// Length of the message in bytes.
    pub length: usize,
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "crc32 {:08x}, {} bytes", self.checksum, self.length)
    }
}

/// Errors from encoding or reassembling frames.
#[derive(Debug, thiserror::Error)]
pub enum FramesError {
    /// Nothing to encode: an empty envelope or no frames.
    #[error("there is nothing to encode")]
    Empty,
    /// The envelope is larger than [`MAX_MESSAGE_LEN`].
    #[error("the message is {len} bytes but frames carry at most {max}")]
    TooLarge {
        /// Length of the message, in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The text does not start with `ur:`.
    #[error("this text is not a Uniform Resource (it does not start with `ur:`)")]
    NotUr,
    /// A UR of another type than `bytes`.
    #[error("this is a `ur:{0}` resource but stellar-airgap frames are `ur:bytes`")]
    WrongType(String),
    /// The part's CRC-32 does not match: it was damaged in transit.
    #[error("this part is damaged: its checksum does not match its content")]
    Checksum,
    /// The UR is not well formed.
    #[error("this part is malformed: {0}")]
    Malformed(String),
    /// The part belongs to a different message than the parts fed before it.
    #[error(
        "this part belongs to another message ({found}) than the parts before it ({expected})"
    )]
    OtherMessage {
        /// The message the earlier parts belong to.
        expected: MessageId,
        /// The message this part belongs to.
        found: MessageId,
    },
    /// Same message, but cut into fragments of another size than the earlier parts.
    #[error("this part cuts the message into {found} fragments but the parts before it cut it into {expected}; use frames from one encoding")]
    OtherFragmentSize {
        /// Fragment count of the earlier parts.
        expected: usize,
        /// Fragment count of this part.
        found: usize,
    },
    /// All fragments arrived but the message does not match its checksum.
    #[error("the reassembled message does not match its checksum")]
    MessageChecksum,
    /// The reassembled message is not one CBOR byte string.
    #[error("the reassembled message is not a CBOR byte string: {0}")]
    NotByteString(String),
    /// Frames ended before the message was complete.
    #[error("the frames hold only {resolved} of the {total} fragments of the message")]
    Incomplete {
        /// Fragments recovered.
        resolved: usize,
        /// Fragments in the message.
        total: usize,
    },
    /// A frame could not be made into a QR code.
    #[error("frame {index} cannot be drawn as a QR code: {source}")]
    Qr {
        /// Zero-based position of the frame.
        index: usize,
        /// Why.
        #[source]
        source: QrEncodeError,
    },
    /// Writing the CBOR byte string failed.
    #[error("could not write the CBOR byte string: {0}")]
    Cbor(String),
    /// Writing the GIF failed.
    #[error("could not write the GIF animation: {0}")]
    Gif(#[source] image::ImageError),
}

/// Wraps the envelope in a CBOR byte string (the `ur:bytes` message).
fn wrap(envelope: &[u8]) -> Result<Vec<u8>, FramesError> {
    let mut e = minicbor::Encoder::new(Vec::with_capacity(envelope.len() + 9));
    e.bytes(envelope)
        .map_err(|e| FramesError::Cbor(e.to_string()))?;
    Ok(e.into_writer())
}

/// Unwraps the `ur:bytes` message: exactly one definite-length CBOR byte string.
fn unwrap(message: &[u8]) -> Result<Vec<u8>, FramesError> {
    let mut d = minicbor::Decoder::new(message);
    let bytes = d
        .bytes()
        .map_err(|e| FramesError::NotByteString(e.to_string()))?;
    if d.position() != message.len() {
        return Err(FramesError::NotByteString(
            "bytes follow the byte string".to_string(),
        ));
    }
    Ok(bytes.to_vec())
}

fn crc32(data: &[u8]) -> u32 {
    crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(data)
}

fn map_ur(e: ur::ur::Error) -> FramesError {
    use ur::bytewords::Error as B;
    match e {
        ur::ur::Error::Bytewords(B::InvalidChecksum) => FramesError::Checksum,
        ur::ur::Error::Bytewords(b) => {
            FramesError::Malformed(format!("its body is not minimal bytewords ({b})"))
        }
        ur::ur::Error::Fountain(ur::fountain::Error::InvalidChecksum) => {
            FramesError::MessageChecksum
        }
        ur::ur::Error::InvalidScheme => FramesError::NotUr,
        other => FramesError::Malformed(other.to_string()),
    }
}

/// The header of a multi-part fountain part: the CBOR array
/// `[seqNum, seqLen, messageLen, checksum, data]`.
struct PartHeader {
    seq: u32,
    fragments: usize,
    id: MessageId,
}

fn part_header(payload: &[u8]) -> Result<PartHeader, FramesError> {
    let bad = |what: &str| FramesError::Malformed(what.to_string());
    let cbor = |e: minicbor::decode::Error| FramesError::Malformed(format!("bad CBOR ({e})"));
    let mut d = minicbor::Decoder::new(payload);
    if d.array().map_err(cbor)? != Some(5) {
        return Err(bad("the part is not a five-element CBOR array"));
    }
    let seq = d.u32().map_err(cbor)?;
    let fragments = d.u32().map_err(cbor)? as usize;
    let length = d.u32().map_err(cbor)? as usize;
    let checksum = d.u32().map_err(cbor)?;
    let data_len = d.bytes().map_err(cbor)?.len();
    if d.position() != payload.len() {
        return Err(bad("bytes follow the part's CBOR array"));
    }
    if seq == 0 || fragments == 0 || length == 0 || data_len == 0 {
        return Err(bad(
            "sequence number, fragment count, message length and data must not be zero",
        ));
    }
    if length > MAX_MESSAGE_LEN {
        return Err(FramesError::TooLarge {
            len: length,
            max: MAX_MESSAGE_LEN,
        });
    }
    // A fountain encoder cuts a message of L bytes into k fragments of ceil(L / k) bytes.
    if data_len != length.div_ceil(fragments) || fragments != length.div_ceil(data_len) {
        return Err(bad(
            "the fragment size does not match the message length and fragment count",
        ));
    }
    Ok(PartHeader {
        seq,
        fragments,
        id: MessageId { checksum, length },
    })
}

/// Encodes an envelope (raw XDR bytes, not base64) as UR frames, upper case for QR alphanumeric
/// mode.
///
/// When the message fits one fragment of `density`, the result is one single-part UR
/// (`UR:BYTES/…`). Otherwise it is `3n` multi-part URs (`UR:BYTES/seq-n/…`): the `n` fragments in
/// order, then `2n` fountain parts, to be shown in a loop. With `2n` a reader that misses a
/// random quarter of the frames completes in one pass only about 80 % of the time; with `3n`,
/// in every trial we ran (tests/blobs.rs).
pub fn encode_frames(envelope_xdr: &[u8], density: QrDensity) -> Result<Vec<String>, FramesError> {
    if envelope_xdr.is_empty() {
        return Err(FramesError::Empty);
    }
    let message = wrap(envelope_xdr)?;
    if message.len() > MAX_MESSAGE_LEN {
        return Err(FramesError::TooLarge {
            len: message.len(),
            max: MAX_MESSAGE_LEN,
        });
    }
    let max_fragment = density.max_fragment_len();
    if message.len() <= max_fragment {
        let single = ur::ur::try_encode(&message, &ur::Type::Bytes).map_err(map_ur)?;
        return Ok(vec![single.to_ascii_uppercase()]);
    }
    let mut encoder = ur::Encoder::bytes(&message, max_fragment).map_err(map_ur)?;
    // The pure fragments, then three times as many fountain frames, and never fewer than
    // MIN_FOUNTAIN_FRAMES: with short messages (a handful of fragments) a random quarter of 3n frames
    // missed left the set incomplete in about 1 case in 100, and 3n frames of mid-sized ones about
    // 1 in 300; with 4n, 1 in 1,000 at 9 fragments and none at the other sizes tried (1,000 trials
    // each, examples/fountain_drop.rs). A reader watching the loop simply waits for more frames.
    let n = encoder.fragment_count();
    let count = n + (3 * n).max(MIN_FOUNTAIN_FRAMES);
    (0..count)
        .map(|_| {
            encoder
                .next_part()
                .map(|p| p.to_ascii_uppercase())
                .map_err(map_ur)
        })
        .collect()
}

/// How far reassembly has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The envelope is complete; [`FrameAssembler::finish`] returns it.
    pub complete: bool,
    /// Distinct parts accepted so far (repeats are not counted).
    pub parts_seen: usize,
    /// Fragments in the message: the least number of parts that can complete it. Expect to need
    /// some more than this when frames are missed. Zero before the first part.
    pub parts_needed: usize,
    /// Fragments recovered so far, directly or from fountain parts.
    pub fragments_resolved: usize,
}

/// Reassembles an envelope from UR frames fed in any order, with repeats.
#[derive(Default)]
pub struct FrameAssembler {
    decoder: ur::Decoder,
    id: Option<MessageId>,
    fragments: Option<usize>,
    /// Sequence numbers of the parts accepted; 0 stands for a single-part UR.
    seen: BTreeSet<u32>,
    envelope: Option<Vec<u8>>,
}

impl FrameAssembler {
    /// An empty assembler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one frame's text (`ur:bytes/…`, any case, surrounding white space ignored).
    ///
    /// A bad part is an error that leaves the assembler as it was, so a caller may report it and
    /// go on feeding; a part of another message is an error that names both messages. Feeding
    /// after completion checks that the part belongs to the message and changes nothing. The
    /// exception: when the last fragment arrives and the whole message fails its CRC-32 or is not
    /// a CBOR byte string, the error ([`FramesError::MessageChecksum`],
    /// [`FramesError::NotByteString`]) comes back for every later part; start a new assembler.
    pub fn feed(&mut self, part: &str) -> Result<Progress, FramesError> {
        let text = part.trim();
        let lower = text.to_ascii_lowercase();
        let rest = lower.strip_prefix("ur:").ok_or(FramesError::NotUr)?;
        let (kind, _) = rest
            .split_once('/')
            .ok_or_else(|| FramesError::Malformed("it has no `/` after the type".to_string()))?;
        if kind != UR_TYPE {
            return Err(FramesError::WrongType(kind.to_string()));
        }
        let (shape, payload) = ur::decode(text).map_err(map_ur)?;
        match shape {
            ur::ur::Kind::SinglePart => {
                let id = MessageId {
                    checksum: crc32(&payload),
                    length: payload.len(),
                };
                self.check_id(id)?;
                if self.envelope.is_none() {
                    self.envelope = Some(unwrap(&payload)?);
                }
                self.id = Some(id);
                self.seen.insert(0);
            }
            ur::ur::Kind::MultiPart => {
                let header = part_header(&payload)?;
                self.check_id(header.id)?;
                if let Some(expected) = self.fragments {
                    if expected != header.fragments {
                        return Err(FramesError::OtherFragmentSize {
                            expected,
                            found: header.fragments,
                        });
                    }
                }
                if self.envelope.is_none() {
                    self.decoder.receive(text).map_err(map_ur)?;
                    if self.decoder.complete() {
                        if let Some(message) = self.decoder.message().map_err(map_ur)? {
                            self.envelope = Some(unwrap(&message)?);
                        }
                    }
                }
                self.id = Some(header.id);
                self.fragments = Some(header.fragments);
                self.seen.insert(header.seq);
            }
        }
        Ok(self.progress())
    }

    fn check_id(&self, found: MessageId) -> Result<(), FramesError> {
        match self.id {
            Some(expected) if expected != found => {
                Err(FramesError::OtherMessage { expected, found })
            }
            _ => Ok(()),
        }
    }

    /// Where reassembly stands.
    pub fn progress(&self) -> Progress {
        let complete = self.envelope.is_some();
        let parts_needed = match (self.fragments, self.id) {
            (Some(n), _) => n,
            (None, Some(_)) => 1,
            (None, None) => 0,
        };
        let fragments_resolved = if complete {
            parts_needed
        } else {
            self.decoder.resolved_fragment_count().unwrap_or(0)
        };
        Progress {
            complete,
            parts_seen: self.seen.len(),
            parts_needed,
            fragments_resolved,
        }
    }

    /// The envelope (raw XDR bytes) once complete, else `None`.
    pub fn finish(self) -> Option<Vec<u8>> {
        self.envelope
    }
}

/// Reassembles an envelope from a list of frames (for example the lines of a file), stopping
/// at the first bad frame.
pub fn decode_frames<S: AsRef<str>>(
    parts: impl IntoIterator<Item = S>,
) -> Result<Vec<u8>, FramesError> {
    let mut assembler = FrameAssembler::new();
    for part in parts {
        if assembler.feed(part.as_ref())?.complete {
            break;
        }
    }
    let p = assembler.progress();
    assembler.finish().ok_or(FramesError::Incomplete {
        resolved: p.fragments_resolved,
        total: p.parts_needed,
    })
}

/// QR codes for the frames, all of one version (the smallest that holds the longest part) so
/// every frame has the same size.
fn frame_codes(parts: &[String], density: QrDensity) -> Result<Vec<QrCode>, FramesError> {
    if parts.is_empty() {
        return Err(FramesError::Empty);
    }
    let level = density.ec_level();
    let upper: Vec<String> = parts.iter().map(|p| p.to_ascii_uppercase()).collect();
    let mut version = Version::Normal(1);
    for (index, part) in upper.iter().enumerate() {
        let code = code_at(part.as_bytes(), level, 0)
            .map_err(|source| FramesError::Qr { index, source })?;
        if let (Version::Normal(a), Version::Normal(b)) = (code.version(), version) {
            if a > b {
                version = code.version();
            }
        }
    }
    upper
        .iter()
        .enumerate()
        .map(|(index, part)| {
            QrCode::with_version(part.as_bytes(), version, level).map_err(|e| FramesError::Qr {
                index,
                source: QrEncodeError::Encoder(e),
            })
        })
        .collect()
}

/// Renders each frame as a PNG ([`MODULE_PX`] pixels per module, 4-module quiet zone), all the
/// same size. Parts are upper-cased first so the QR codes use alphanumeric mode.
pub fn frames_png(parts: &[String], density: QrDensity) -> Result<Vec<Vec<u8>>, FramesError> {
    frame_codes(parts, density)?
        .iter()
        .enumerate()
        .map(|(index, code)| {
            gray_to_png(&render_gray(code, MODULE_PX))
                .map_err(|source| FramesError::Qr { index, source })
        })
        .collect()
}

/// Renders the frames as a looping animated GIF for a screen: [`GIF_MODULE_PX`] pixels per
/// module, 4-module quiet zone, [`GIF_FRAME_DELAY_MS`] per frame.
pub fn frames_gif(parts: &[String], density: QrDensity) -> Result<Vec<u8>, FramesError> {
    let codes = frame_codes(parts, density)?;
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut out);
        encoder
            .set_repeat(Repeat::Infinite)
            .map_err(FramesError::Gif)?;
        for code in &codes {
            let gray = render_gray(code, GIF_MODULE_PX);
            let rgba = RgbaImage::from_fn(gray.width(), gray.height(), |x, y| {
                let v = gray.get_pixel(x, y).0[0];
                Rgba([v, v, v, 255])
            });
            let delay = Delay::from_numer_denom_ms(GIF_FRAME_DELAY_MS, 1);
            encoder
                .encode_frame(Frame::from_parts(rgba, 0, 0, delay))
                .map_err(FramesError::Gif)?;
        }
    }
    Ok(out)
}

/// Why [`write_frames_dir`] wrote nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FramesDirError {
    #[error(transparent)]
    Frames(#[from] FramesError),
    #[error(transparent)]
    File(#[from] crate::files::FileError),
}

/// Write `message` as QR frames into a new directory `dir`: `frame-001.png`, `frame-002.png`, …
/// ([`frames_png`]) and the `ur:` parts as text, one a line, in `parts.txt`. The directory appears
/// whole or not at all ([`crate::files::write_dir_atomic`]); an existing one is replaced only
/// when `replace`. Returns the number of frames. The one frames writer of both binaries.
pub fn write_frames_dir(
    dir: &std::path::Path,
    message: &[u8],
    density: QrDensity,
    replace: bool,
) -> Result<usize, FramesDirError> {
    let files = frames_files(message, density)?;
    crate::files::write_dir_atomic(dir, replace, |tmp| write_files(tmp, &files))?;
    Ok(files.len() - 1)
}

/// The files of a frames directory (see [`write_frames_dir`]): `frame-NNN.png` for each frame,
/// then `parts.txt`, as (name, bytes).
pub fn frames_files(
    message: &[u8],
    density: QrDensity,
) -> Result<Vec<(String, Vec<u8>)>, FramesError> {
    let parts = encode_frames(message, density)?;
    let pngs = frames_png(&parts, density)?;
    let mut files: Vec<(String, Vec<u8>)> = pngs
        .into_iter()
        .enumerate()
        .map(|(i, png)| (format!("frame-{:03}.png", i + 1), png))
        .collect();
    files.push(("parts.txt".into(), (parts.join("\n") + "\n").into_bytes()));
    Ok(files)
}

/// Write [`frames_files`] into a directory that exists.
pub fn write_files(
    dir: &std::path::Path,
    files: &[(String, Vec<u8>)],
) -> Result<(), crate::files::FileError> {
    for (name, bytes) in files {
        crate::files::write_in(dir, name, bytes)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbor_wrapping_is_a_byte_string() {
        // RFC 8949: major type 2; lengths 24..=255 take a one-byte length after 0x58.
        assert_eq!(wrap(&[1, 2, 3]).ok(), Some(vec![0x43, 1, 2, 3]));
        let long = vec![7u8; 300];
        let w = wrap(&long).expect("wraps");
        assert_eq!(&w[..3], &[0x59, 0x01, 0x2c]);
        assert_eq!(unwrap(&w).ok(), Some(long));
        assert!(matches!(
            unwrap(&[0x43, 1, 2, 3, 0]),
            Err(FramesError::NotByteString(_))
        ));
        assert!(matches!(
            unwrap(&[0x63, 1, 2, 3]),
            Err(FramesError::NotByteString(_))
        ));
    }

    #[test]
    fn single_part_for_short_messages() {
        let frames = encode_frames(b"short", QrDensity::Medium).expect("encodes");
        assert_eq!(frames.len(), 1);
        assert!(frames[0].starts_with("UR:BYTES/"));
        assert_eq!(decode_frames(&frames).ok(), Some(b"short".to_vec()));
    }

    #[test]
    fn damaged_text_is_an_error_not_a_panic() {
        let envelope: Vec<u8> = (0..700u32).map(|i| (i * 7 + 3) as u8).collect();
        let frames = encode_frames(&envelope, QrDensity::Low).expect("encodes");
        let part = &frames[frames.len() - 1];
        let mut inputs: Vec<String> = (0..part.len()).map(|i| part[..i].to_string()).collect();
        for (i, c) in part.char_indices().step_by(7) {
            for replacement in ["", "/", "-", "0", "Z", "é", "99999999999"] {
                let mut t = part.clone();
                t.replace_range(i..i + c.len_utf8(), replacement);
                inputs.push(t);
            }
        }
        inputs.extend(
            [
                "ur:bytes/",
                "ur:bytes//",
                "ur:bytes/0-0/aeae",
                "ur:bytes/4294967295-4294967295/aeae",
                "ur:bytes/1-1",
                "ur:/x",
                "UR:BYTES/é",
            ]
            .map(String::from),
        );
        for input in &inputs {
            let mut a = FrameAssembler::new();
            a.feed(&frames[0]).expect("valid part");
            if a.feed(input).is_ok() {
                assert_eq!(a.progress().parts_needed, frames.len() / 3, "{input}");
            }
        }
    }

    #[test]
    fn refuses_other_types_and_non_urs() {
        let mut a = FrameAssembler::new();
        assert!(matches!(
            a.feed("ur:crypto-psbt/1-2/lpadaobkcywkwmhfwfia"),
            Err(FramesError::WrongType(t)) if t == "crypto-psbt"
        ));
        assert!(matches!(a.feed("hello"), Err(FramesError::NotUr)));
        assert!(matches!(
            encode_frames(&[], QrDensity::Low),
            Err(FramesError::Empty)
        ));
    }
}
