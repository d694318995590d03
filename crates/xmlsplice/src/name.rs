//! XML names, checked before they are written: a name goes into the text as
//! it is (no escape exists for a name), so anything but a name would be
//! markup. `x="1"/><Evil/><a y` given as an attribute name would otherwise
//! add an element.
//!
//! The productions are XML 1.0's (fifth edition) `NameStartChar` and
//! `NameChar`, with Namespaces in XML's `QName`: an optional prefix, `:`, and
//! a local name, neither holding a colon.

use crate::error::{Error, ErrorKind};

/// The XML namespace, which the prefix `xml` is bound to in every
/// document (`xml:lang`).
pub const XML_NAMESPACE: &str = "http://www.w3.org/XML/1998/namespace";

/// The namespace of namespace declarations (`xmlns`, `xmlns:p`).
pub const XMLNS_NAMESPACE: &str = "http://www.w3.org/2000/xmlns/";

/// Whether an attribute name, as written (`xmlns`, `xmlns:p`) or by its
/// namespace (`{}xmlns`, `{http://www.w3.org/2000/xmlns/}p`), is a
/// namespace declaration's: those change what every name below them
/// means, and are no setting.
///
/// # Examples
/// ```
/// use xmlsplice::is_namespace_declaration;
/// assert!(is_namespace_declaration("xmlns:svns"));
/// assert!(is_namespace_declaration("{http://www.w3.org/2000/xmlns/}svns"));
/// assert!(!is_namespace_declaration("xmlnsish"));
/// ```
pub fn is_namespace_declaration(name: &str) -> bool {
    name == "xmlns"
        || name == "{}xmlns"
        || name.starts_with("xmlns:")
        || name
            .strip_prefix('{')
            .and_then(|rest| rest.strip_prefix(XMLNS_NAMESPACE))
            .is_some_and(|rest| rest.starts_with('}'))
}

/// Whether `c` may start an XML name (`NameStartChar`, colon aside).
fn is_name_start_char(c: char) -> bool {
    matches!(c,
        'A'..='Z' | '_' | 'a'..='z'
        | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
        | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
        | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

/// Whether `c` may stand in an XML name after its first character
/// (`NameChar`, colon aside).
fn is_name_char(c: char) -> bool {
    is_name_start_char(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// What is wrong with `part` as a name without a colon (an `NCName`);
/// `what` names the part in the message ("name", "prefix", "local name").
pub(crate) fn ncname_problem(part: &str, what: &str) -> Option<String> {
    let mut chars = part.chars();
    let Some(first) = chars.next() else {
        return Some(format!("a {what} cannot be empty"));
    };
    if !is_name_start_char(first) {
        return Some(format!("a {what} cannot start with {first:?}"));
    }
    chars
        .find(|&c| !is_name_char(c))
        .map(|c| format!("{c:?} cannot be part of a name"))
}

/// What is wrong with `name` as an element or attribute name as written
/// (`prefix:local` or `local`), if anything.
pub(crate) fn qname_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("a name cannot be empty".into());
    }
    // A character that is in no name at all says most; a misplaced colon next.
    if let Some(c) = name.chars().find(|&c| c != ':' && !is_name_char(c)) {
        return Some(format!("{c:?} cannot be part of a name"));
    }
    match name.split(':').collect::<Vec<_>>().as_slice() {
        [local] => ncname_problem(local, "name"),
        [prefix, local] => {
            ncname_problem(prefix, "prefix").or_else(|| ncname_problem(local, "local name"))
        }
        _ => Some("a name holds at most one ':' (prefix:local)".into()),
    }
}

/// Checks that `name` is an XML element or attribute name as written: a
/// local name, or `prefix:local`, of XML 1.0's name characters. Every edit
/// that writes a name checks it this way.
///
/// # Errors
/// [`ErrorKind::InvalidName`], naming the name and what is wrong with it.
///
/// # Examples
/// ```
/// assert!(xmlsplice::check_name("svns:secretAlias").is_ok());
/// let err = xmlsplice::check_name("x=\"1\"><Evil/>").unwrap_err();
/// assert_eq!(err.to_string(), r#"invalid XML name "x=\"1\"><Evil/>": '=' cannot be part of a name"#);
/// ```
pub fn check_name(name: &str) -> Result<(), Error> {
    match qname_problem(name) {
        None => Ok(()),
        Some(reason) => Err(Error::new(ErrorKind::InvalidName {
            name: name.to_string(),
            reason,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_productions_of_xml_1_0() {
        for c in ['a', 'Z', '_', '\u{C0}', '\u{37F}', '\u{3001}', '\u{10000}'] {
            assert!(is_name_start_char(c), "{c:?}");
        }
        for c in [
            '-', '.', '7', '\u{B7}', '\u{300}', '\u{203F}', ':', '\u{D7}', '\u{37E}',
        ] {
            assert!(!is_name_start_char(c), "{c:?}");
        }
        for c in ['-', '.', '7', '\u{B7}', '\u{300}', '\u{2040}'] {
            assert!(is_name_char(c), "{c:?}");
        }
        for c in [
            ' ', '<', '>', '"', '\'', '=', '&', '/', '\u{1B}', '\u{D7}', '\u{F7}',
        ] {
            assert!(!is_name_char(c), "{c:?}");
        }
    }

    #[test]
    fn a_qualified_name_has_one_prefix_at_most() {
        assert_eq!(qname_problem("a:b"), None);
        assert_eq!(qname_problem("xmlns:svns"), None);
        assert_eq!(
            qname_problem("a::b").as_deref(),
            Some("a name holds at most one ':' (prefix:local)")
        );
        assert_eq!(
            qname_problem(":").as_deref(),
            Some("a prefix cannot be empty")
        );
    }
}
