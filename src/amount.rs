//! Amounts: decimal strings with up to 7 places, as Horizon and the SDKs write them; stroops inside.
use std::fmt;
use std::str::FromStr;

/// Stroops in one unit of an asset.
pub const STROOPS_PER_UNIT: i64 = 10_000_000;

/// A non-negative amount in stroops (1 unit = 10,000,000 stroops).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(i64);

/// The largest amount Stellar can hold: i64::MAX stroops, `922337203685.4775807`.
pub const MAX: Amount = Amount(i64::MAX);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AmountError {
    #[error("\"{0}\" is not an amount; write a decimal number such as 250000 or 0.5")]
    NotANumber(String),
    #[error("\"{0}\" has more than 7 decimal places; Stellar amounts have at most 7")]
    TooPrecise(String),
    #[error("\"{0}\" is larger than the largest Stellar amount, 922337203685.4775807")]
    TooLarge(String),
    #[error("\"{0}\" is negative; amounts are never negative")]
    Negative(String),
    #[error("the amount must be more than zero")]
    Zero,
}

impl Amount {
    pub const ZERO: Amount = Amount(0);

    pub fn from_stroops(stroops: i64) -> Result<Amount, AmountError> {
        if stroops < 0 {
            return Err(AmountError::Negative(stroops.to_string()));
        }
        Ok(Amount(stroops))
    }

    pub fn stroops(self) -> i64 {
        self.0
    }

    /// Refuse zero: payments, clawbacks and starting balances must move something.
    pub fn positive(self) -> Result<Amount, AmountError> {
        if self.0 == 0 {
            Err(AmountError::Zero)
        } else {
            Ok(self)
        }
    }

    /// Horizon's form: always 7 decimal places (`"10.0000000"`).
    pub fn to_horizon_string(self) -> String {
        format!(
            "{}.{:07}",
            self.0 / STROOPS_PER_UNIT,
            self.0 % STROOPS_PER_UNIT
        )
    }
}

/// Stroops as an amount for people, for sums, which may exceed what one Stellar amount holds.
pub fn sum_words(stroops: i128) -> String {
    match i64::try_from(stroops).ok().map(Amount::from_stroops) {
        Some(Ok(a)) => a.to_string(),
        _ if stroops < 0 => format!("{stroops} stroops"),
        _ => format!("more than {MAX}"),
    }
}

impl fmt::Display for Amount {
    /// The shortest exact form: `250000`, `0.5`, `0.0000001`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / STROOPS_PER_UNIT;
        let frac = self.0 % STROOPS_PER_UNIT;
        if frac == 0 {
            write!(f, "{whole}")
        } else {
            let digits = format!("{frac:07}");
            write!(f, "{whole}.{}", digits.trim_end_matches('0'))
        }
    }
}

impl FromStr for Amount {
    type Err = AmountError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let not_a_number = || AmountError::NotANumber(text.to_string());
        if let Some(rest) = text.strip_prefix('-') {
            if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                return Err(AmountError::Negative(text.to_string()));
            }
            return Err(not_a_number());
        }
        let (whole, frac) = match text.split_once('.') {
            Some((w, f)) => (w, f),
            None => (text, ""),
        };
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() && frac.is_empty() || !digits(whole) || !digits(frac) {
            return Err(not_a_number());
        }
        if text.ends_with('.') {
            return Err(not_a_number());
        }
        if frac.len() > 7 {
            return Err(AmountError::TooPrecise(text.to_string()));
        }
        let too_large = || AmountError::TooLarge(text.to_string());
        let whole_stroops = if whole.is_empty() {
            0i64
        } else {
            // Leading zeros are harmless; a whole part longer than i64 can hold is simply too large.
            let w = whole.trim_start_matches('0');
            let w: i64 = if w.is_empty() {
                0
            } else {
                w.parse().map_err(|_| too_large())?
            };
            w.checked_mul(STROOPS_PER_UNIT).ok_or_else(too_large)?
        };
        let frac_stroops: i64 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<7}").parse().map_err(|_| not_a_number())?
        };
        whole_stroops
            .checked_add(frac_stroops)
            .map(Amount)
            .ok_or_else(too_large)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_format() {
        let cases = [
            ("0", 0),
            ("1", 10_000_000),
            ("0.5", 5_000_000),
            (".5", 5_000_000),
            ("0.0000001", 1),
            ("250000", 2_500_000_000_000),
            ("922337203685.4775807", i64::MAX),
            ("007.10", 71_000_000),
        ];
        for (text, stroops) in cases {
            assert_eq!(text.parse::<Amount>().unwrap().stroops(), stroops, "{text}");
        }
        assert_eq!(Amount(71_000_000).to_string(), "7.1");
        assert_eq!(Amount(i64::MAX).to_string(), "922337203685.4775807");
        assert_eq!(Amount(10_000_000).to_horizon_string(), "1.0000000");
    }

    #[test]
    fn refuse() {
        assert!(matches!(
            "1.00000001".parse::<Amount>(),
            Err(AmountError::TooPrecise(_))
        ));
        assert!(matches!(
            "922337203685.4775808".parse::<Amount>(),
            Err(AmountError::TooLarge(_))
        ));
        assert!(matches!(
            "99999999999999999999999".parse::<Amount>(),
            Err(AmountError::TooLarge(_))
        ));
        assert!(matches!(
            "-1".parse::<Amount>(),
            Err(AmountError::Negative(_))
        ));
        for bad in ["", ".", "1.", "1e5", "1,000", "abc", " 1 2", "+1", "0x10"] {
            assert!(bad.parse::<Amount>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn round_trip_samples() {
        for s in [
            0i64,
            1,
            9,
            10,
            1_234_567,
            10_000_000,
            123_456_789_012,
            i64::MAX,
            i64::MAX - 1,
        ] {
            let a = Amount(s);
            assert_eq!(a.to_string().parse::<Amount>().unwrap(), a);
            assert_eq!(a.to_horizon_string().parse::<Amount>().unwrap(), a);
        }
    }
}
