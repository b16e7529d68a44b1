//! Work that must happen in the same transaction as a resource write: derived tables a
//! workflow queries (the booking index of slots) and invariants that span resources (one
//! appointment per slot). A hook sees every write, whichever interaction made it (REST,
//! transaction Bundle, a workflow service), so the invariant cannot be bypassed.

use async_trait::async_trait;

use super::{RepoError, Repository};
use crate::{NewVersion, StoreTx};

#[async_trait]
pub trait WriteHook: Send + Sync + 'static {
    /// Called inside the write transaction right after `version` is written. An error
    /// rolls the whole transaction back and is the interaction's answer. A hook may write
    /// other resources through `repo` (those writes run the hooks too).
    async fn after_write(
        &self,
        repo: &Repository,
        tx: &mut dyn StoreTx,
        version: &NewVersion,
    ) -> Result<(), RepoError>;
}
