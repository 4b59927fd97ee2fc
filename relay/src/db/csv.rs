//! `pay enqueue`'s CSV: a header row naming the columns of `stellar_payments` the anchor fills
//! (`id`, `destination`, `asset`, `amount` required; `customer`, `memo_type`, `memo` optional, in
//! any order), then one payout per row, quoted as RFC 4180 says. An empty optional field is
//! NULL; a missing `memo_type` is `none`. Content is checked when `pay` claims the row, as for
//! rows the anchor inserts with SQL.
use super::NewPayment;
use std::io::Read;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CsvError {
    #[error("line {line} of the CSV cannot be read: {message}")]
    Malformed { line: u64, message: String },
    #[error("the CSV has a column {0:?}; the columns are id, customer, destination, asset, amount, memo_type, memo")]
    UnknownColumn(String),
    #[error("the CSV names the column {0:?} twice")]
    DuplicateColumn(String),
    #[error("the CSV has no column {0:?} (the first line names the columns)")]
    MissingColumn(&'static str),
    #[error("line {line} of the CSV has an empty {column}")]
    Empty { line: u64, column: &'static str },
}

const COLUMNS: [&str; 7] = [
    "id",
    "customer",
    "destination",
    "asset",
    "amount",
    "memo_type",
    "memo",
];
const REQUIRED: [&str; 4] = ["id", "destination", "asset", "amount"];

/// Read every payout of a CSV document.
pub fn parse_payments(input: impl Read) -> Result<Vec<NewPayment>, CsvError> {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(input);
    let malformed = |e: ::csv::Error| CsvError::Malformed {
        line: e.position().map_or(1, |p| p.line()),
        message: e.to_string(),
    };
    // Where each known column is, by its index in COLUMNS.
    let mut at = [None; COLUMNS.len()];
    for (i, name) in reader.headers().map_err(malformed)?.iter().enumerate() {
        let name = name.trim();
        let k = COLUMNS
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
            .ok_or_else(|| CsvError::UnknownColumn(name.to_string()))?;
        if at[k].replace(i).is_some() {
            return Err(CsvError::DuplicateColumn(name.to_string()));
        }
    }
    for r in REQUIRED {
        let k = COLUMNS.iter().position(|c| *c == r).unwrap_or_default();
        if at[k].is_none() {
            return Err(CsvError::MissingColumn(r));
        }
    }
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(malformed)?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |k: usize| {
            at[k]
                .and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let required = |k: usize| {
            field(k).ok_or(CsvError::Empty {
                line,
                column: COLUMNS[k],
            })
        };
        out.push(NewPayment {
            id: required(0)?,
            customer: field(1),
            destination: required(2)?,
            asset: required(3)?,
            amount: required(4)?,
            memo_type: field(5).unwrap_or_else(|| "none".to_string()),
            memo: field(6),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_any_order_quoting_and_nulls() {
        let text = "amount,id,destination,asset,memo_type,memo,customer\r\n\
                    10.5,w-1,GDEST,USD:GISSUER,text,\"a, \"\"quoted\"\" memo\",c-9\r\n\
                    1,w-2,MDEST,native,,,\n\
                    \"2\",\"w-3\",GD,native,id,\"123\",\n";
        let rows = parse_payments(text.as_bytes()).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].id, "w-1");
        assert_eq!(rows[0].amount, "10.5");
        assert_eq!(rows[0].memo.as_deref(), Some("a, \"quoted\" memo"));
        assert_eq!(rows[0].customer.as_deref(), Some("c-9"));
        assert_eq!(rows[1].memo_type, "none");
        assert_eq!(
            (rows[1].memo.as_deref(), rows[1].customer.as_deref()),
            (None, None)
        );
        assert_eq!(
            (rows[2].memo_type.as_str(), rows[2].memo.as_deref()),
            ("id", Some("123"))
        );
    }

    #[test]
    fn a_line_break_inside_quotes_is_part_of_the_field() {
        let rows =
            parse_payments("id,destination,asset,amount,memo\nw,G,native,1,\"a\nb\"\n".as_bytes())
                .unwrap();
        assert_eq!(rows[0].memo.as_deref(), Some("a\nb"));
    }

    #[test]
    fn refusals() {
        let err = |t: &str| parse_payments(t.as_bytes()).unwrap_err().to_string();
        assert!(err("id,destination,asset\n").contains("no column \"amount\""));
        assert!(err("id,destination,asset,amount,fee\n").contains("column \"fee\""));
        assert!(err("id,id,destination,asset,amount\n").contains("twice"));
        assert!(err("id,destination,asset,amount\n,G,native,1\n")
            .contains("line 2 of the CSV has an empty id"));
        assert!(err("id,destination,asset,amount\nw,G,native\n").contains("line 2"));
    }
}
