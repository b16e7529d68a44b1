//! A date of birth given at sign-up: a full calendar date, not in the future, not before 1900.

use std::fmt;

use time::{Date, Month};

/// A full date of birth. "Today" is a parameter of `parse` so that the check is a pure
/// function (and tests do not depend on the clock). Personal data, so `Debug` hides it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BirthDate(Date);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BirthDateError {
    #[error("a birth date is written YYYY-MM-DD, such as 1990-04-23")]
    Format,
    #[error("the birth date is not a day of the calendar")]
    NoSuchDay,
    #[error("the birth date is in the future")]
    InFuture,
    #[error("the birth date is before 1900")]
    TooEarly,
}

const EARLIEST_YEAR: i32 = 1900;

impl BirthDate {
    pub fn parse(input: &str, today: Date) -> Result<Self, BirthDateError> {
        let s = input.trim();
        let b = s.as_bytes();
        // Exactly ten ASCII characters with dashes at 4 and 7: FHIR's partial dates (YYYY,
        // YYYY-MM) and signed or extended years are not what a sign-up form should accept.
        let digits_at = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(BirthDateError::Format);
        }
        if !digits_at(0..4) || !digits_at(5..7) || !digits_at(8..10) {
            return Err(BirthDateError::Format);
        }
        let year: i32 = s[0..4].parse().map_err(|_| BirthDateError::Format)?;
        let month: u8 = s[5..7].parse().map_err(|_| BirthDateError::Format)?;
        let day: u8 = s[8..10].parse().map_err(|_| BirthDateError::Format)?;
        let month = Month::try_from(month).map_err(|_| BirthDateError::NoSuchDay)?;
        let date =
            Date::from_calendar_date(year, month, day).map_err(|_| BirthDateError::NoSuchDay)?;
        if date > today {
            return Err(BirthDateError::InFuture);
        }
        if year < EARLIEST_YEAR {
            return Err(BirthDateError::TooEarly);
        }
        Ok(Self(date))
    }

    pub fn date(&self) -> Date {
        self.0
    }

    /// The FHIR `date` form, YYYY-MM-DD, for `Patient.birthDate`.
    pub fn to_fhir_date(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }
}

impl fmt::Debug for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BirthDate(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::{BirthDate, BirthDateError};
    use time::macros::date;

    const TODAY: time::Date = date!(2026 - 11 - 23);

    fn parse(s: &str) -> Result<BirthDate, BirthDateError> {
        BirthDate::parse(s, TODAY)
    }

    #[test]
    fn accepts_real_past_dates_including_today_and_1900() {
        assert_eq!(parse(" 1990-04-23 ").unwrap().date(), date!(1990 - 04 - 23));
        assert_eq!(parse("2026-11-23").unwrap().date(), TODAY);
        assert_eq!(parse("1900-01-01").unwrap().to_fhir_date(), "1900-01-01");
        assert_eq!(parse("2024-02-29").unwrap().to_fhir_date(), "2024-02-29");
    }

    #[test]
    fn rejects_other_formats() {
        for bad in [
            "",
            "1990",
            "1990-04",
            "23/04/1990",
            "1990-4-23",
            "1990-04-23T00:00",
            "+990-04-23",
            "1990 04 23",
            "１９９０-04-23",
        ] {
            assert_eq!(parse(bad), Err(BirthDateError::Format), "{bad:?}");
        }
    }

    #[test]
    fn rejects_impossible_future_and_too_early_dates() {
        assert_eq!(parse("2023-02-29"), Err(BirthDateError::NoSuchDay));
        assert_eq!(parse("1990-13-01"), Err(BirthDateError::NoSuchDay));
        assert_eq!(parse("1990-00-10"), Err(BirthDateError::NoSuchDay));
        assert_eq!(parse("1990-04-31"), Err(BirthDateError::NoSuchDay));
        assert_eq!(parse("2026-11-24"), Err(BirthDateError::InFuture));
        assert_eq!(parse("1899-12-31"), Err(BirthDateError::TooEarly));
    }

    #[test]
    fn debug_hides_the_date() {
        assert!(!format!("{:?}", parse("1990-04-23").unwrap()).contains("1990"));
    }
}
