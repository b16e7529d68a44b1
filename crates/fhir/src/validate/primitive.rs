//! The R4 primitive types: which JSON type each is written as, and their value formats (the
//! regexes of the R4 specification, written out by hand so the crate needs no regex engine).

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Primitive {
    Base64Binary,
    Boolean,
    Canonical,
    Code,
    Date,
    DateTime,
    Decimal,
    Id,
    Instant,
    Integer,
    Markdown,
    Oid,
    PositiveInt,
    String,
    Time,
    UnsignedInt,
    Uri,
    Url,
    Uuid,
    Xhtml,
}

const ALL: [(Primitive, &str); 20] = [
    (Primitive::Base64Binary, "base64Binary"),
    (Primitive::Boolean, "boolean"),
    (Primitive::Canonical, "canonical"),
    (Primitive::Code, "code"),
    (Primitive::Date, "date"),
    (Primitive::DateTime, "dateTime"),
    (Primitive::Decimal, "decimal"),
    (Primitive::Id, "id"),
    (Primitive::Instant, "instant"),
    (Primitive::Integer, "integer"),
    (Primitive::Markdown, "markdown"),
    (Primitive::Oid, "oid"),
    (Primitive::PositiveInt, "positiveInt"),
    (Primitive::String, "string"),
    (Primitive::Time, "time"),
    (Primitive::UnsignedInt, "unsignedInt"),
    (Primitive::Uri, "uri"),
    (Primitive::Url, "url"),
    (Primitive::Uuid, "uuid"),
    (Primitive::Xhtml, "xhtml"),
];

/// Why a primitive value is not acceptable.
#[derive(Debug, PartialEq)]
pub(crate) enum Problem {
    /// Wrong JSON type (e.g. a string where FHIR JSON needs a number); names the expected one.
    JsonType(&'static str),
    /// An empty string, which FHIR JSON never allows.
    Empty,
    /// Right JSON type, but the value breaks the type's format.
    Format(&'static str),
}

impl Primitive {
    pub fn from_name(name: &str) -> Option<Primitive> {
        ALL.iter().find(|(_, n)| *n == name).map(|(p, _)| *p)
    }

    pub fn name(self) -> &'static str {
        ALL.iter()
            .find(|(p, _)| *p == self)
            .map(|(_, n)| *n)
            .unwrap_or("?")
    }

    /// Checks the JSON type and format of a (non-null) value.
    pub fn check(self, value: &Value) -> Result<(), Problem> {
        match self {
            Primitive::Boolean => match value {
                Value::Bool(_) => Ok(()),
                _ => Err(Problem::JsonType("a boolean (true or false)")),
            },
            Primitive::Decimal => match value {
                Value::Number(_) => Ok(()),
                _ => Err(Problem::JsonType("a number")),
            },
            Primitive::Integer => integer(value, i64::from(i32::MIN)),
            Primitive::UnsignedInt => integer(value, 0),
            Primitive::PositiveInt => integer(value, 1),
            _ => match value {
                Value::String(s) => self.check_str(s),
                _ => Err(Problem::JsonType("a string")),
            },
        }
    }

    fn check_str(self, s: &str) -> Result<(), Problem> {
        // FHIR JSON: a primitive is either absent or has a value; "" is never valid.
        if s.is_empty() {
            return Err(Problem::Empty);
        }
        let (ok, expected) = match self {
            Primitive::String | Primitive::Markdown => {
                (is_string(s), "a string without vertical tab or form feed")
            }
            // Narrative.div; the XHTML content itself is not parsed.
            Primitive::Xhtml => (
                s.trim_start().starts_with("<div"),
                "XHTML with a <div> root",
            ),
            Primitive::Code => (
                is_code(s),
                "a code without leading, trailing or repeated whitespace",
            ),
            Primitive::Id => (is_id(s), "an id: 1-64 of A-Z a-z 0-9 - ."),
            Primitive::Uri | Primitive::Url | Primitive::Canonical => {
                (!s.chars().any(is_ws), "a URI without whitespace")
            }
            Primitive::Oid => (is_oid(s), "an OID: urn:oid:1.2.3"),
            Primitive::Uuid => (
                is_uuid(s),
                "a UUID: urn:uuid: and lower-case hex 8-4-4-4-12",
            ),
            Primitive::Base64Binary => (is_base64(s), "base64 data"),
            Primitive::Date => (is_date(s), "a date: YYYY, YYYY-MM or YYYY-MM-DD"),
            Primitive::DateTime => (
                is_date_time(s),
                "a dateTime: YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.f]+zz:zz",
            ),
            Primitive::Instant => (is_instant(s), "an instant: YYYY-MM-DDThh:mm:ss[.f]+zz:zz"),
            Primitive::Time => (is_time(s), "a time: hh:mm:ss[.f]"),
            Primitive::Boolean
            | Primitive::Decimal
            | Primitive::Integer
            | Primitive::UnsignedInt
            | Primitive::PositiveInt => {
                unreachable!("handled in check")
            }
        };
        if ok {
            Ok(())
        } else {
            Err(Problem::Format(expected))
        }
    }
}

/// integer, unsignedInt and positiveInt: a JSON integer (not `1.0`) in 32-bit range.
fn integer(value: &Value, min: i64) -> Result<(), Problem> {
    let Value::Number(n) = value else {
        return Err(Problem::JsonType("a number"));
    };
    match n.as_i64() {
        Some(i) if i < min => Err(Problem::Format(if min == 1 {
            "a positive integer"
        } else {
            "a non-negative integer"
        })),
        Some(i) if i <= i64::from(i32::MAX) && i >= i64::from(i32::MIN) => Ok(()),
        Some(_) => Err(Problem::Format("a 32-bit integer")),
        None if n.is_u64() => Err(Problem::Format("a 32-bit integer")),
        None => Err(Problem::Format("an integer (no fraction or exponent)")),
    }
}

/// The whitespace of `\s` in the (Java-flavoured) FHIR regexes.
fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0B' | '\x0C' | '\r')
}

/// `[ \r\n\t\S]+`: anything but the two odd whitespace characters.
fn is_string(s: &str) -> bool {
    !s.contains(['\x0B', '\x0C'])
}

/// `[^\s]+(\s[^\s]+)*`
fn is_code(s: &str) -> bool {
    let mut prev_ws = true; // so leading whitespace fails
    for c in s.chars() {
        let ws = is_ws(c);
        if ws && prev_ws {
            return false;
        }
        prev_ws = ws;
    }
    !prev_ws
}

/// `[A-Za-z0-9\-\.]{1,64}`
fn is_id(s: &str) -> bool {
    s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// `urn:oid:[0-2](\.(0|[1-9][0-9]*))+`
fn is_oid(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("urn:oid:") else {
        return false;
    };
    let mut arcs = rest.split('.');
    let first_ok = matches!(arcs.next(), Some("0" | "1" | "2"));
    let mut count = 0;
    let rest_ok = arcs.all(|arc| {
        count += 1;
        !arc.is_empty()
            && arc.bytes().all(|b| b.is_ascii_digit())
            && (arc == "0" || !arc.starts_with('0'))
    });
    first_ok && rest_ok && count > 0
}

/// `urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`
fn is_uuid(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("urn:uuid:") else {
        return false;
    };
    let groups: Vec<&str> = rest.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, len)| {
            g.len() == len
                && g.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// `(\s*([0-9a-zA-Z\+/=]){4}\s*)+`: groups of four, whitespace only between groups.
fn is_base64(s: &str) -> bool {
    let mut in_group = 0u8; // characters of the current group of four read so far
    let mut any = false;
    for c in s.chars() {
        if is_ws(c) {
            if in_group != 0 {
                return false;
            }
        } else if c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '=' {
            in_group = (in_group + 1) % 4;
            any = true;
        } else {
            return false;
        }
    }
    any && in_group == 0
}

/// A cursor over the ASCII bytes of a date/time value.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn new(s: &str) -> Cursor<'_> {
        Cursor {
            b: s.as_bytes(),
            i: 0,
        }
    }

    fn done(&self) -> bool {
        self.i == self.b.len()
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.b.get(self.i) == Some(&c);
        self.i += usize::from(hit);
        hit
    }

    /// Exactly `n` digits as a number.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let part = self.b.get(self.i..self.i + n)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.i += n;
        Some(part.iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0')))
    }

    /// A number of exactly `n` digits within `range`.
    fn number(&mut self, n: usize, range: std::ops::RangeInclusive<u32>) -> Option<u32> {
        self.digits(n).filter(|v| range.contains(v))
    }

    /// `YYYY[-MM[-DD]]`: how many parts were read (1..=3), with month and day in range.
    fn date(&mut self) -> Option<usize> {
        let year = self.number(4, 1..=9999)?;
        if !self.eat(b'-') {
            return Some(1);
        }
        let month = self.number(2, 1..=12)?;
        if !self.eat(b'-') {
            return Some(2);
        }
        self.number(2, 1..=days_in_month(year, month))?;
        Some(3)
    }

    /// `hh:mm:ss[.fff]`
    fn time(&mut self) -> Option<()> {
        self.number(2, 0..=23)?;
        self.eat(b':').then_some(())?;
        self.number(2, 0..=59)?;
        self.eat(b':').then_some(())?;
        self.number(2, 0..=60)?; // leap second
        if self.eat(b'.') {
            let start = self.i;
            while self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
                self.i += 1;
            }
            (self.i > start).then_some(())?;
        }
        Some(())
    }

    /// `Z|(+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)`
    fn zone(&mut self) -> Option<()> {
        if self.eat(b'Z') {
            return Some(());
        }
        (self.eat(b'+') || self.eat(b'-')).then_some(())?;
        let hours = self.number(2, 0..=14)?;
        self.eat(b':').then_some(())?;
        let minutes = self.number(2, 0..=59)?;
        (hours < 14 || minutes == 0).then_some(())
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if time::util::is_leap_year(year as i32) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn is_date(s: &str) -> bool {
    let mut c = Cursor::new(s);
    c.date().is_some() && c.done()
}

/// Partial dates, or a full date with time (seconds required) and then a mandatory zone.
fn is_date_time(s: &str) -> bool {
    let mut c = Cursor::new(s);
    match c.date() {
        Some(3) if c.eat(b'T') => c.time().and_then(|_| c.zone()).is_some() && c.done(),
        Some(_) => c.done(),
        None => false,
    }
}

fn is_instant(s: &str) -> bool {
    let mut c = Cursor::new(s);
    c.date() == Some(3) && c.eat(b'T') && c.time().and_then(|_| c.zone()).is_some() && c.done()
}

fn is_time(s: &str) -> bool {
    let mut c = Cursor::new(s);
    c.time().is_some() && c.done()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(p: Primitive, v: Value) -> bool {
        p.check(&v).is_ok()
    }

    #[test]
    fn formats() {
        use Primitive::*;
        let cases: &[(Primitive, Value, bool)] = &[
            (Date, json!("2024"), true),
            (Date, json!("2024-02"), true),
            (Date, json!("2024-02-29"), true),
            (Date, json!("2023-02-29"), false),
            (Date, json!("1900-02-29"), false),
            (Date, json!("2000-02-29"), true),
            (Date, json!("1990-13-01"), false),
            (Date, json!("1990-04-31"), false),
            (Date, json!("0000"), false),
            (Date, json!("2024-1-01"), false),
            (Date, json!("2024-01-01T10:00:00Z"), false),
            (DateTime, json!("2024-01-01T10:00:00Z"), true),
            (DateTime, json!("2024-01-01T10:00:00.123+14:00"), true),
            (DateTime, json!("2024-01-01T10:00:00+14:30"), false),
            (DateTime, json!("2024-01-01T10:00:00"), false),
            (DateTime, json!("2024-01-01T10:00Z"), false),
            (DateTime, json!("2024-01T10:00:00Z"), false),
            (DateTime, json!("2024-01-01T24:00:00Z"), false),
            (DateTime, json!("2024-01"), true),
            (Instant, json!("2024-01-01T10:00:00.5-05:00"), true),
            (Instant, json!("2024-01-01"), false),
            (Instant, json!("2024-01-01T10:00:00."), false),
            (Time, json!("23:59:60"), true),
            (Time, json!("23:59"), false),
            (Id, json!("a-B.9"), true),
            (Id, json!("a_b"), false),
            (Id, json!("x".repeat(65)), false),
            (Code, json!("a b"), true),
            (Code, json!(" a"), false),
            (Code, json!("a  b"), false),
            (Code, json!("a "), false),
            (Uri, json!("http://x y"), false),
            (Oid, json!("urn:oid:1.2.840.10008"), true),
            (Oid, json!("urn:oid:1.02"), false),
            (Oid, json!("urn:oid:3.1"), false),
            (
                Uuid,
                json!("urn:uuid:c757873d-ec9a-4326-a141-556f43239520"),
                true,
            ),
            (
                Uuid,
                json!("urn:uuid:C757873D-ec9a-4326-a141-556f43239520"),
                false,
            ),
            (Base64Binary, json!("aGVs bG8="), true),
            (Base64Binary, json!("aGVsbG8"), false),
            (Base64Binary, json!("aG!s"), false),
            (String, json!(""), false),
            (String, json!("line\nbreak"), true),
            (Markdown, json!("a\x0Bb"), false),
            (
                Xhtml,
                json!("<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"),
                true,
            ),
            (Xhtml, json!("plain text"), false),
            (Boolean, json!(true), true),
            (Boolean, json!("true"), false),
            (Integer, json!(-5), true),
            (Integer, json!(1.0), false),
            (Integer, json!(2_147_483_648i64), false),
            (Integer, json!("5"), false),
            (PositiveInt, json!(0), false),
            (UnsignedInt, json!(0), true),
            (UnsignedInt, json!(-1), false),
            (Decimal, json!(1.5), true),
            (Decimal, json!("1.5"), false),
        ];
        for (p, v, expected) in cases {
            assert_eq!(ok(*p, v.clone()), *expected, "{p:?} {v}");
        }
    }
}
