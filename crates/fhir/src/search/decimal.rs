//! Decimal numbers with their implicit precision range: `1.5` stands for [1.45, 1.55),
//! `100` for [99.5, 100.5), `1.00e2` for [99.5, 100.5).

/// A number parsed from text with the range its written precision implies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decimal {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// Parse a FHIR decimal (`-1.50`, `3`, `1.2e-3`). `None` when it is not one.
pub fn parse_decimal(s: &str) -> Option<Decimal> {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let int_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut decimals = 0i32;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        decimals = (i - start) as i32;
        if decimals == 0 {
            return None;
        }
    }
    if int_digits == 0 {
        return None;
    }
    let mut exponent = 0i32;
    if matches!(b.get(i), Some(b'e' | b'E')) {
        exponent = s[i + 1..].parse().ok()?;
    } else if i != b.len() {
        return None;
    }
    let value: f64 = s.parse().ok()?;
    Some(with_precision(value, decimals - exponent))
}

/// The range of a number read from JSON, whose written precision is no longer known: the
/// shortest form that reads back as the same number stands in for it. A number that JSON
/// wrote with a decimal point (`101.0`) has at least one decimal.
pub fn from_json(n: &serde_json::Number) -> Option<Decimal> {
    if n.is_i64() || n.is_u64() {
        return n.as_f64().map(|v| with_precision(v, 0));
    }
    let v = n.as_f64()?;
    let text = v.to_string();
    let decimals = text
        .find('.')
        .map_or(1, |dot| (text.len() - dot - 1) as i32);
    Some(with_precision(v, decimals))
}

/// `value` known to `decimals` places (negative: tens, hundreds, ...).
fn with_precision(value: f64, decimals: i32) -> Decimal {
    let half = 0.5 * 10f64.powi(-decimals);
    Decimal {
        value,
        low: value - half,
        high: value + half,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(s: &str) -> (f64, f64) {
        let d = parse_decimal(s).unwrap();
        (d.low, d.high)
    }

    #[test]
    fn precision_sets_the_range() {
        assert_eq!(range("100"), (99.5, 100.5));
        assert_eq!(range("-3"), (-3.5, -2.5));
        let (low, high) = range("1.5");
        assert!((low - 1.45).abs() < 1e-12 && (high - 1.55).abs() < 1e-12);
        let (low, high) = range("1.00e2");
        assert!((low - 99.5).abs() < 1e-9 && (high - 100.5).abs() < 1e-9);
        let (low, high) = range("1e2");
        assert_eq!((low, high), (50.0, 150.0));
        assert_eq!(parse_decimal("2.50").unwrap().value, 2.5);
    }

    #[test]
    fn json_numbers_match_the_same_text_searched() {
        for text in ["6.3", "100", "0.005", "-12.25", "101.0"] {
            let json: serde_json::Value = serde_json::from_str(text).unwrap();
            let n = json.as_number().unwrap();
            assert_eq!(from_json(n), parse_decimal(text), "{text}");
        }
    }

    #[test]
    fn rejects_non_numbers() {
        for bad in ["", "-", "1.", ".5", "1,5", "abc", "1e", "1.2.3", "1x"] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
    }
}
