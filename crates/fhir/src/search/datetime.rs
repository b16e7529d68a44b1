//! FHIR dates as time ranges: a value covers the whole span its precision leaves open
//! (`2020-03` is all of March), in microseconds since the Unix epoch, start inclusive and end
//! exclusive. Values without a time zone are taken as UTC.

/// The start of an open-ended period (no `start`).
pub const OPEN_START: i64 = i64::MIN;
/// The end of an open-ended period (no `end`).
pub const OPEN_END: i64 = i64::MAX;

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// The range of a FHIR `date`, `dateTime` or `instant`: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, or
/// `YYYY-MM-DDThh:mm[:ss[.fff…]][Z|±hh:mm]`. `None` when it is not such a value.
pub fn date_range(s: &str) -> Option<(i64, i64)> {
    let b = s.as_bytes();
    let year = digits(b, 0, 4)?;
    if year == 0 {
        return None;
    }
    if b.len() == 4 {
        return Some((day_micros(year, 1, 1), day_micros(year + 1, 1, 1)));
    }
    expect(b, 4, b'-')?;
    let month = digits(b, 5, 2)?;
    if !(1..=12).contains(&month) {
        return None;
    }
    if b.len() == 7 {
        let (ny, nm) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
        return Some((day_micros(year, month, 1), day_micros(ny, nm, 1)));
    }
    expect(b, 7, b'-')?;
    let day = digits(b, 8, 2)?;
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let midnight = day_micros(year, month, day);
    if b.len() == 10 {
        return Some((midnight, midnight + MICROS_PER_DAY));
    }
    expect(b, 10, b'T')?;
    let hour = digits(b, 11, 2)?;
    expect(b, 13, b':')?;
    let minute = digits(b, 14, 2)?;
    if hour > 23 || minute > 59 {
        return None;
    }
    let mut pos = 16;
    let mut micros = (hour * 3600 + minute * 60) * MICROS_PER_SECOND;
    let mut width = 60 * MICROS_PER_SECOND;
    if b.get(pos) == Some(&b':') {
        // Leap seconds (60) count as the last second of the minute.
        let second = digits(b, pos + 1, 2)?;
        if second > 60 {
            return None;
        }
        let second = second.min(59);
        micros += second * MICROS_PER_SECOND;
        width = MICROS_PER_SECOND;
        pos += 3;
        if b.get(pos) == Some(&b'.') {
            pos += 1;
            let start = pos;
            while b.get(pos).is_some_and(u8::is_ascii_digit) {
                pos += 1;
            }
            let n = pos - start;
            if n == 0 {
                return None;
            }
            // Digits past the sixth are below our microsecond resolution.
            let kept = n.min(6);
            let fraction = digits(b, start, kept)?;
            micros += fraction * 10i64.pow(6 - kept as u32);
            width = 10i64.pow(6 - kept as u32);
        }
    }
    let offset = match b.get(pos) {
        None => 0,
        Some(b'Z') if pos + 1 == b.len() => 0,
        // A `+` in a URL query decodes to a space when the client did not escape it.
        Some(sign @ (b'+' | b'-' | b' ')) => {
            let h = digits(b, pos + 1, 2)?;
            expect(b, pos + 3, b':')?;
            let m = digits(b, pos + 4, 2)?;
            if pos + 6 != b.len() || h > 14 || m > 59 {
                return None;
            }
            let secs = (h * 3600 + m * 60) * MICROS_PER_SECOND;
            if *sign == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => return None,
    };
    let start = midnight + micros - offset;
    Some((start, start + width))
}

/// Microseconds at midnight UTC of a civil date (proleptic Gregorian).
fn day_micros(year: i64, month: i64, day: i64) -> i64 {
    days_from_civil(year, month, day) * MICROS_PER_DAY
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let slice = b.get(at..at + n)?;
    slice.iter().try_fold(0i64, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

fn expect(b: &[u8], at: usize, c: u8) -> Option<()> {
    (b.get(at) == Some(&c)).then_some(())
}

#[cfg(test)]
fn micros(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> i64 {
    day_micros(y, mo, d) + ((h * 60 + mi) * 60 + s) * MICROS_PER_SECOND
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_dates_cover_their_whole_span() {
        assert_eq!(date_range("1970-01-01"), Some((0, MICROS_PER_DAY)));
        assert_eq!(
            date_range("2020"),
            Some((micros(2020, 1, 1, 0, 0, 0), micros(2021, 1, 1, 0, 0, 0)))
        );
        assert_eq!(
            date_range("2020-03"),
            Some((micros(2020, 3, 1, 0, 0, 0), micros(2020, 4, 1, 0, 0, 0)))
        );
        assert_eq!(
            date_range("2020-12"),
            Some((micros(2020, 12, 1, 0, 0, 0), micros(2021, 1, 1, 0, 0, 0)))
        );
        assert_eq!(
            date_range("2020-02-29"),
            Some((micros(2020, 2, 29, 0, 0, 0), micros(2020, 3, 1, 0, 0, 0)))
        );
        // 1,583,020,800 s is 2020-03-01T00:00:00Z.
        assert_eq!(
            date_range("2020-03").unwrap().0,
            1_583_020_800 * MICROS_PER_SECOND
        );
        assert!(date_range("1960-05-01").unwrap().0 < 0);
    }

    #[test]
    fn times_with_zones_fractions_and_precision() {
        let t = micros(2015, 2, 7, 11, 28, 17);
        assert_eq!(
            date_range("2015-02-07T13:28:17.239+02:00"),
            Some((t + 239_000, t + 240_000))
        );
        assert_eq!(
            date_range("2015-02-07T11:28:17Z"),
            Some((t, t + MICROS_PER_SECOND))
        );
        assert_eq!(
            date_range("2015-02-07T11:28:17"),
            Some((t, t + MICROS_PER_SECOND))
        );
        assert_eq!(
            date_range("2015-02-07T06:28:17-05:00"),
            Some((t, t + MICROS_PER_SECOND))
        );
        assert_eq!(
            date_range("2015-02-07T13:28:17 02:00"),
            Some((t, t + MICROS_PER_SECOND))
        );
        assert_eq!(
            date_range("2015-02-07T11:28Z"),
            Some((t - 17 * MICROS_PER_SECOND, t + 43 * MICROS_PER_SECOND))
        );
        assert_eq!(
            date_range("2015-02-07T11:28:17.1234567Z"),
            Some((t + 123_456, t + 123_457))
        );
    }

    #[test]
    fn rejects_malformed_dates() {
        for bad in [
            "",
            "20",
            "2020-13",
            "2020-02-30",
            "2021-02-29",
            "2020-1",
            "2020-01-01T",
            "2020-01-01T25:00",
            "2020-01-01T10:00:00+1",
            "2020-01-01T10:00:00.",
            "2020-01-01T10:00:00Zx",
            "abcd",
            "0000",
            "2020/01/01",
        ] {
            assert_eq!(date_range(bad), None, "{bad}");
        }
    }
}
