//! A guard against entity expansion blow-up, checked before parsing.
//!
//! roxmltree refuses entity loops and references to external entities, but
//! it will expand a large internal entity as often as the document refers to
//! it: one 100 KB entity used 10,000 times is a gigabyte of text and many
//! seconds of work (the "quadratic blow-up"). Configuration files have no
//! business doing that, so before parsing, a document whose DTD declares
//! internal entities has its total expansion estimated from the declarations
//! and the references, and is refused above [`EXPANSION_LIMIT`].
//!
//! The estimate is deliberately simple: it scans for `<!ENTITY name "value">`
//! declarations and `&name;` references in the text and errs on the side of
//! counting too much, never too little.

use std::collections::HashMap;

use crate::error::{Error, ErrorKind, TextPos};

/// The most text that entity references may expand to, in bytes.
pub(crate) const EXPANSION_LIMIT: usize = 16 * 1024 * 1024;

/// Refuses `text` if its entity references would expand past the limit.
pub(crate) fn check_expansion(text: &str) -> Result<(), Error> {
    let Some(subset) = internal_subset(text) else {
        return Ok(());
    };
    let declared = declarations(&text[subset.clone()]);
    if declared.is_empty() {
        return Ok(());
    }
    let mut sizes: HashMap<&str, usize> = HashMap::new();
    let mut total: usize = 0;
    let body_start = subset.end;
    for (offset, name) in references(&text[body_start..]) {
        let size = expanded_size(name, &declared, &mut sizes, 0);
        total = total.saturating_add(size);
        if total > EXPANSION_LIMIT {
            return Err(Error::at(
                ErrorKind::Malformed(format!(
                    "entity references expand to more than {} MiB of text",
                    EXPANSION_LIMIT / (1024 * 1024)
                )),
                TextPos::of_offset(text, body_start + offset),
            ));
        }
    }
    Ok(())
}

/// The byte range of the DOCTYPE's internal subset (between `[` and `]`).
fn internal_subset(text: &str) -> Option<std::ops::Range<usize>> {
    // memmem, not str::find: this runs on every text parsed, and nearly all
    // have no DOCTYPE, so the search crosses the whole text.
    let doctype = memchr::memmem::find(text.as_bytes(), b"<!DOCTYPE")?;
    let open = doctype + text[doctype..].find(['[', '>'])?;
    if text.as_bytes()[open] != b'[' {
        return None;
    }
    let close = open + text[open..].find("]>").or_else(|| text[open..].find(']'))?;
    Some(open + 1..close)
}

/// Internal general entities: name and literal value. Parameter entities
/// (`<!ENTITY % ...>`) and external ones (SYSTEM, PUBLIC) are not expanded
/// into the document body and are skipped.
fn declarations(subset: &str) -> HashMap<&str, &str> {
    let mut found = HashMap::new();
    let mut rest = subset;
    while let Some(at) = rest.find("<!ENTITY") {
        rest = rest[at + "<!ENTITY".len()..].trim_start();
        if rest.starts_with('%') {
            continue;
        }
        // A name ends at a blank; one cut short by markup is no name
        // (and the search stops there: `<!ENTITY` repeated is linear).
        let name_end = rest
            .find(|c: char| c.is_whitespace() || c == '<' || c == '>')
            .unwrap_or(rest.len());
        let name = &rest[..name_end];
        let after = rest[name_end..].trim_start();
        let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        if let Some(close) = after[1..].find(quote) {
            found.insert(name, &after[1..1 + close]);
        }
    }
    found
}

/// `&name;` references (not character references) with their offsets.
fn references(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.match_indices('&').filter_map(move |(at, _)| {
        let rest = &text[at + 1..];
        // A name holds no blank, `&` or `<`: the search for its `;` stops
        // at the first of them, so it never crosses the next `&` (a search
        // to the next `;` would make N ampersands cost N times the text).
        let end = rest.find(|c: char| c == ';' || c == '&' || c == '<' || c.is_whitespace())?;
        let name = &rest[..end];
        let plain = rest[end..].starts_with(';') && !name.is_empty() && !name.starts_with('#');
        plain.then_some((at, name))
    })
}

/// The length `name` expands to; undeclared names (the predefined `amp` and
/// the like) count as one byte. Deeper than 10 levels counts as over the
/// limit: roxmltree refuses that nesting anyway.
fn expanded_size<'a>(
    name: &'a str,
    declared: &HashMap<&'a str, &'a str>,
    sizes: &mut HashMap<&'a str, usize>,
    depth: usize,
) -> usize {
    if let Some(&size) = sizes.get(name) {
        return size;
    }
    let Some(value) = declared.get(name) else {
        return 1;
    };
    if depth > 10 {
        return usize::MAX;
    }
    let mut size = value.len();
    for (_, inner) in references(value) {
        size = size.saturating_add(expanded_size(inner, declared, sizes, depth + 1));
    }
    sizes.insert(name, size);
    size
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name cut short by a blank, `&` or `<` is no reference, and the
    /// `;` after it belongs to the next.
    #[test]
    fn references_are_names_between_an_ampersand_and_a_semicolon() {
        let found: Vec<(usize, &str)> = references("&a b; &&c; &#65; &d<e; &f;").collect();
        assert_eq!(found, vec![(7, "c"), (23, "f")]);
        let declared = declarations("<!ENTITY<!ENTITY a \"x\"><!ENTITY % p \"y\">");
        assert_eq!(declared.get("a"), Some(&"x"));
        assert_eq!(declared.len(), 1);
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
        let err = check_expansion(&text).unwrap_err();
        assert!(
            err.to_string().contains("expand to more than 16 MiB"),
            "{err}"
        );
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
