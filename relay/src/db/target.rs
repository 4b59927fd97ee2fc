//! Where the database is: `--db` or `DATABASE_URL`, parsed, and shown without its password.
use super::DbError;
use std::fmt;
use std::path::PathBuf;

/// Where the database is: parsed from `--db` or `DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum Target {
    Sqlite(PathBuf),
    /// The URL as given (with any password); show it only through [`Target`]'s `Display`.
    Postgres(String),
}

impl Target {
    /// A `postgres://` or `postgresql://` URL is PostgreSQL; `sqlite:PATH` or `sqlite://PATH`,
    /// or anything without `://`, is a SQLite file. Any other scheme is refused rather than
    /// taken for a file name.
    pub fn parse(text: &str) -> Result<Target, DbError> {
        let lower = text.get(..13).unwrap_or(text).to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Ok(Target::Postgres(text.to_string()));
        }
        let path = if lower.starts_with("sqlite://") {
            &text[9..]
        } else if lower.starts_with("sqlite:") {
            &text[7..]
        } else if text.contains("://") || looks_like_keywords(text) {
            return Err(DbError::BadTarget(redact(text)));
        } else {
            text
        };
        if path.is_empty() {
            return Err(DbError::BadTarget(redact(text)));
        }
        Ok(Target::Sqlite(PathBuf::from(path)))
    }

    /// `DATABASE_URL`, if set and not empty.
    pub fn from_env() -> Option<Result<Target, DbError>> {
        std::env::var("DATABASE_URL")
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| Target::parse(&v))
    }
}

/// Never a password: `postgres://u:secret@h/db` shows as `postgres://u:***@h/db`.
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Sqlite(p) => write!(f, "{}", p.display()),
            Target::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Target({self})")
    }
}

/// libpq's `host=… user=… password=…` form, which only a URL may replace here: never a file
/// name (nor shown, since it may hold a password).
fn looks_like_keywords(text: &str) -> bool {
    let t = text.trim_start().to_ascii_lowercase();
    ["host=", "hostaddr=", "dbname=", "user=", "port="]
        .iter()
        .any(|k| t.starts_with(k))
        || t.contains(" password=")
}

/// A URL with its password (in the authority or a `password=` parameter) replaced by `***`.
pub fn redact(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| rest_start + i);
        // The last '@' of the authority ends the user information (a password may hold '@').
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                out.replace_range(rest_start + colon + 1..rest_start + at, "***");
            }
        }
    }
    if !out.contains("://") {
        // libpq's keyword form: `password=VALUE` up to the next space.
        return out
            .split(' ')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => kv.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" ");
    }
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let query = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => kv.to_string(),
            })
            .collect::<Vec<_>>()
            .join("&");
        out = format!("{head}{query}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    #[test]
    fn targets() {
        let pg = "postgresql://anchor:s3cret@db.example:5432/anchor?sslmode=disable";
        assert_eq!(Target::parse(pg).unwrap(), Target::Postgres(pg.into()));
        assert!(matches!(
            Target::parse("POSTGRES://u@h/d").unwrap(),
            Target::Postgres(_)
        ));
        for (text, path) in [
            ("relay.db", "relay.db"),
            ("/var/lib/airgap/relay.db", "/var/lib/airgap/relay.db"),
            ("postgres.db", "postgres.db"),
            ("sqlite:relay.db", "relay.db"),
            ("sqlite:///abs/relay.db", "/abs/relay.db"),
        ] {
            assert_eq!(
                Target::parse(text).unwrap(),
                Target::Sqlite(PathBuf::from(path)),
                "{text}"
            );
        }
        for bad in [
            "",
            "sqlite:",
            "sqlite://",
            "mysql://u:pw@h/d",
            "host=db user=anchor password=pw",
            "dbname=anchor password=pw",
        ] {
            let e = Target::parse(bad).unwrap_err().to_string();
            assert!(!e.contains("pw"), "{e}");
        }
    }

    #[test]
    fn passwords_never_shown() {
        let cases = [
            (
                "postgresql://anchor:s3cret@db:5432/anchor",
                "postgresql://anchor:***@db:5432/anchor",
            ),
            ("postgres://a:p@ss@w@h/d", "postgres://a:***@h/d"),
            ("postgres://anchor@h/d", "postgres://anchor@h/d"),
            (
                "postgres://h/d?user=a&password=s3cret&sslmode=require",
                "postgres://h/d?user=a&password=***&sslmode=require",
            ),
            ("postgres://a:s3cret@h", "postgres://a:***@h"),
        ];
        for (url, shown) in cases {
            assert_eq!(redact(url), shown);
            assert_eq!(Target::parse(url).unwrap().to_string(), shown);
            assert_eq!(
                format!("{:?}", Target::parse(url).unwrap()),
                format!("Target({shown})")
            );
        }
    }

    #[test]
    fn a_failed_connection_does_not_show_the_password() {
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        let target = Target::parse("postgres://anchor:s3cret@127.0.0.1:1/anchor").unwrap();
        let err = Db::open(&target).err().expect("nothing listens on port 1");
        let text = err.to_string();
        assert!(matches!(err, DbError::Open { .. }), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("anchor:***@127.0.0.1:1"), "{text}");
    }
}
