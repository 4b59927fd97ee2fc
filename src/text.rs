//! Untrusted text made safe for a terminal, and the test for text that must be printable.
//!
//! Everything an envelope, a plan, a policy or an account file carries is untrusted: memo text,
//! home domains, data entries, asset codes, network passphrases. Before any of it reaches a
//! terminal it goes through [`escape_bytes`]; a network passphrase, which names what a signature
//! is for, must be printable to be accepted at all ([`unprintable`]).

/// Untrusted bytes made safe to print: printable ASCII stays, everything else becomes `\xNN`
/// (control characters, escape sequences, right-to-left overrides, look-alike letters), and `\`
/// and `"` are escaped so quoted text cannot end early.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// The first character of `text` that must never be shown raw: a control character (C0, DEL,
/// C1: terminal escape sequences, NUL) or an invisible formatting character (bidirectional
/// overrides and isolates, zero-width characters, the byte-order mark), which can reorder or
/// hide what is shown.
pub fn unprintable(text: &str) -> Option<char> {
    text.chars().find(|&c| {
        c.is_control()
            || matches!(
                c,
                '\u{061c}'
                    | '\u{200b}'..='\u{200f}'
                    | '\u{202a}'..='\u{202e}'
                    | '\u{2060}'..='\u{2069}'
                    | '\u{feff}'
            )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_finds_what_cannot_be_shown() {
        assert_eq!(escape_bytes(b"a\x1b[2J\"\\"), "a\\x1b[2J\\\"\\\\");
        assert_eq!(escape_bytes("\u{202e}".as_bytes()), "\\xe2\\x80\\xae");
        assert_eq!(unprintable("Test SDF Network ; September 2015"), None);
        assert_eq!(unprintable("Réseau ; 2024"), None);
        assert_eq!(unprintable("a\u{1b}[2Jb"), Some('\u{1b}'));
        assert_eq!(unprintable("x\u{202e}y"), Some('\u{202e}'));
        assert_eq!(unprintable("nul\0"), Some('\0'));
        assert_eq!(unprintable("c1\u{9b}"), Some('\u{9b}'));
    }
}
