//! Writing text as QR codes: one code for a short envelope, and the renderers (PNG, SVG, terminal).
//!
//! A single code is made at error-correction level M ([`SINGLE_EC_LEVEL`]): it restores up to
//! about 15 % of damaged codewords, which covers glare on a screen or a smudge on paper, and it
//! still holds [`SINGLE_MAX_BYTES`] bytes of arbitrary text in one version-40 code. Level L would
//! hold 26 % more but leaves almost no margin on paper; docs/formats.md records the measurement.
//!
//! Multi-frame codes for long envelopes live in [`crate::frames`]; [`QrDensity`] chooses how much
//! each of those frames carries.

use image::{GrayImage, ImageEncoder, Luma};
use qrcode::render::{svg, unicode};
use qrcode::types::QrError;
use qrcode::{EcLevel, QrCode};

/// Error-correction level of [`single_qr`].
pub const SINGLE_EC_LEVEL: EcLevel = EcLevel::M;

/// Bytes of arbitrary text that always fit one code at [`SINGLE_EC_LEVEL`]: the byte-mode
/// capacity of a version-40 code at level M (ISO/IEC 18004, table 7). Text made only of digits
/// or upper-case letters can be somewhat longer, because the encoder switches to denser modes.
pub const SINGLE_MAX_BYTES: usize = 2331;

/// Pixels per module in [`render_png`] and [`render_svg`]: 8 px is 0.68 mm at 300 dpi, above the
/// 0.5 mm that phone cameras need on paper, and a version-40 code is still only 1480 px wide.
pub const MODULE_PX: u32 = 8;

/// Width of the light border, in modules, that every renderer here draws (the standard's minimum).
pub const QUIET_ZONE_MODULES: u32 = 4;

/// Errors from making or rendering a QR code.
#[derive(Debug, thiserror::Error)]
pub enum QrEncodeError {
    /// The text does not fit one code at the chosen error-correction level.
    #[error("the text is {bytes} bytes but one QR code holds at most {max} at this error-correction level")]
    TooLarge {
        /// Length of the text, in bytes.
        bytes: usize,
        /// Bytes of arbitrary text that always fit.
        max: usize,
    },
    /// The QR encoder rejected the text for another reason.
    #[error("the QR encoder rejected the text: {0}")]
    Encoder(QrError),
    /// Writing the PNG image failed.
    #[error("could not write the PNG image: {0}")]
    Png(#[source] image::ImageError),
    /// A density name other than `low`, `medium` or `high`.
    #[error("unknown QR density `{0}`; use low, medium or high")]
    UnknownDensity(String),
}

/// How much of an envelope each frame of an animated QR carries.
///
/// Denser frames mean fewer frames per envelope but smaller modules, which a camera must resolve.
/// The fragment sizes and error-correction levels were chosen by measurement; see docs/formats.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum QrDensity {
    /// 80-byte fragments in version-8 codes (level M), which even a weak decoder reads from a
    /// small camera image. A 10 KB envelope is 126 fragments.
    Low,
    /// The default: 120-byte fragments in version-9 codes (level L); 84 fragments for 10 KB.
    #[default]
    Medium,
    /// 200-byte fragments in version-11 codes (level L), for phone decoders (ZXing class);
    /// 51 fragments for 10 KB.
    High,
}

impl QrDensity {
    /// Largest fragment of the message, in bytes, that one frame carries (the UR
    /// `max_fragment_length`): 80, 120 and 200 bytes.
    pub fn max_fragment_len(self) -> usize {
        match self {
            QrDensity::Low => 80,
            QrDensity::Medium => 120,
            QrDensity::High => 200,
        }
    }

    /// Error-correction level of each frame: M for `Low`, L otherwise. A lost or unreadable
    /// frame is replaced by later fountain frames, so dense frames spend their capacity on data;
    /// `Low` keeps the margin for the worst cameras. With these levels the frames are QR versions
    /// 8, 9 and 11 (49, 53 and 61 modules across).
    pub fn ec_level(self) -> EcLevel {
        match self {
            QrDensity::Low => EcLevel::M,
            QrDensity::Medium | QrDensity::High => EcLevel::L,
        }
    }
}

impl std::str::FromStr for QrDensity {
    type Err = QrEncodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(QrDensity::Low),
            "medium" => Ok(QrDensity::Medium),
            "high" => Ok(QrDensity::High),
            _ => Err(QrEncodeError::UnknownDensity(s.to_string())),
        }
    }
}

impl std::fmt::Display for QrDensity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            QrDensity::Low => "low",
            QrDensity::Medium => "medium",
            QrDensity::High => "high",
        })
    }
}

/// Makes one QR code holding `text` at error-correction level M ([`SINGLE_EC_LEVEL`]), in the
/// smallest version that fits.
///
/// Fails with [`QrEncodeError::TooLarge`] when the text does not fit a version-40 code.
pub fn single_qr(text: &str) -> Result<QrCode, QrEncodeError> {
    code_at(text.as_bytes(), SINGLE_EC_LEVEL, SINGLE_MAX_BYTES)
}

/// Makes a code at `level`; `max` is the byte capacity reported when the data does not fit.
pub(crate) fn code_at(data: &[u8], level: EcLevel, max: usize) -> Result<QrCode, QrEncodeError> {
    QrCode::with_error_correction_level(data, level).map_err(|e| match e {
        QrError::DataTooLong => QrEncodeError::TooLarge {
            bytes: data.len(),
            max,
        },
        other => QrEncodeError::Encoder(other),
    })
}

/// Renders a code as a greyscale image: black modules on white, a 4-module quiet zone,
/// `module_px` pixels per module.
pub(crate) fn render_gray(code: &QrCode, module_px: u32) -> GrayImage {
    code.render::<Luma<u8>>()
        .quiet_zone(true)
        .module_dimensions(module_px, module_px)
        .dark_color(Luma([0]))
        .light_color(Luma([255]))
        .build()
}

/// Encodes a greyscale image as PNG.
pub(crate) fn gray_to_png(img: &GrayImage) -> Result<Vec<u8>, QrEncodeError> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::L8,
        )
        .map_err(QrEncodeError::Png)?;
    Ok(out)
}

/// Renders a code as a greyscale PNG: [`MODULE_PX`] pixels per module, black on white, with a
/// [`QUIET_ZONE_MODULES`]-module quiet zone.
pub fn render_png(code: &QrCode) -> Result<Vec<u8>, QrEncodeError> {
    gray_to_png(&render_gray(code, MODULE_PX))
}

/// Renders a code as a standalone SVG document: black on white, [`MODULE_PX`] user units per
/// module, with a [`QUIET_ZONE_MODULES`]-module quiet zone. It scales without blurring.
pub fn render_svg(code: &QrCode) -> String {
    code.render::<svg::Color>()
        .quiet_zone(true)
        .module_dimensions(MODULE_PX, MODULE_PX)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build()
}

/// ANSI SGR sequence for black text on a white background, from the fixed 256-colour cube
/// (indices 16 and 231), which terminal colour themes do not remap.
const DARK_ON_LIGHT: &str = "\x1b[38;5;16;48;5;231m";
/// ANSI SGR sequence that restores the terminal's own colours.
const RESET: &str = "\x1b[0m";

/// Renders a code for a terminal with Unicode half blocks (`▀`, `▄`, `█`): one character per
/// module across, two modules per line, so modules come out square in usual terminal fonts.
///
/// Each line is wrapped in ANSI colour codes for black on white and reset at its end, so a phone
/// reads the code on dark and light terminal themes alike. Lines end with `\n`; the 4-module
/// quiet zone is part of the output.
pub fn render_terminal(code: &QrCode) -> String {
    let plain: String = code
        .render::<unicode::Dense1x2>()
        .quiet_zone(true)
        .module_dimensions(1, 1)
        .dark_color(unicode::Dense1x2::Dark)
        .light_color(unicode::Dense1x2::Light)
        .build();
    let mut out = String::with_capacity(plain.len() + plain.lines().count() * 24);
    for line in plain.lines() {
        out.push_str(DARK_ON_LIGHT);
        out.push_str(line);
        out.push_str(RESET);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_capacity_matches_the_standard_table() {
        // ISO/IEC 18004 table 7: version 40-M holds 2331 bytes in byte mode.
        let fits = "a".repeat(SINGLE_MAX_BYTES);
        let code = single_qr(&fits).expect("2331 bytes fit 40-M");
        assert_eq!(code.version(), qrcode::Version::Normal(40));
        assert_eq!(code.error_correction_level(), EcLevel::M);
        match single_qr(&format!("{fits}a")) {
            Err(QrEncodeError::TooLarge { bytes, max }) => {
                assert_eq!((bytes, max), (SINGLE_MAX_BYTES + 1, SINGLE_MAX_BYTES));
            }
            Err(other) => panic!("expected TooLarge, got {other:?}"),
            Ok(code) => panic!("expected TooLarge, got a version {:?} code", code.version()),
        }
    }

    #[test]
    fn terminal_output_maps_every_module() {
        let code = single_qr("web+stellar:tx?xdr=AAAA").expect("fits");
        let text = render_terminal(&code);
        let w = code.width() + 2 * QUIET_ZONE_MODULES as usize;
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), w.div_ceil(2));
        let colors = code.to_colors();
        let dark = |x: usize, y: usize| -> bool {
            let q = QUIET_ZONE_MODULES as usize;
            if x < q || y < q || x >= q + code.width() || y >= q + code.width() {
                return false;
            }
            colors[(y - q) * code.width() + (x - q)] == qrcode::Color::Dark
        };
        for (row, line) in lines.iter().enumerate() {
            let body = line
                .strip_prefix(DARK_ON_LIGHT)
                .and_then(|l| l.strip_suffix(RESET))
                .expect("each line is wrapped in colour codes");
            let cells: Vec<char> = body.chars().collect();
            assert_eq!(cells.len(), w);
            for (x, c) in cells.iter().enumerate() {
                let want = match (dark(x, 2 * row), dark(x, 2 * row + 1)) {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    (false, false) => ' ',
                };
                assert_eq!(*c, want, "row {row} column {x}");
            }
        }
    }

    #[test]
    fn density_parses_and_prints() {
        for d in [QrDensity::Low, QrDensity::Medium, QrDensity::High] {
            assert_eq!(d.to_string().parse::<QrDensity>().ok(), Some(d));
        }
        assert!(matches!(
            "dense".parse::<QrDensity>(),
            Err(QrEncodeError::UnknownDensity(_))
        ));
    }
}
