//! The review as text: every field, in words ([`Review::to_text`]), and the summary that stands
//! right above the question on an 80×24 terminal ([`Review::summary`]).
use super::{relative, time_words, Review, Severity};
use std::fmt::Write;

/// Columns the summary keeps within.
const WIDTH: usize = 80;

/// `text` in lines of at most `width` columns (words longer than that are cut), every line but
/// the first indented by `indent` spaces. Leading blanks are kept; words are separated by one
/// space.
pub fn wrap(text: &str, width: usize, indent: usize) -> Vec<String> {
    let width = width.max(2);
    let indent = indent.min(width / 2);
    let body = text.trim_start_matches(' ');
    let mut lines: Vec<String> = Vec::new();
    let mut line = " ".repeat((text.len() - body.len()).min(width / 2));
    let mut empty = true;
    for word in body.split(' ').filter(|w| !w.is_empty()) {
        if !empty && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::replace(&mut line, " ".repeat(indent)));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
        while line.chars().count() > width {
            let cut: String = line.chars().take(width).collect();
            let rest: String = line.chars().skip(width).collect();
            lines.push(cut);
            line = format!("{}{rest}", " ".repeat(indent));
        }
    }
    if !empty || lines.is_empty() {
        lines.push(line);
    }
    lines
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

impl Review {
    fn validity_words(&self) -> (String, String) {
        let min = if self.min_time == 0 {
            "no lower bound".to_string()
        } else {
            format!(
                "{} ({})",
                time_words(self.min_time),
                relative(self.min_time, self.now)
            )
        };
        let max = if self.max_time == 0 {
            "NO UPPER BOUND".to_string()
        } else {
            format!(
                "{} ({})",
                time_words(self.max_time),
                relative(self.max_time, self.now)
            )
        };
        (min, max)
    }

    fn fee_words(&self) -> String {
        let f = &self.fee;
        match &self.fee_source {
            None => format!(
                "{} stroops ({} XLM) at most, for {} operation{}: {} per operation",
                f.stroops,
                f.xlm,
                f.operations,
                plural(f.operations),
                f.per_operation
            ),
            Some(_) => format!(
                "{} stroops ({} XLM) at most, for {} operations (the inner transaction's {} and the fee bump itself): {} per operation, as stellar-core counts it",
                f.stroops,
                f.xlm,
                f.operations,
                f.operations.saturating_sub(1),
                f.per_operation
            ),
        }
    }

    /// The review as text for a terminal: every field the signature covers.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Transaction to review ({})", self.envelope_type);
        let _ = writeln!(
            s,
            "  network     {} — \"{}\"",
            self.network.to_uppercase(),
            self.network_passphrase
        );
        let muxed = |id: &Option<String>| match id {
            Some(id) => format!(" (as the muxed account with ID {id})"),
            None => String::new(),
        };
        let _ = writeln!(
            s,
            "  source      {}{}",
            self.source,
            muxed(&self.source_muxed_id)
        );
        let _ = writeln!(s, "  sequence    {}", self.sequence);
        let _ = writeln!(s, "  fee         {}", self.fee_words());
        if let Some(f) = &self.fee_source {
            let _ = writeln!(s, "  fee paid by {f}{}", muxed(&self.fee_source_muxed_id));
            if let Some(inner) = self.fee.inner_fee {
                let _ = writeln!(
                    s,
                    "  inner fee   {inner} stroops (the inner transaction's own bid; the outer fee above is what is paid)"
                );
            }
        }
        let (min, max) = self.validity_words();
        let _ = writeln!(s, "  valid from  {min}");
        let _ = writeln!(s, "  valid until {max}");
        let p = &self.preconditions;
        if let Some(l) = &p.ledger_bounds {
            let max = match l["max_ledger"].as_u64() {
                Some(0) | None => "no upper bound".to_string(),
                Some(m) => m.to_string(),
            };
            let _ = writeln!(
                s,
                "  ledgers     from {} to {max}",
                l["min_ledger"].as_u64().unwrap_or(0)
            );
        }
        if let Some(m) = &p.min_seq_num {
            let _ = writeln!(
                s,
                "  min seq num {m} (valid at any sequence number from it)"
            );
        }
        if p.min_seq_age != 0 {
            let _ = writeln!(
                s,
                "  min seq age {} seconds since the source's sequence number last changed",
                p.min_seq_age
            );
        }
        if p.min_seq_ledger_gap != 0 {
            let _ = writeln!(
                s,
                "  min ledger gap {} ledgers since the source's sequence number last changed",
                p.min_seq_ledger_gap
            );
        }
        for k in &p.extra_signers {
            let _ = writeln!(
                s,
                "  extra signer {} {}",
                k["kind"].as_str().unwrap_or_default(),
                k["key"].as_str().unwrap_or_default()
            );
        }
        match &self.memo {
            None => {
                let _ = writeln!(s, "  memo        none");
            }
            Some(m) => {
                let _ = writeln!(s, "  memo        {} {m}", self.memo_type);
            }
        }
        let _ = writeln!(s, "Operations ({}):", self.operations.len());
        for op in &self.operations {
            let src = if op.own_source {
                format!(" [source {}{}]", op.source, muxed(&op.source_muxed_id))
            } else {
                String::new()
            };
            let _ = writeln!(s, "  {}. {}{src}", op.index, op.kind);
            for e in &op.effects {
                let _ = writeln!(s, "       {e}");
            }
        }
        let _ = writeln!(s, "Transaction hash: {}", self.hash);
        let mut lists = vec![("Signatures", &self.signatures)];
        if let Some(inner) = &self.inner_signatures {
            lists.push(("Inner transaction's signatures", inner));
        }
        for (title, list) in lists {
            if list.is_empty() {
                let _ = writeln!(s, "{title}: none yet");
                continue;
            }
            let _ = writeln!(s, "{title} ({}):", list.len());
            for sig in list {
                match &sig.signer {
                    Some(k) => {
                        let _ = writeln!(s, "  hint {}  by {k}", sig.hint);
                    }
                    None => {
                        let _ = writeln!(s, "  hint {}  (signer not known here)", sig.hint);
                    }
                }
            }
        }
        for f in &self.findings {
            let tag = match f.severity {
                Severity::Danger => "!! DANGER",
                Severity::Warning => "!  warning",
            };
            let _ = writeln!(s, "{tag}: {}", f.message);
        }
        s
    }

    /// The few lines to read right before answering, within 80 columns: network, hash, source,
    /// sequence, fee, operations, validity, and every danger finding.
    pub fn summary(&self) -> String {
        let mut lines = vec!["Summary (check these before you answer):".to_string()];
        let mut field = |name: &str, value: String| {
            for (i, l) in wrap(&value, WIDTH - 13, 0).into_iter().enumerate() {
                lines.push(if i == 0 {
                    format!("  {name:<10} {l}")
                } else {
                    format!("{:13}{l}", "")
                });
            }
        };
        field(
            "network",
            format!(
                "{} \"{}\"",
                self.network.to_uppercase(),
                self.network_passphrase
            ),
        );
        field("hash", self.hash.clone());
        field("source", self.source.to_string());
        field("sequence", self.sequence.clone());
        field(
            "fee",
            format!(
                "{} stroops ({} XLM) at most{}",
                self.fee.stroops,
                self.fee.xlm,
                match &self.fee_source {
                    Some(f) => format!(", paid by {}", f.short()),
                    None => String::new(),
                }
            ),
        );
        field("operations", self.operations.len().to_string());
        let (_, max) = self.validity_words();
        field("valid", format!("until {max}"));
        let dangers: Vec<_> = self.dangers().collect();
        if dangers.is_empty() {
            lines.push("  no danger found".into());
        }
        for f in dangers {
            lines.extend(wrap(&format!("!! DANGER: {}", f.short), WIDTH, 4));
        }
        let mut s = lines.join("\n");
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_within_the_width() {
        let text = "!! DANGER: operation 3 adds or re-weights signer key GABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGHIJKLMNOPQRSTUVW on it";
        for l in wrap(text, 40, 4) {
            assert!(l.chars().count() <= 40, "{l:?}");
        }
        assert_eq!(wrap("short", 80, 4), vec!["short".to_string()]);
        assert_eq!(wrap("", 80, 4), vec![String::new()]);
    }
}
