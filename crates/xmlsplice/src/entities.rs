//! A guard against entity expansion blow-up, checked before parsing.
//!
//! roxmltree refuses entity loops and references to external entities, but
//! it will expand a large internal entity as often as the document refers to
//! it: one 100 KB entity used 10,000 times is a gigabyte of text and many
//! seconds of work (the "quadratic blow-up"). It also looks each reference
//! up among all the declared entities, and parses markup in an entity's
//! value again at every reference, where the other bounds before parsing
//! (`limits.rs`) cannot count it. Configuration files have no business
//! doing any of that; those that declare entities at all (Tomcat's web.xml
//! may) give a word a name. So before parsing, a document is refused when
//! it declares more than [`DECLARATIONS_LIMIT`] entities, when an entity's
//! value holds markup, or when its references would expand past
//! [`EXPANSION_LIMIT`].
//!
//! The scan is deliberately simple, and errs on the side of counting too
//! much, never too little: every `<!ENTITY name "value">` anywhere in the
//! text is a declaration (in a comment too, and wherever a DOCTYPE's subset
//! seems to end), a name declared twice counts as its larger value, and
//! every `&name;` is a reference.

use std::collections::HashMap;

use crate::error::{Error, ErrorKind, TextPos};

/// The most text that entity references may expand to, in bytes.
pub(crate) const EXPANSION_LIMIT: usize = 16 * 1024 * 1024;

/// The most entity declarations a document may hold.
pub(crate) const DECLARATIONS_LIMIT: usize = 64;

/// Refuses `text` if it declares too many entities, one whose value holds
/// markup, or references that would expand past the limit.
pub(crate) fn check_expansion(text: &str) -> Result<(), Error> {
    // memmem, not str::find: this runs on every text parsed, and nearly all
    // declare no entity, so the search crosses the whole text.
    if memchr::memmem::find(text.as_bytes(), b"<!ENTITY").is_none() {
        return Ok(());
    }
    let refused = |message: String, at: usize| {
        Err(Error::at(
            ErrorKind::Malformed(message),
            TextPos::of_offset(text, at),
        ))
    };
    let found: Vec<_> = declarations(text).take(DECLARATIONS_LIMIT + 1).collect();
    if let Some(&(at, _, _)) = found.get(DECLARATIONS_LIMIT) {
        return refused(
            format!(
                "more than {DECLARATIONS_LIMIT} entity declarations; \
                 a configuration file declares a few at most"
            ),
            at,
        );
    }
    let mut declared: HashMap<&str, Vec<&str>> = HashMap::new();
    for &(at, name, value) in &found {
        if holds_markup(value) {
            return refused(
                format!(
                    "the entity {name:?} holds markup; a configuration file's entities hold text"
                ),
                at,
            );
        }
        declared.entry(name).or_default().push(value);
    }
    let mut sizes: HashMap<&str, usize> = HashMap::new();
    let mut total: usize = 0;
    for (offset, name) in references(text) {
        let size = expanded_size(name, &declared, &mut sizes, 0);
        total = total.saturating_add(size);
        if total > EXPANSION_LIMIT {
            return refused(
                format!(
                    "entity references expand to more than {} MiB of text",
                    EXPANSION_LIMIT / (1024 * 1024)
                ),
                offset,
            );
        }
    }
    Ok(())
}

/// Whether an entity's value would be parsed as markup where it is
/// referred to: it holds a `<`, or a character reference to one (expanded
/// when the entity is declared).
fn holds_markup(value: &str) -> bool {
    value.contains('<')
        || value.match_indices("&#").any(|(at, _)| {
            let rest = &value[at + 2..];
            let (digits, radix) = match rest.strip_prefix(['x', 'X']) {
                Some(hex) => (hex, 16),
                None => (rest, 10),
            };
            let end = digits.find(';').unwrap_or(digits.len());
            u32::from_str_radix(&digits[..end], radix).is_ok_and(|c| c == u32::from(b'<'))
        })
}

/// XML's white space, which alone ends a name: Unicode's other spaces
/// (U+1680) are name characters to roxmltree, and a name cut at one would
/// hide its entity from every count here.
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Each entity declaration in `text`, in order (the caller stops past the
/// limit: a value's closing quote is searched for to the end):
/// where it starts, its name and its literal value; a parameter entity
/// (`<!ENTITY % name ...>`) as a general one of its name, an external one
/// (SYSTEM, PUBLIC: no literal) with an empty value.
fn declarations(text: &str) -> impl Iterator<Item = (usize, &str, &str)> {
    text.match_indices("<!ENTITY").map(move |(at, _)| {
        let rest = text[at + "<!ENTITY".len()..].trim_start_matches(is_blank);
        let rest = rest
            .strip_prefix('%')
            .map_or(rest, |r| r.trim_start_matches(is_blank));
        // A name ends at a blank; one cut short by markup is no name.
        let name_end = rest
            .find(|c: char| is_blank(c) || c == '<' || c == '>')
            .unwrap_or(rest.len());
        let name = &rest[..name_end];
        let after = rest[name_end..].trim_start_matches(is_blank);
        let value = after
            .chars()
            .next()
            .filter(|c| *c == '"' || *c == '\'')
            .and_then(|quote| after[1..].find(quote).map(|close| &after[1..1 + close]));
        (at, name, value.unwrap_or(""))
    })
}

/// `&name;` references (not character references) with their offsets.
fn references(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.match_indices('&').filter_map(move |(at, _)| {
        let rest = &text[at + 1..];
        // A name holds no blank, `&` or `<`: the search for its `;` stops
        // at the first of them, so it never crosses the next `&` (a search
        // to the next `;` would make N ampersands cost N times the text).
        let end = rest.find(|c: char| c == ';' || c == '&' || c == '<' || is_blank(c))?;
        let name = &rest[..end];
        let plain = rest[end..].starts_with(';') && !name.is_empty() && !name.starts_with('#');
        plain.then_some((at, name))
    })
}

/// The length `name` expands to, the largest of its values where it is
/// declared twice; undeclared names (the predefined `amp` and the like)
/// count as one byte. Deeper than 10 levels counts as over the
/// limit: roxmltree refuses that nesting anyway.
fn expanded_size<'a>(
    name: &'a str,
    declared: &HashMap<&'a str, Vec<&'a str>>,
    sizes: &mut HashMap<&'a str, usize>,
    depth: usize,
) -> usize {
    if let Some(&size) = sizes.get(name) {
        return size;
    }
    let Some(values) = declared.get(name) else {
        return 1;
    };
    if depth > 10 {
        return usize::MAX;
    }
    let mut largest = 0;
    for value in values {
        let mut size = value.len();
        for (_, inner) in references(value) {
            size = size.saturating_add(expanded_size(inner, declared, sizes, depth + 1));
        }
        largest = largest.max(size);
    }
    sizes.insert(name, largest);
    largest
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Why `text` is refused (it must be).
    fn refusal(text: &str) -> String {
        check_expansion(text).unwrap_err().to_string()
    }

    /// A name cut short by a blank, `&` or `<` is no reference, and the
    /// `;` after it belongs to the next.
    #[test]
    fn references_are_names_between_an_ampersand_and_a_semicolon() {
        let found: Vec<(usize, &str)> = references("&a b; &&c; &#65; &d<e; &f;").collect();
        assert_eq!(found, vec![(7, "c"), (23, "f")]);
        let declared: Vec<_> =
            declarations("<!ENTITY<!ENTITY a \"x\"><!ENTITY % p 'y'><!ENTITY e SYSTEM").collect();
        assert_eq!(
            declared,
            [(0, "", ""), (8, "a", "x"), (23, "p", "y"), (40, "e", "")]
        );
    }

    /// What the scan of one DOCTYPE's subset missed is counted: a name
    /// declared again (roxmltree expands the first), a DOCTYPE in a comment
    /// before the real one, a `]>` inside a value.
    #[test]
    fn no_declaration_hides_from_the_count() {
        let big = "x".repeat(100_000);
        let refs = "&a;".repeat(200);
        for text in [
            format!("<!DOCTYPE r [<!ENTITY a \"{big}\"><!ENTITY a \"y\">]><r>{refs}</r>"),
            format!("<!-- <!DOCTYPE r [ ]> --><!DOCTYPE r [<!ENTITY a \"{big}\">]><r>{refs}</r>"),
            format!("<!DOCTYPE r [<!ENTITY b \"]>\"><!ENTITY a \"{big}\">]><r>{refs}</r>"),
        ] {
            let err = refusal(&text);
            assert!(err.contains("expand to more than 16 MiB"), "{err}");
        }
    }

    /// Only XML's white space ends a name: roxmltree takes U+1680 (a Unicode
    /// space) into one, and a scan that ended the name there missed both
    /// the entity and its references.
    #[test]
    fn a_name_holding_a_unicode_space_is_one_name() {
        let big = "x".repeat(100_000);
        let refs = "&a\u{1680}b;".repeat(200);
        let text = format!("<!DOCTYPE r [<!ENTITY a\u{1680}b \"{big}\">]><r>{refs}</r>");
        let err = refusal(&text);
        assert!(err.contains("expand to more than 16 MiB"), "{err}");
        let text = "<!DOCTYPE r [<!ENTITY a\u{1680}b \"<x/>\">]><r>&a\u{1680}b;</r>";
        let err = refusal(text);
        assert!(err.contains("holds markup"), "{err}");
    }

    /// Markup in an entity's value, as written or as a character reference,
    /// is refused at its declaration; text and references to other
    /// characters pass.
    #[test]
    fn an_entity_holding_markup_is_refused() {
        for value in [
            "<x>1</x>",
            "&#60;x/>",
            "&#x3C;x/>",
            "&#x003c;x/>",
            "&#0060;x/>",
        ] {
            let text = format!("<!DOCTYPE r [\n<!ENTITY e \"{value}\">]><r>&e;</r>");
            let err = check_expansion(&text).unwrap_err();
            assert!(err.to_string().contains("holds markup"), "{value}: {err}");
            assert_eq!(err.position(), Some(TextPos { line: 2, column: 1 }));
        }
        let text = "<!DOCTYPE r [<!ENTITY e \"a &#62; b &#38;#60; &lt; &amp;\">]><r>&e;</r>";
        check_expansion(text).unwrap();
    }

    /// More declarations than the limit are refused at the first too many.
    #[test]
    fn entity_declarations_are_bounded() {
        let declare =
            |n: usize| -> String { (0..n).map(|i| format!("<!ENTITY e{i} \"v\">\n")).collect() };
        check_expansion(&format!(
            "<!DOCTYPE r [{}]><r/>",
            declare(DECLARATIONS_LIMIT)
        ))
        .unwrap();
        let text = format!("<!DOCTYPE r [{}]><r/>", declare(DECLARATIONS_LIMIT + 1));
        let err = check_expansion(&text).unwrap_err();
        let shown = err.to_string();
        assert!(
            shown.contains("more than 64 entity declarations"),
            "{shown}"
        );
        let line = DECLARATIONS_LIMIT as u32 + 1;
        assert_eq!(err.position(), Some(TextPos { line, column: 1 }));
    }

    #[test]
    fn small_entities_pass() {
        let text = "<!DOCTYPE r [<!ENTITY p \"Example\">]><r a='&p;'>&p; &amp; &#65;</r>";
        check_expansion(text).unwrap();
        check_expansion("<r>&amp;</r>").unwrap();
    }

    #[test]
    fn quadratic_blow_up_is_refused_before_parsing() {
        let big = "x".repeat(100_000);
        let text = format!(
            "<!DOCTYPE r [<!ENTITY a \"{big}\">]><r>{}</r>",
            "&a;".repeat(10_000)
        );
        let err = refusal(&text);
        assert!(err.contains("expand to more than 16 MiB"), "{err}");
    }

    #[test]
    fn nested_entities_multiply() {
        let mut decls = String::from("<!ENTITY e0 \"0123456789\">");
        for i in 1..8 {
            decls.push_str(&format!(
                "<!ENTITY e{i} \"{}\">",
                format!("&e{};", i - 1).repeat(10)
            ));
        }
        let text = format!("<!DOCTYPE r [{decls}]><r>&e7;</r>");
        assert!(check_expansion(&text).is_err());
    }
}
