//! Secrets found while capturing become `${env:NAME}` references: a
//! captured recipe never holds a password, and says which variables it
//! reads and where each goes.

use std::collections::HashMap;

use carbon_config::secrets::{is_secret_name, mask, Secrets, MASK};
use xmlsplice::Document;

/// An environment variable a captured recipe reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variable {
    /// Its name (`WSO2AM_DB_PASSWORD`).
    pub name: String,
    /// Where its value was first found: the node, the file and the
    /// element's path.
    pub used_for: String,
    /// The value found, to give one variable to equal values of one name;
    /// never written.
    value: String,
}

/// The variables of one capture.
#[derive(Debug, Default)]
pub(crate) struct Variables {
    all: Vec<Variable>,
    /// Where each name is in `all`.
    named: HashMap<String, usize>,
    /// For each base name, how far its names (`BASE`, `BASE_2`, ...) are
    /// known to be taken, and the first of those that holds each value:
    /// the thousandth variable of one name costs no search of the others.
    runs: HashMap<String, (u64, HashMap<String, String>)>,
    /// The node whose home is being read.
    node: String,
}

impl Variables {
    /// Secrets found from now on are in `node`'s home.
    pub fn reading(&mut self, node: &str) {
        self.node = node.to_string();
    }

    pub fn into_vec(self) -> Vec<Variable> {
        self.all
    }

    /// A reference to a variable holding `value`, the secret at `path` of
    /// `file`: one named after the path (its last key and element), shared
    /// with an earlier equal value of that name. A value that is only one of
    /// WSO2's own placeholders (`${admin.password}`) holds no secret, and
    /// says where the server finds it: it is written as it is.
    pub fn reference(&mut self, file: &str, path: &str, value: &str) -> String {
        // The path is shown, and names the variable: a secret telling its
        // element apart (`user[@password='…']`) must show in neither.
        let path = &*carbon_config::compare::mask_path(path);
        let placeholder = value.starts_with("${")
            && value.ends_with('}')
            && value[2..value.len() - 1]
                .chars()
                .all(|c| c.is_alphanumeric() || "._-".contains(c));
        // Nor is a flag (`StoreSaltedPassword`, named as a secret, holds
        // `true` or `false`).
        if placeholder || value == "true" || value == "false" {
            return super::edits::literal(value);
        }
        // The first of `BASE`, `BASE_2`, ... that holds this value, before
        // the first free one; else that free one.
        let base = variable_name(path);
        let (taken, first_with) = self.runs.entry(base.clone()).or_default();
        if let Some(name) = first_with.get(value) {
            return format!("${{env:{name}}}");
        }
        loop {
            let name = match *taken {
                0 => base.clone(),
                n => format!("{base}_{}", n + 1),
            };
            *taken += 1;
            match self.named.get(&name) {
                Some(&at) => {
                    let held = &self.all[at].value;
                    first_with
                        .entry(held.clone())
                        .or_insert_with(|| name.clone());
                    if held == value {
                        return format!("${{env:{name}}}");
                    }
                }
                None => {
                    first_with.insert(value.to_string(), name.clone());
                    self.named.insert(name.clone(), self.all.len());
                    self.all.push(Variable {
                        name: name.clone(),
                        used_for: format!("{}: {file}: {path}", self.node),
                        value: value.to_string(),
                    });
                    return format!("${{env:{name}}}");
                }
            }
        }
    }

    /// `markup` (an element of `file` at `path`) with each secret it holds
    /// (a secret element's text, a secret attribute, a property named as a
    /// secret) replaced by a reference, and every `${` of its own doubled.
    ///
    /// # Errors
    /// Markup that holds a secret no reference can stand for (in a URL, in
    /// markup that does not parse alone): said, never written.
    pub fn markup(&mut self, file: &str, path: &str, markup: &str) -> Result<String, String> {
        let path = &*carbon_config::compare::mask_path(path);
        let literal = super::edits::literal(markup);
        let Ok(doc) = Document::parse(literal.as_bytes()) else {
            return match mask(&literal, &Secrets::default()) == literal {
                true => Ok(literal),
                false => Err("it holds a secret, and does not parse alone".into()),
            };
        };
        let mut found = secrets_in(&doc, doc.root(), path);
        found.secrets.sort_by_key(|secret| secret.range.start);
        // A secret's value found inside another's (an attribute's name and
        // value written inside another attribute's value) stands where no
        // reference can.
        let apart = found
            .secrets
            .windows(2)
            .all(|pair| pair[0].range.end <= pair[1].range.start);
        if !apart {
            return Err(
                "it holds a secret where no reference can stand (an attribute written inside \
                 another's value)"
                    .into(),
            );
        }
        let masked = spliced(&literal, found.secrets.iter().map(|s| (&s.range, MASK)));
        // Anything the policy would still mask is a secret left in the open.
        if mask(&masked, &Secrets::default()) != masked {
            return Err("it holds a secret where no reference can stand (a URL, a comment)".into());
        }
        // Named in the order they stand, each path written only while it
        // is named.
        let references: Vec<String> = found
            .secrets
            .iter()
            .map(|secret| {
                let raw = &secret.raw;
                let value = Document::parse(format!("<v>{raw}</v>").as_bytes())
                    .ok()
                    .and_then(|d| d.element_text(d.root()))
                    .unwrap_or_else(|| raw.clone());
                self.reference(file, &found.path(secret), &value)
            })
            .collect();
        let pieces = found.secrets.iter().zip(&references);
        Ok(spliced(
            &literal,
            pieces.map(|(secret, reference)| (&secret.range, reference.as_str())),
        ))
    }
}

/// `text` with each range (in order, none overlapping) replaced: in one
/// pass, where replacing them one by one would move the rest of the text
/// each time (a captured element of 160,000 secrets took 10 s).
fn spliced<'a>(
    text: &str,
    pieces: impl Iterator<Item = (&'a std::ops::Range<usize>, &'a str)>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut cursor = 0;
    for (range, with) in pieces {
        debug_assert!(range.start >= cursor, "ranges in order, apart");
        out.push_str(&text[cursor..range.start]);
        out.push_str(with);
        cursor = range.end;
    }
    out.push_str(&text[cursor..]);
    out
}

/// The secrets below an element, and the steps of the paths they are at.
struct SecretsFound {
    /// Each element's parent and its own step: a path is written out only
    /// when asked for ([`SecretsFound::path`]), one at a time. Written for
    /// each secret found and kept, the paths of an element nested thousands
    /// deep with a secret at each level took the square of the depth in
    /// memory (32,000 deep: 2 GB).
    steps: Vec<(Option<usize>, String)>,
    secrets: Vec<Secret>,
}

/// A secret [`secrets_in`] found.
struct Secret {
    /// Its range in the document's text.
    range: std::ops::Range<usize>,
    /// Its element's step.
    step: usize,
    /// The attribute it is the value of; none for the element's text.
    attribute: Option<String>,
    /// Its text as the document has it.
    raw: String,
}

impl SecretsFound {
    /// The path `secret` is at.
    fn path(&self, secret: &Secret) -> String {
        let element = written(&self.steps, secret.step);
        match &secret.attribute {
            Some(name) => format!("{element}/@{name}"),
            None => element,
        }
    }
}

/// The secrets below `top` (at `path`). Element by element from a stack,
/// not by recursion (a file nested 20,000 deep would overflow the thread's
/// stack), each element's path kept as its parent's and one step.
fn secrets_in(doc: &Document, top: xmlsplice::Element, path: &str) -> SecretsFound {
    let mut secrets = Vec::new();
    let text = doc.text();
    let named = |n: &str| is_secret_name(n.as_bytes());
    let mut steps: Vec<(Option<usize>, String)> = vec![(None, path.to_string())];
    let mut stack = vec![(top, 0)];
    while let Some((el, at)) = stack.pop() {
        let range = doc.range(el);
        let markup = &text[range.clone()];
        let start_tag_end = start_tag_end(markup);
        // A property a secret's name names (`<property name="keystorePass"
        // value="…"/>`): its value is the secret.
        let secret = named(doc.name(el))
            || ["name", "key"]
                .iter()
                .any(|a| doc.attribute(el, a).is_some_and(named));
        // Attributes named as secrets, or holding one (a URL's password):
        // their values in the start tag.
        for (name, value) in doc.attributes(el) {
            let local = name.rsplit(':').next().unwrap_or(name);
            let holds = carbon_config::secrets::holds_secret(value);
            if !(is_secret_name(local.as_bytes()) || holds || secret && local == "value") {
                continue;
            }
            if let Some(value) = attribute_value(&markup[..start_tag_end], name) {
                let at_value = range.start + value.start..range.start + value.end;
                secrets.push(Secret {
                    raw: text[at_value.clone()].to_string(),
                    range: at_value,
                    step: at,
                    attribute: Some(name.to_string()),
                });
            }
        }
        let children = doc.children(el);
        // A leaf that holds a secret in its text (an LDAP URL's password).
        let holds = children.is_empty()
            && doc
                .element_text(el)
                .is_some_and(|t| carbon_config::secrets::holds_secret(&t));
        if (secret || holds) && children.is_empty() && !markup.ends_with("/>") {
            if let Some(close) = markup.rfind("</") {
                if start_tag_end < close && !markup[start_tag_end..close].trim().is_empty() {
                    let at_text = range.start + start_tag_end..range.start + close;
                    secrets.push(Secret {
                        raw: text[at_text.clone()].to_string(),
                        range: at_text,
                        step: at,
                        attribute: None,
                    });
                }
            }
        }
        // Pushed last first: taken in document order.
        for &child in children.iter().rev() {
            let step = match doc.attribute(child, "name") {
                Some(name) => format!("{}[@name='{name}']", doc.name(child)),
                None => doc.name(child).to_string(),
            };
            steps.push((Some(at), step));
            stack.push((child, steps.len() - 1));
        }
    }
    SecretsFound { steps, secrets }
}

/// The path of `steps[at]`: its ancestors' steps and its own, by `/`.
fn written(steps: &[(Option<usize>, String)], mut at: usize) -> String {
    let mut parts = vec![steps[at].1.as_str()];
    while let Some(parent) = steps[at].0 {
        parts.push(steps[parent].1.as_str());
        at = parent;
    }
    parts.reverse();
    parts.join("/")
}

/// Where an element's start tag ends (after its `>`), quotes respected.
fn start_tag_end(markup: &str) -> usize {
    let mut quote = None;
    for (i, c) in markup.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return i + 1,
            _ => {}
        }
    }
    markup.len()
}

/// The range of the value of attribute `name` in `tag`, quotes excluded.
fn attribute_value(tag: &str, name: &str) -> Option<std::ops::Range<usize>> {
    let mut at = 0;
    while let Some(found) = tag[at..].find(name) {
        let start = at + found;
        let before = tag[..start].chars().next_back();
        let rest = tag[start + name.len()..].trim_start();
        if before.is_some_and(char::is_whitespace) {
            if let Some(value) = rest.strip_prefix('=') {
                let value = value.trim_start();
                // Only a quote opens a value (`password=é` in another's
                // value is no attribute): else the next place is looked at.
                let quote = value.chars().next().filter(|q| matches!(q, '"' | '\''));
                if let Some(quote) = quote {
                    let open = tag.len() - value.len() + 1;
                    let close = open + value[1..].find(quote)?;
                    return Some(open..close);
                }
            }
        }
        at = start + name.len();
    }
    None
}

/// A variable's name from the path of what it holds: the last key the path
/// gives and the element's (or attribute's) name, in capitals
/// (`datasource[name='WSO2AM_DB']/…/password` is `WSO2AM_DB_PASSWORD`).
fn variable_name(path: &str) -> String {
    let last = path.rsplit('/').next().unwrap_or(path);
    let name = last
        .split('[')
        .next()
        .unwrap_or(last)
        .trim_start_matches('@');
    let name = name.rsplit('}').next().unwrap_or(name);
    let key = path
        .rfind("='")
        .map(|at| &path[at + 2..])
        .and_then(|rest| rest.split('\'').next());
    let parent = path
        .rsplit('/')
        .nth(1)
        .map(|p| p.split('[').next().unwrap_or(p));
    let words = match key {
        // `Property[@name='ConnectionPassword']`: the key is the name.
        Some(key) if is_secret_name(key.as_bytes()) => key.to_string(),
        Some(key) => format!("{key}_{name}"),
        None => format!("{}_{name}", parent.unwrap_or_default()),
    };
    let mut out = String::new();
    for c in words.chars() {
        let c = if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        };
        if !(c == '_' && (out.is_empty() || out.ends_with('_'))) {
            out.push(c);
        }
    }
    let out = out.trim_end_matches('_').to_string();
    // A shell variable's name starts with a letter or `_`
    // (`9443_CONNECTOR` would be refused by `export`).
    match out.chars().next() {
        None => "SECRET".into(),
        Some(c) if c.is_ascii_digit() => format!("SECRET_{out}"),
        Some(_) => out,
    }
}

/// The variables as an environment: each name, the value it stands for
/// (a captured recipe planned on the baseline reads them).
impl crate::Env for Variables {
    fn var(&self, name: &str) -> Option<String> {
        self.named.get(name).map(|&at| self.all[at].value.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_placeholder_is_no_secret_and_is_written_as_it_is() {
        let mut v = Variables::default();
        v.reading("node");
        assert_eq!(
            v.reference("f.xml", "/a/Password", "${admin.password}"),
            "$${admin.password}"
        );
        assert_eq!(
            v.reference("f.xml", "/a/StoreSaltedPassword", "true"),
            "true"
        );
        assert!(v.into_vec().is_empty());
    }

    /// A password that tells its element apart shows neither in the
    /// variable's name nor where it was found.
    #[test]
    fn a_secret_in_the_path_names_no_variable() {
        let mut v = Variables::default();
        v.reading("node");
        let path = "/tomcat-users/user[@username='a' and @password='Zz9Secret']/@password";
        assert_eq!(v.reference("t.xml", path, "Zz9Secret"), "${env:PASSWORD}");
        let all = v.into_vec();
        assert_eq!(
            all[0].used_for,
            "node: t.xml: /tomcat-users/user[@username='a' and @password='********']/@password"
        );
    }

    /// A secret attribute written inside another attribute's value is found
    /// twice, the ranges overlapping: refused, as a secret no reference can
    /// stand for, never spliced.
    #[test]
    fn secrets_found_inside_one_another_are_refused() {
        // What follows a secret's name inside another value is no value
        // unless quoted: both values here are secrets of their own.
        let markup = r#"<a x=" password=é" password="v"/>"#;
        let out = Variables::default()
            .markup("repository/conf/carbon.xml", "/Server", markup)
            .unwrap();
        // `x` holds a password parameter: a secret too, with a reference.
        assert_eq!(
            out,
            r#"<a x="${env:SERVER_X}" password="${env:SERVER_PASSWORD}"/>"#
        );
        for markup in [
            r#"<a password=" secret='q' " secret="z"/>"#,
            r#"<a x="jdbc:mysql://admin:Top@db password='v' " password="real"/>"#,
        ] {
            let err = Variables::default()
                .markup("repository/conf/carbon.xml", "/Server", markup)
                .unwrap_err();
            assert!(err.contains("no reference can stand"), "{markup}: {err}");
        }
    }

    #[test]
    fn ranges_are_replaced_in_one_pass() {
        let pieces = [(1..2, "X"), (3..5, ""), (6..6, "+")];
        let spliced = spliced("abcdefg", pieces.iter().map(|(r, w)| (r, *w)));
        assert_eq!(spliced, "aXcf+g");
    }

    #[test]
    fn variable_names_start_as_shell_names_do() {
        assert_eq!(
            variable_name("/Server/Service/Connector[@port='9443']/@keystorePass"),
            "SECRET_9443_KEYSTOREPASS"
        );
    }

    #[test]
    fn variables_are_named_after_the_key_and_the_element() {
        assert_eq!(
            variable_name("/d/datasource[name='WSO2AM_DB']/definition/configuration/password"),
            "WSO2AM_DB_PASSWORD"
        );
        assert_eq!(
            variable_name("/Server/Security/KeyStore/Password"),
            "KEYSTORE_PASSWORD"
        );
        assert_eq!(
            variable_name("/UserManager/Realm/Configuration/AdminUser/Password"),
            "ADMINUSER_PASSWORD"
        );
        assert_eq!(
            variable_name("/U/Realm/UserStoreManager/Property[@name='ConnectionPassword']"),
            "CONNECTIONPASSWORD"
        );
    }

    #[test]
    fn equal_values_share_a_variable_and_others_are_numbered() {
        let mut v = Variables::default();
        let p = "/d/datasource[name='A']/password";
        assert_eq!(v.reference("f", p, "one"), "${env:A_PASSWORD}");
        assert_eq!(v.reference("f", p, "one"), "${env:A_PASSWORD}");
        assert_eq!(v.reference("f", p, "two"), "${env:A_PASSWORD_2}");
        assert_eq!(v.into_vec().len(), 2);
    }

    /// Nesting as deep as a parse allows: no recursion, and a path
    /// written out only for the secret found.
    #[test]
    fn a_secret_nested_100_000_deep_becomes_a_reference() {
        let depth = 100_000;
        let markup = format!(
            "<d>{}<password>pw</password>{}</d>",
            "<a>".repeat(depth),
            "</a>".repeat(depth)
        );
        let mut v = Variables::default();
        let out = v.markup("f", "/d", &markup).unwrap();
        assert!(
            out.contains("<password>${env:"),
            "{}",
            &out[out.len() - 200..]
        );
        let vars = v.into_vec();
        assert_eq!(vars.len(), 1);
        assert_eq!(vars[0].value, "pw");
    }

    #[test]
    fn secrets_in_markup_become_references_and_nothing_else_changes() {
        let mut v = Variables::default();
        let markup = "<datasource>\n    <name>B</name>\n    <url>${carbon.home}</url>\n    \
                      <password>p&amp;w</password>\n    <x keyPass=\"k\" a=\"1\"/>\n</datasource>";
        let out = v.markup("f", "/d/datasource[name='B']", markup).unwrap();
        assert_eq!(
            out,
            "<datasource>\n    <name>B</name>\n    <url>$${carbon.home}</url>\n    \
             <password>${env:B_PASSWORD}</password>\n    <x keyPass=\"${env:B_KEYPASS}\" a=\"1\"/>\n</datasource>"
        );
        let vars = v.into_vec();
        assert_eq!(vars[0].value, "p&w", "the value as the file means it");
        // A password in a URL: the URL becomes a variable, whole.
        let mut v = Variables::default();
        let url = "jdbc:x://u:pw@h/db?password=pw";
        let out = v
            .markup("f", "/d", &format!("<d><url>{url}</url></d>"))
            .unwrap();
        assert_eq!(out, "<d><url>${env:D_URL}</url></d>");
        assert_eq!(v.into_vec()[0].value, url);
        // One in a comment has no element to stand for: refused, not leaked.
        let mut v = Variables::default();
        let err = v
            .markup("f", "/d", "<d><!-- jdbc:x://u:pw@h/db --><a/></d>")
            .unwrap_err();
        assert!(err.contains("holds a secret"), "{err}");
    }
}
