//! Key sources: where a signing key comes from, and reading the secrets that scripts hand over.
//!
//! A key source is written `prompt`, `env:VAR`, `file:PATH`, `keystore:PATH` or `mnemonic`
//! ([`KeySource`]); both binaries parse it here, and each decides which kinds it accepts and does
//! the prompting itself (this library never talks to a terminal). An environment variable or a
//! file only its owner can read is read here ([`read_env`], [`read_private_text`]), so the
//! permission rule is written once.
//!
//! What an operator writes where a key source belongs may be a secret pasted by mistake (a mail
//! client's “quotes” around it, a leading space): an unrecognised source is never echoed, in whole
//! or in part, by any error here; the error names the forms that are accepted instead.
use crate::account::looks_like_secret;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The kinds of key source, in the order help texts list them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    Prompt,
    Env,
    File,
    Keystore,
    Mnemonic,
}

impl SourceKind {
    /// Every kind, for a program that accepts them all.
    pub const ALL: &'static [SourceKind] = &[
        SourceKind::Prompt,
        SourceKind::Env,
        SourceKind::File,
        SourceKind::Keystore,
        SourceKind::Mnemonic,
    ];

    /// The word before the colon (or the whole source, for `prompt` and `mnemonic`).
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Prompt => "prompt",
            SourceKind::Env => "env",
            SourceKind::File => "file",
            SourceKind::Keystore => "keystore",
            SourceKind::Mnemonic => "mnemonic",
        }
    }

    /// How a source of this kind is written, for error messages and help.
    pub fn syntax(self) -> &'static str {
        match self {
            SourceKind::Prompt => "prompt",
            SourceKind::Env => "env:VAR",
            SourceKind::File => "file:PATH",
            SourceKind::Keystore => "keystore:PATH",
            SourceKind::Mnemonic => "mnemonic",
        }
    }

    fn from_name(name: &str) -> Option<SourceKind> {
        SourceKind::ALL.iter().copied().find(|k| k.name() == name)
    }

    /// Whether the kind takes an argument after the colon.
    fn takes_argument(self) -> bool {
        matches!(
            self,
            SourceKind::Env | SourceKind::File | SourceKind::Keystore
        )
    }
}

/// Where one signing key comes from. Its [`Display`](fmt::Display) is the source as written
/// (`env:ISSUER_SECRET`, `keystore:/media/usb/issuer.key`), which names where the secret is and
/// never holds it: [`KeySource::parse`] refuses a source whose variable name or path is itself a
/// secret key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// A secret key or mnemonic typed at a hidden prompt.
    Prompt,
    /// A SEP-5 mnemonic typed at a hidden prompt.
    Mnemonic,
    /// The environment variable `var` holds an `S…` key or a mnemonic (for scripts).
    Env { var: String },
    /// A file only its owner can read holds an `S…` key or a mnemonic.
    File { path: PathBuf },
    /// An encrypted keystore (docs/keystore.md), written `keystore:PATH`, or
    /// `keystore:PATH?passphrase-env=VAR` to read this keystore's passphrase from the environment
    /// variable `VAR` (so each keystore of a command can have its own).
    Keystore {
        path: PathBuf,
        passphrase_env: Option<String>,
    },
}

/// Why text is not a key source. No variant holds any of the text: it may be a secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SourceSyntaxError {
    #[error("the key source is not one of {}{}", forms(accepted), hint.words())]
    Unrecognised {
        accepted: &'static [SourceKind],
        hint: Hint,
    },
    #[error("{} key sources are not accepted here; use {}", kind.syntax(), forms(accepted))]
    NotAccepted {
        kind: SourceKind,
        accepted: &'static [SourceKind],
    },
    #[error("{}: needs {} after the colon", kind.name(), argument_words(*kind))]
    Empty { kind: SourceKind },
    #[error("what follows {}: looks like a secret key itself; {}: takes {}, and a secret is never taken on the command line", kind.name(), kind.name(), argument_words(*kind))]
    SecretInPlace { kind: SourceKind },
    #[error("keystore:PATH?passphrase-env=VAR needs the name of an environment variable after passphrase-env= (letters, digits and _, not starting with a digit)")]
    BadPassphraseEnv,
}

/// What an unrecognised source looked like, in words that hold none of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hint {
    None,
    /// It begins with a quotation mark (a mail or chat client's “curly” ones included).
    Quoted,
    /// It begins with a space, a tab or another blank.
    Blank,
    /// It holds what looks like a secret key.
    Secret,
}

impl Hint {
    /// The most useful thing to say: a secret first, however it is wrapped.
    fn of(text: &str) -> Hint {
        let first = text.chars().next();
        if looks_like_secret(text) {
            Hint::Secret
        } else if first.is_some_and(char::is_whitespace) {
            Hint::Blank
        } else if first.is_some_and(is_quote) {
            Hint::Quoted
        } else {
            Hint::None
        }
    }

    fn words(self) -> &'static str {
        match self {
            Hint::None => "",
            Hint::Quoted => " (it begins with a quotation mark)",
            Hint::Blank => " (it begins with a blank)",
            Hint::Secret => {
                " (it looks like a secret key itself, which is never taken on the command line)"
            }
        }
    }
}

fn argument_words(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Env => "the name of an environment variable",
        _ => "a path",
    }
}

/// `prompt, env:VAR or file:PATH`.
fn forms(accepted: &[SourceKind]) -> String {
    let names: Vec<&str> = accepted.iter().map(|k| k.syntax()).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => (*last).to_string(),
        None => String::new(),
    }
}

fn is_quote(c: char) -> bool {
    matches!(
        c,
        '"' | '\''
            | '`'
            | '“'
            | '”'
            | '„'
            | '‟'
            | '‘'
            | '’'
            | '‚'
            | '‛'
            | '«'
            | '»'
            | '‹'
            | '›'
            | '「'
            | '」'
            | '『'
            | '』'
            | '＂'
            | '＇'
    )
}

impl SourceSyntaxError {
    /// Whether what was refused has the shape of a secret key: it was typed (or pasted) on a
    /// command line, so it may be in a shell's history.
    pub fn held_a_secret(&self) -> bool {
        matches!(
            self,
            SourceSyntaxError::SecretInPlace { .. }
                | SourceSyntaxError::Unrecognised {
                    hint: Hint::Secret,
                    ..
                }
        )
    }
}

impl KeySource {
    /// Parse a key source, accepting only the kinds in `accepted`. Nothing of `text` appears in
    /// the error.
    pub fn parse(
        text: &str,
        accepted: &'static [SourceKind],
    ) -> Result<KeySource, SourceSyntaxError> {
        let (name, argument) = match text.split_once(':') {
            Some((name, argument)) => (name, Some(argument)),
            None => (text, None),
        };
        let kind = SourceKind::from_name(name)
            .filter(|k| k.takes_argument() == argument.is_some())
            .ok_or(SourceSyntaxError::Unrecognised {
                accepted,
                hint: Hint::of(text),
            })?;
        if !accepted.contains(&kind) {
            return Err(SourceSyntaxError::NotAccepted { kind, accepted });
        }
        let argument = argument.unwrap_or_default();
        if kind.takes_argument() {
            if argument.is_empty() {
                return Err(SourceSyntaxError::Empty { kind });
            }
            // `--key env:$SECRET` expands the secret where its variable's name belongs.
            if looks_like_secret(argument) {
                return Err(SourceSyntaxError::SecretInPlace { kind });
            }
        }
        Ok(match kind {
            SourceKind::Prompt => KeySource::Prompt,
            SourceKind::Mnemonic => KeySource::Mnemonic,
            SourceKind::Env => KeySource::Env {
                var: argument.to_string(),
            },
            SourceKind::File => KeySource::File {
                path: PathBuf::from(argument),
            },
            SourceKind::Keystore => {
                let (path, passphrase_env) = match argument.rsplit_once(PASSPHRASE_ENV) {
                    Some((path, var)) => {
                        if path.is_empty() {
                            return Err(SourceSyntaxError::Empty { kind });
                        }
                        if !is_env_name(var) {
                            return Err(SourceSyntaxError::BadPassphraseEnv);
                        }
                        (path, Some(var.to_string()))
                    }
                    None => (argument, None),
                };
                KeySource::Keystore {
                    path: PathBuf::from(path),
                    passphrase_env,
                }
            }
        })
    }

    pub fn kind(&self) -> SourceKind {
        match self {
            KeySource::Prompt => SourceKind::Prompt,
            KeySource::Mnemonic => SourceKind::Mnemonic,
            KeySource::Env { .. } => SourceKind::Env,
            KeySource::File { .. } => SourceKind::File,
            KeySource::Keystore { .. } => SourceKind::Keystore,
        }
    }
}

/// What follows a keystore's path to name its passphrase variable.
const PASSPHRASE_ENV: &str = "?passphrase-env=";

/// An environment variable's name as a shell writes one: letters, digits and `_`, not starting
/// with a digit.
fn is_env_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.kind().name();
        match self {
            KeySource::Prompt | KeySource::Mnemonic => f.write_str(name),
            KeySource::Env { var } => write!(f, "{name}:{var}"),
            KeySource::File { path } => write!(f, "{name}:{}", path.display()),
            KeySource::Keystore {
                path,
                passphrase_env,
            } => {
                write!(f, "{name}:{}", path.display())?;
                match passphrase_env {
                    Some(var) => write!(f, "{PASSPHRASE_ENV}{var}"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// The most bytes a secret file may hold (an `S…` key is 56 characters, a keystore a few hundred
/// bytes, a 24-word mnemonic under 250).
const MAX_SECRET_FILE: u64 = 64 * 1024;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    #[error("the environment variable {0} is not set, or is not text")]
    MissingEnv(String),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is readable by other users (mode {mode:04o}), so its secret may already be exposed"
    )]
    Exposed { path: PathBuf, mode: u32 },
    #[error("{0} does not hold text")]
    NotText(PathBuf),
    #[error("{0} is larger than any key file")]
    TooLarge(PathBuf),
}

pub fn read_env(var: &str) -> Result<Zeroizing<String>, SourceError> {
    std::env::var(var)
        .map(Zeroizing::new)
        .map_err(|_| SourceError::MissingEnv(var.to_string()))
}

/// Open `path` and check, on the opened file (so it cannot be swapped in between), that neither
/// its group nor others may read it.
fn open_private(path: &Path) -> Result<std::fs::File, SourceError> {
    let read = |source| SourceError::Read {
        path: path.to_path_buf(),
        source,
    };
    let f = std::fs::File::open(path).map_err(read)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = f.metadata().map_err(read)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(SourceError::Exposed {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    Ok(f)
}

/// The bytes of a private file (a keystore).
pub fn read_private_bytes(path: &Path) -> Result<Zeroizing<Vec<u8>>, SourceError> {
    let mut f = open_private(path)?;
    let mut buf = Zeroizing::new(Vec::new());
    f.by_ref()
        .take(MAX_SECRET_FILE + 1)
        .read_to_end(&mut buf)
        .map_err(|source| SourceError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    if buf.len() as u64 > MAX_SECRET_FILE {
        return Err(SourceError::TooLarge(path.to_path_buf()));
    }
    Ok(buf)
}

/// The text of a private file (an `S…` key or a mnemonic), trimmed.
pub fn read_private_text(path: &Path) -> Result<Zeroizing<String>, SourceError> {
    let bytes = read_private_bytes(path)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| SourceError::NotText(path.to_path_buf()))?;
    Ok(Zeroizing::new(text.trim().to_string()))
}

/// What a binary prints when it panics, in place of the panic's message: that message could hold
/// a secret (a key source pasted in the wrong place, a seed in a formatted value), so it is never
/// shown; only where the panic happened and what did not happen (`consequence`). Each binary
/// installs a panic hook that prints this (the library itself never prints).
pub fn panic_notice(
    program: &str,
    consequence: &str,
    location: Option<&std::panic::Location<'_>>,
) -> String {
    let at = location
        .map(|l| format!(" at {}:{}", l.file(), l.line()))
        .unwrap_or_default();
    format!(
        "{program}: an internal error stopped the program{at}; {consequence}.\n  This is a bug: please report it with the command you ran (without its secrets). Its message is not shown, since it could hold a secret."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every substring of `secret` of 4 characters or more, but for the leading `S` alone.
    fn leaks(text: &str, secret: &str) -> Option<String> {
        (0..secret.len())
            .flat_map(|i| (i + 4..=secret.len()).map(move |j| &secret[i..j]))
            .find(|part| text.contains(part))
            .map(str::to_string)
    }

    #[test]
    fn parses_every_form() {
        let all = SourceKind::ALL;
        for (text, want) in [
            ("prompt", KeySource::Prompt),
            ("mnemonic", KeySource::Mnemonic),
            (
                "env:ISSUER_SECRET",
                KeySource::Env {
                    var: "ISSUER_SECRET".into(),
                },
            ),
            (
                "file:/media/usb/k",
                KeySource::File {
                    path: "/media/usb/k".into(),
                },
            ),
            ("file:a:b", KeySource::File { path: "a:b".into() }),
            (
                "keystore:issuer.key",
                KeySource::Keystore {
                    path: "issuer.key".into(),
                    passphrase_env: None,
                },
            ),
            (
                "keystore:/usb/a?b.key?passphrase-env=ISSUER_PASS",
                KeySource::Keystore {
                    path: "/usb/a?b.key".into(),
                    passphrase_env: Some("ISSUER_PASS".into()),
                },
            ),
        ] {
            let got = KeySource::parse(text, all).unwrap();
            assert_eq!(got.to_string(), text);
            assert_eq!(got, want);
        }
        for text in [
            "prompt:x",
            "mnemonic:",
            "env",
            "ENV:X",
            "keystore",
            "",
            ":",
            "envv:X",
        ] {
            assert!(
                matches!(
                    KeySource::parse(text, all),
                    Err(SourceSyntaxError::Unrecognised { .. })
                ),
                "{text:?}"
            );
        }
        for bad in [
            "keystore:k?passphrase-env=",
            "keystore:k?passphrase-env=1X",
            "keystore:k?passphrase-env=A B",
        ] {
            assert_eq!(
                KeySource::parse(bad, all),
                Err(SourceSyntaxError::BadPassphraseEnv),
                "{bad}"
            );
        }
        assert_eq!(
            KeySource::parse("keystore:?passphrase-env=X", all),
            Err(SourceSyntaxError::Empty {
                kind: SourceKind::Keystore
            })
        );
        assert_eq!(
            KeySource::parse("file:", all),
            Err(SourceSyntaxError::Empty {
                kind: SourceKind::File
            })
        );
        let relay = &[SourceKind::Env, SourceKind::File];
        let err = KeySource::parse("keystore:k", relay).unwrap_err();
        assert_eq!(
            err.to_string(),
            "keystore:PATH key sources are not accepted here; use env:VAR or file:PATH"
        );
    }

    /// A secret pasted where a source belongs, however it is wrapped, is never echoed.
    #[test]
    fn never_echoes_a_secret() {
        let secret = "SDHBILK5NP66BBV74ZLEWH2MXVI2QX5GIEX22RMMZH3X2VY3DCJGN7XN";
        let wrapped = [
            secret.to_string(),
            format!("“{secret}”"),
            format!("\"{secret}\""),
            format!("'{secret}'"),
            format!(" {secret}"),
            format!("\t{secret}"),
            format!("é{secret}"),
            format!("{secret}xyz!"),
            format!("env:{secret}"),
            format!("file: {secret}"),
            format!("keystore:“{secret}”"),
            format!("{}:{}", &secret[..20], &secret[20..]),
        ];
        for accepted in [SourceKind::ALL, &[SourceKind::Env, SourceKind::File]] {
            for text in &wrapped {
                let err = KeySource::parse(text, accepted).expect_err(text);
                let shown = format!("{err} {err:?}");
                assert_eq!(leaks(&shown, secret), None, "{shown}");
                if !matches!(err, SourceSyntaxError::SecretInPlace { .. }) {
                    assert!(shown.contains("env:VAR"), "names the forms: {shown}");
                }
            }
        }
        let hint = |text: &str| match KeySource::parse(text, SourceKind::ALL) {
            Err(SourceSyntaxError::Unrecognised { hint, .. }) => hint,
            other => panic!("{other:?}"),
        };
        assert_eq!(hint(&format!("“{secret}”")), Hint::Secret);
        assert_eq!(hint(&format!("\t{secret}")), Hint::Secret);
        assert_eq!(hint(secret), Hint::Secret);
        assert_eq!(hint("“env:ISSUER”"), Hint::Quoted);
        assert_eq!(hint("\tenv:ISSUER"), Hint::Blank);
        assert_eq!(hint("promt"), Hint::None);
    }

    #[cfg(unix)]
    #[test]
    fn only_private_files() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("k");
        std::fs::write(&p, " SABC \n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            read_private_text(&p),
            Err(SourceError::Exposed { mode: 0o644, .. })
        ));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_private_text(&p).unwrap().as_str(), "SABC");
    }
}
