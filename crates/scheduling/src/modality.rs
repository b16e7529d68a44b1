//! How a visit happens.

/// How a visit happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Modality {
    /// The patient comes to the clinic.
    InClinic,
    /// A video call.
    Video,
    /// A clinician visits the patient at home.
    Home,
}

impl Modality {
    /// Every modality, in display order.
    pub const ALL: [Modality; 3] = [Modality::InClinic, Modality::Video, Modality::Home];

    /// The stable code stored in records and URLs: `in-clinic`, `video` or `home`.
    pub fn code(self) -> &'static str {
        match self {
            Modality::InClinic => "in-clinic",
            Modality::Video => "video",
            Modality::Home => "home",
        }
    }

    /// The modality whose [`code`](Modality::code) is `code`, if any (exact match).
    pub fn parse(code: &str) -> Option<Modality> {
        Modality::ALL.into_iter().find(|m| m.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(Modality::InClinic.code(), "in-clinic");
        assert_eq!(Modality::Video.code(), "video");
        assert_eq!(Modality::Home.code(), "home");
    }

    #[test]
    fn parse_is_the_inverse_of_code() {
        for m in Modality::ALL {
            assert_eq!(Modality::parse(m.code()), Some(m));
        }
        assert_eq!(Modality::parse("Video"), None);
        assert_eq!(Modality::parse(""), None);
        assert_eq!(Modality::parse("in clinic"), None);
    }
}
