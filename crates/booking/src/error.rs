//! Why a booking request failed, in words a patient or a receptionist can act on.

use carefront_scheduling::NotBookable;
use carefront_store::repository::RepoError;
use carefront_store::StoreError;

use crate::search::Offer;

#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    /// The request is malformed or breaks a rule of the schedule's definition (400/422).
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// The slot was taken by someone else; here are the nearest free ones instead (409).
    #[error("this time has just been taken by someone else")]
    Taken { alternatives: Vec<Offer> },
    /// Notice or horizon rule (422).
    #[error("{0}")]
    NotBookable(#[from] NotBookable),
    /// The clinic's policy does not allow it (cancelling too late, a hold of someone else).
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Repo(RepoError),
}

impl BookingError {
    pub fn invalid(why: impl Into<String>) -> Self {
        BookingError::Invalid(why.into())
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            BookingError::Invalid(_) => 400,
            BookingError::NotFound(_) => 404,
            BookingError::Taken { .. } => 409,
            BookingError::NotBookable(_) => 422,
            BookingError::Refused(_) => 403,
            BookingError::Repo(e) => e.status(),
        }
    }

    /// A write that lost a version race and is worth trying again from a fresh read.
    pub(crate) fn is_version_race(&self) -> bool {
        matches!(
            self,
            BookingError::Repo(RepoError::Store(StoreError::Conflict(_)))
        )
    }
}

impl From<RepoError> for BookingError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Conflict(_) => BookingError::Taken {
                alternatives: Vec::new(),
            },
            RepoError::NotFound(what) => BookingError::NotFound(what),
            other => BookingError::Repo(other),
        }
    }
}

impl From<StoreError> for BookingError {
    fn from(e: StoreError) -> Self {
        BookingError::Repo(RepoError::Store(e))
    }
}
