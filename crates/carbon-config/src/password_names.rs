//! Which names are a password's: one rule for what the CLI masks in the
//! files it shows and for what a recipe keeps secret under WSO2's own names
//! (a Spark key, a user store property).

/// How the name of a password ends, in any case: `password`, `DBPassword`,
/// `passwd`, `pwd`, and `pass` for Tomcat's `keystorePass` and
/// `truststorePass` and identity.xml's `<StorePass>`. One rule for
/// elements, `name="…"` properties, attributes and URL parameters.
const PASSWORD_NAME_ENDINGS: [&[u8]; 4] = [b"password", b"passwd", b"pwd", b"pass"];

/// Whether `name` (an element's, an attribute's, a parameter's, a key's)
/// is the name of a password.
#[inline]
pub fn is_password_name(name: &[u8]) -> bool {
    may_be_password_name(name)
        && PASSWORD_NAME_ENDINGS.iter().any(|end| {
            name.len() >= end.len() && name[name.len() - end.len()..].eq_ignore_ascii_case(end)
        })
}

/// The quick look first: every ending ends in `d` or `s`, and this rules out
/// most names (masking runs it on every tag and every `=` of every file a
/// plan shows).
#[inline]
pub fn may_be_password_name(name: &[u8]) -> bool {
    matches!(name.last(), Some(b'd' | b'D' | b's' | b'S'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_name_ends_as_one_in_any_case() {
        for name in [
            "password",
            "DBPassword",
            "svn_PASSWD",
            "db_pwd",
            "keystorePass",
        ] {
            assert!(is_password_name(name.as_bytes()), "{name}");
        }
        for name in ["passwordDigest", "passing", "bypassed", "", "pas"] {
            assert!(!is_password_name(name.as_bytes()), "{name}");
        }
    }
}
