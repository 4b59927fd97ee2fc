//! The progress line of a long run (`submit` of a directory): on a terminal (stderr), one line
//! redrawn in place — `[12/200] success 10 · failed 1 · pending 1` — cleared before any other
//! line is written (records, notes, [`say`]) and drawn again after it. Off a terminal, and with
//! `--json`, nothing.
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

struct Line {
    total: u64,
    counts: [u64; 4],
    drawn: bool,
}

/// One run at a time per process, so the line is the process's.
static LINE: Mutex<Option<Line>> = Mutex::new(None);

fn lock() -> std::sync::MutexGuard<'static, Option<Line>> {
    LINE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Show progress for `total` blobs if stderr is a terminal and the output is for people.
pub(crate) fn start(total: u64, json: bool) {
    if json || total == 0 || !std::io::stderr().is_terminal() {
        return;
    }
    *lock() = Some(Line {
        total,
        counts: [0; 4],
        drawn: false,
    });
    redraw();
}

/// Count one decided (or pending) blob: `status` as `Status as usize`.
pub(crate) fn count(status: usize) {
    if let Some(line) = lock().as_mut() {
        if let Some(c) = line.counts.get_mut(status) {
            *c += 1;
        }
    }
}

/// Clear the line (before another line is written).
pub(crate) fn clear() {
    if let Some(line) = lock().as_mut() {
        if line.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            line.drawn = false;
        }
    }
}

/// Draw the line again (after another line was written).
pub(crate) fn redraw() {
    if let Some(line) = lock().as_mut() {
        let [success, failed, pending, error] = line.counts;
        let done = success + failed + pending + error;
        let mut text = format!("[{done}/{}] success {success}", line.total);
        for (n, what) in [(failed, "failed"), (pending, "pending"), (error, "error")] {
            if n > 0 {
                text.push_str(&format!(" · {what} {n}"));
            }
        }
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{text}");
        let _ = err.flush();
        line.drawn = true;
    }
}

/// The run is over: clear the line and stop.
pub(crate) fn finish() {
    clear();
    *lock() = None;
}

/// A note for the operator on stderr (`airgap-relay: …`), around the progress line if one is shown.
pub fn say(msg: impl AsRef<str>) {
    clear();
    eprintln!("airgap-relay: {}", msg.as_ref());
    redraw();
}
