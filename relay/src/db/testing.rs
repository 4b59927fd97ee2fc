//! A throwaway PostgreSQL server for tests: one per test process, a fresh database per test.
//!
//! [`pg_database`] answers, in this order:
//! 1. `AIRGAP_TEST_PG_URL` set: a server someone else runs (its user may `CREATE DATABASE`);
//! 2. `AIRGAP_TEST_PG=skip`: `None` (a developer without PostgreSQL; refused when `CI` is set);
//! 3. otherwise it starts a server from the PostgreSQL binaries (`AIRGAP_TEST_PG_BIN`, else the
//!    newest `/usr/lib/postgresql/*/bin`, else `initdb` on `PATH`) and panics, naming the remedy,
//!    if it cannot: a PostgreSQL test that silently skips is a test that cannot fail.
//!
//! The server lives in a temporary directory, listens only on a unix socket there (no port to
//! collide with), runs with `fsync=off` (a test's data need not survive a power cut) and, as
//! `initdb` refuses root, as the system user `postgres` (or `airgap-pg`, created if missing)
//! through `runuser`. A small watchdog shell stops it and removes the directory once the test
//! process is gone, however it ended.
use super::Target;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// The server of this process: its admin URL (database `postgres`), or why it could not start.
static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
static NEXT: AtomicU32 = AtomicU32::new(0);

/// A fresh, empty database for one test, or `None` when PostgreSQL tests are skipped on purpose.
///
/// # Panics
/// When no server can be had and skipping was not asked for.
pub fn pg_database() -> Option<Target> {
    let base = match std::env::var("AIRGAP_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            if std::env::var("AIRGAP_TEST_PG").as_deref() == Ok("skip") {
                if std::env::var_os("CI").is_some() {
                    panic!(
                        "AIRGAP_TEST_PG=skip is refused under CI: the PostgreSQL tests must run"
                    );
                }
                eprintln!("note: PostgreSQL test skipped (AIRGAP_TEST_PG=skip)");
                return None;
            }
            match SERVER.get_or_init(start_server) {
                Ok(url) => url.clone(),
                Err(why) => panic!(
                    "the PostgreSQL tests need a server, and none could be started: {why}\n  \
                     Install PostgreSQL (apt-get install postgresql-15), or set \
                     AIRGAP_TEST_PG_URL=postgresql://USER@HOST/postgres to a server where USER may \
                     CREATE DATABASE, or set AIRGAP_TEST_PG=skip to skip these tests on this machine."
                ),
            }
        }
    };
    let name = format!(
        "t_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    );
    let mut admin = postgres::Client::connect(&base, postgres::NoTls).unwrap_or_else(|e| {
        panic!(
            "cannot connect to the test server {}: {e}",
            super::redact(&base)
        )
    });
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name} failed: {e}"));
    Some(Target::Postgres(with_dbname(&base, &name)))
}

/// `url` with its database (the path) replaced by `name`.
pub fn with_dbname(url: &str, name: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..]
        .find(['?', '#'])
        .map_or(url.len(), |i| start + i);
    let authority_end = url[start..end].find('/').map_or(end, |i| start + i);
    format!("{}/{name}{}", &url[..authority_end], &url[end..])
}

fn start_server() -> Result<String, String> {
    let bin = bin_dir().ok_or("no PostgreSQL binaries (initdb) were found")?;
    let user = if is_root() {
        Some(system_user()?)
    } else {
        None
    };
    let dir = std::env::temp_dir().join(format!(
        "airgap-pg-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    std::fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    if let Some(user) = &user {
        let (uid, gid) = (id(&["-u", user])?, id(&["-g", user])?);
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
            .map_err(|e| format!("cannot give {} to {user}: {e}", dir.display()))?;
    }
    let data = dir.join("data");
    let as_user = |program: &str| {
        let path = bin.join(program);
        match &user {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(path);
                c
            }
            None => Command::new(path),
        }
    };
    // The watchdog first, so the directory goes (and the server stops) whatever fails next.
    let stop = match &user {
        Some(u) => format!("runuser -u {u} -- "),
        None => String::new(),
    };
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             {stop}'{pg_ctl}' -D '{data}' stop -m immediate >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            pg_ctl = bin.join("pg_ctl").display(),
            data = data.display(),
            dir = dir.display(),
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group: a ^C to the test run must not take the watchdog with it.
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start the watchdog shell: {e}"))?;
    run(as_user("initdb")
        .args([
            "--auth=trust",
            "--username=airgap",
            "--encoding=UTF8",
            "--no-locale",
        ])
        .arg("--no-sync")
        .arg("-D")
        .arg(&data))?;
    let options = format!(
        "-c listen_addresses='' -k {} -c fsync=off -c full_page_writes=off -c max_connections=200",
        dir.display()
    );
    run(as_user("pg_ctl")
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(dir.join("server.log"))
        .args(["-w", "-t", "60", "-o", &options, "start"]))
    .map_err(|e| {
        let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
        format!("{e}\n{log}")
    })?;
    Ok(format!(
        "postgresql://airgap@/postgres?host={}",
        dir.display()
    ))
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{:?} {:?} failed ({}): {}{}",
            cmd.get_program(),
            cmd.get_args().collect::<Vec<_>>(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("AIRGAP_TEST_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths).find(|p| Path::new(p).join("initdb").exists())
    })
}

fn is_root() -> bool {
    id(&["-u"]).is_ok_and(|uid| uid == 0)
}

fn id(args: &[&str]) -> Result<u32, String> {
    let out = Command::new("id")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run id: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| {
            format!(
                "id {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

/// The unprivileged user the server runs as: `postgres` if the machine has it (Debian's
/// packages create it), else `airgap-pg`, created as a system user.
fn system_user() -> Result<String, String> {
    for user in ["postgres", "airgap-pg"] {
        if id(&["-u", user]).is_ok() {
            return Ok(user.to_string());
        }
    }
    run(Command::new("useradd").args([
        "--system",
        "--no-create-home",
        "--shell",
        "/usr/sbin/nologin",
        "airgap-pg",
    ]))?;
    Ok("airgap-pg".to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn dbname_replaced() {
        use super::with_dbname;
        assert_eq!(
            with_dbname("postgresql://airgap@/postgres?host=/tmp/x", "t_1"),
            "postgresql://airgap@/t_1?host=/tmp/x"
        );
        assert_eq!(
            with_dbname("postgres://u:p@127.0.0.1:5432", "t_2"),
            "postgres://u:p@127.0.0.1:5432/t_2"
        );
        assert_eq!(
            with_dbname("postgres://u@h:1/db#x", "t_3"),
            "postgres://u@h:1/t_3#x"
        );
    }
}
