//! RFC 4648 base32 (the A–Z, 2–7 alphabet), which is how authenticator apps expect a TOTP
//! secret. Small enough to write rather than add a crate for.

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Encodes without `=` padding, as the `otpauth://` key URI format asks.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u16 = 0;
    let mut bits = 0u32;
    for &b in bytes {
        buffer = (buffer << 8) | u16::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[usize::from((buffer >> bits) & 31)] as char);
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(ALPHABET[usize::from((buffer << (5 - bits)) & 31)] as char);
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Base32Error {
    #[error("base32 text may only contain the letters A to Z and the digits 2 to 7")]
    InvalidCharacter,
    #[error("base32 text has a length that no byte string encodes to")]
    InvalidLength,
}

/// Decodes case-insensitively, with or without trailing `=` padding. Refuses lengths and
/// leftover bits that no encoder produces, so each byte string has one accepted spelling
/// (apart from case and padding).
pub fn decode(text: &str) -> Result<Vec<u8>, Base32Error> {
    let text = text.trim_end_matches('=');
    // 8 characters carry 5 bytes; a final group of 2, 4, 5 or 7 characters carries 1–4 bytes.
    if matches!(text.len() % 8, 1 | 3 | 6) {
        return Err(Base32Error::InvalidLength);
    }
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let mut buffer: u16 = 0;
    let mut bits = 0u32;
    for c in text.bytes() {
        let v = match c.to_ascii_uppercase() {
            c @ b'A'..=b'Z' => c - b'A',
            c @ b'2'..=b'7' => c - b'2' + 26,
            _ => return Err(Base32Error::InvalidCharacter),
        };
        buffer = (buffer << 5) | u16::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    if buffer != 0 {
        return Err(Base32Error::InvalidLength);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{decode, encode, Base32Error};

    /// RFC 4648 section 10, without the padding.
    const VECTORS: [(&str, &str); 7] = [
        ("", ""),
        ("f", "MY"),
        ("fo", "MZXQ"),
        ("foo", "MZXW6"),
        ("foob", "MZXW6YQ"),
        ("fooba", "MZXW6YTB"),
        ("foobar", "MZXW6YTBOI"),
    ];

    #[test]
    fn rfc_4648_vectors_round_trip() {
        for (plain, encoded) in VECTORS {
            assert_eq!(encode(plain.as_bytes()), encoded);
            assert_eq!(decode(encoded).unwrap(), plain.as_bytes());
        }
        assert_eq!(
            encode(b"12345678901234567890"),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(decode(&encode(&all)).unwrap(), all);
    }

    #[test]
    fn decode_accepts_lower_case_and_padding_but_nothing_else() {
        assert_eq!(decode("mzxw6ytboi======").unwrap(), b"foobar");
        assert_eq!(decode("MZXW6YQ="), Ok(b"foob".to_vec()));
        assert_eq!(decode("MZXW1"), Err(Base32Error::InvalidCharacter));
        assert_eq!(decode("MZ W6"), Err(Base32Error::InvalidCharacter));
        assert_eq!(decode("MZX"), Err(Base32Error::InvalidLength));
        // "MY" is "f"; "MZ" has bits left over that no encoder writes.
        assert_eq!(decode("MZ"), Err(Base32Error::InvalidLength));
    }
}
