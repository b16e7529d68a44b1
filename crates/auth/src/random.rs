//! Bytes from the operating system's random number generator, for salts and TOTP secrets.

/// The operating system could not supply random bytes. Rare (a sandbox that blocks the
/// syscall, an early-boot entropy shortage), but a credential must never be made without them.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed: {0}")]
pub struct RandomError(getrandom::Error);

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut buf = [0u8; N];
    getrandom::getrandom(&mut buf).map_err(RandomError)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    #[test]
    fn two_draws_differ() {
        let a = super::random_bytes::<20>().unwrap();
        let b = super::random_bytes::<20>().unwrap();
        assert_ne!(a, b);
    }
}
