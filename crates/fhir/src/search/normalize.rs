//! The normalized form of strings in the string index and in string searches: lower case,
//! Latin accents folded (`Müller` → `muller`), whitespace collapsed to single spaces.
//!
//! Searches and the index use this same function, so the two always agree.

/// Longest normalized value kept, in bytes. B-tree index rows have a size limit (PostgreSQL:
/// about 2.7 kB), and no one searches on the 1,025th byte of a name; `:exact` still compares
/// the whole value.
pub const MAX_NORMALIZED_BYTES: usize = 1024;

pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            for lower in c.to_lowercase() {
                fold(lower, &mut out);
            }
        }
        if out.len() >= MAX_NORMALIZED_BYTES {
            let mut end = MAX_NORMALIZED_BYTES;
            while !out.is_char_boundary(end) {
                end -= 1;
            }
            out.truncate(end);
            break;
        }
    }
    out
}

/// Push the accent-free form of the lower-case character `c`.
fn fold(c: char, out: &mut String) {
    let folded = match c {
        // Combining diacritical marks (decomposed accents) disappear.
        '\u{300}'..='\u{36f}' => return,
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => 'c',
        'ď' | 'đ' | 'ð' => 'd',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => 'e',
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => 'g',
        'ĥ' | 'ħ' => 'h',
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => 'i',
        'ĵ' => 'j',
        'ķ' => 'k',
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => 'l',
        'ñ' | 'ń' | 'ņ' | 'ň' | 'ŉ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => 'o',
        'ŕ' | 'ŗ' | 'ř' => 'r',
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => 's',
        'ţ' | 'ť' | 'ŧ' | 'ț' => 't',
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => 'u',
        'ŵ' => 'w',
        'ý' | 'ÿ' | 'ŷ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        'ß' => return out.push_str("ss"),
        'æ' => return out.push_str("ae"),
        'œ' => return out.push_str("oe"),
        'þ' => return out.push_str("th"),
        'ĳ' => return out.push_str("ij"),
        other => other,
    };
    out.push(folded);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_cases_folds_accents_and_collapses_spaces() {
        assert_eq!(normalize("Chalmers"), "chalmers");
        assert_eq!(
            normalize("  Müller-Lüdenscheidt \t Straße "),
            "muller-ludenscheidt strasse"
        );
        assert_eq!(normalize("ÉLODIE Œuvre"), "elodie oeuvre");
        // Decomposed e + combining acute accent.
        assert_eq!(normalize("Rene\u{301}e"), "renee");
        assert_eq!(normalize("İstanbul"), "istanbul");
        assert_eq!(normalize("Ωμέγα"), "ωμέγα");
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn caps_long_values_on_a_character_boundary() {
        let long = "é".repeat(2000);
        let n = normalize(&long);
        assert!(n.len() <= MAX_NORMALIZED_BYTES && n.len() > 1000);
        let long = "ж".repeat(2000);
        assert!(normalize(&long).len() <= MAX_NORMALIZED_BYTES);
    }
}
