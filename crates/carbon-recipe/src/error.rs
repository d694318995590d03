//! Recipe errors that point into the recipe: file, line, column, the line
//! itself and a caret under the offending text, as rustc and the toml crate
//! print them.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::redact;

/// An error in a recipe, or in applying one.
#[derive(Debug)]
pub struct RecipeError {
    path: PathBuf,
    message: String,
    /// The offending text, in the recipe's source.
    place: Option<RecipePlace>,
}

impl RecipeError {
    /// An error at `span` of `source`, a text that is not (yet) a recipe's.
    pub(crate) fn at(
        path: &Path,
        source: &str,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> RecipeError {
        let text = RecipeText::new(path.to_path_buf(), source.to_string());
        RecipeError::in_recipe(&Arc::new(text), span, message)
    }

    /// An error at `span` of a recipe's text, which it shares.
    pub(crate) fn in_recipe(
        text: &Arc<RecipeText>,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> RecipeError {
        RecipeError {
            path: text.path.clone(),
            message: message.into(),
            place: Some(RecipePlace::new(Arc::clone(text), span)),
        }
    }

    pub(crate) fn whole(path: &Path, message: impl Into<String>) -> RecipeError {
        RecipeError {
            path: path.to_path_buf(),
            message: message.into(),
            place: None,
        }
    }

    /// A TOML syntax or schema error, in plain words, with a "did you mean"
    /// for a misspelt key, and no secret value of its line ([`redact`]).
    pub(crate) fn from_toml(path: &Path, source: &str, err: &toml::de::Error) -> RecipeError {
        let mut message = plain_words(err.message().trim());
        if let Some(hint) = did_you_mean(&message) {
            message.push_str(&format!("; did you mean `{hint}`?"));
        } else if let Some(hint) = belongs_in(&message) {
            message.push_str(&hint);
        }
        match err.span() {
            Some(span) => {
                if let Some(said) = brackets_mistaken(&message, source, span.clone())
                    .or_else(|| dotted_key(&message, source, span.clone()))
                {
                    message = said;
                }
                let line = line_around(source, span.start);
                for value in redact::secret_values(&source[line.clone()]) {
                    let value = &source[line.start + value.start..line.start + value.end];
                    message = redact::masked_message(&message, value);
                }
                RecipeError::at(path, source, span, message)
            }
            None => RecipeError::whole(path, message),
        }
    }

    /// What is wrong, without the location.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The recipe file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Line and column (from 1) of the offending text, if it has a place.
    pub fn line_column(&self) -> Option<(usize, usize)> {
        self.place.as_ref().map(RecipePlace::line_column)
    }

    /// The error in parts, as validation's findings are given (file,
    /// line, column, message), for a report that shows errors as fields.
    pub fn finding(&self) -> carbon_config::validate::Finding {
        carbon_config::validate::Finding {
            severity: carbon_config::validate::Severity::Error,
            file: self.path.clone(),
            at: self
                .place
                .as_ref()
                .map(|place| xmlsplice::TextPos::of_offset(&place.text.source, place.span.start)),
            message: self.message.clone(),
        }
    }
}

/// Shown with its control characters escaped ([`visible`]): a message may
/// quote a node name or a value, and the recipe line anything, and neither
/// may drive the terminal or start a line of its own.
impl fmt::Display for RecipeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.place {
            Some(place) => place.show(f, &self.message),
            None => write!(
                f,
                "{}: {}",
                visible::path(&self.path),
                visible::line(&self.message)
            ),
        }
    }
}

/// A recipe file's path and text, shared by the recipe and its nodes (so
/// that a node can point into the recipe without a copy of it).
#[derive(Debug)]
pub(crate) struct RecipeText {
    pub path: PathBuf,
    pub source: String,
    /// The source's lines, counted the first time a place is shown: a plan
    /// may name thousands of places, each a binary search then.
    lines: OnceLock<xmlsplice::Lines>,
}

impl RecipeText {
    pub(crate) fn new(path: PathBuf, source: String) -> RecipeText {
        RecipeText {
            path,
            source,
            lines: OnceLock::new(),
        }
    }
}

/// A place in a recipe: where a [`RecipeError`] is, or the entry that asked
/// for one of a node's steps ([`Node::asked_at`](crate::Node::asked_at)).
/// Shown as `recipe.toml:LINE:COLUMN: asked for here`, the line with its
/// secret values masked, and a caret under the entry: an error in carrying
/// out a step names the file of the home it was about, and this the
/// recipe's line that caused it.
#[derive(Clone, Debug)]
pub struct RecipePlace {
    text: Arc<RecipeText>,
    span: Range<usize>,
}

impl RecipePlace {
    pub(crate) fn new(text: Arc<RecipeText>, span: Range<usize>) -> RecipePlace {
        RecipePlace { text, span }
    }

    /// The recipe file.
    pub fn path(&self) -> &Path {
        &self.text.path
    }

    /// The entry as the recipe writes it, its quotes left out.
    pub fn entry(&self) -> &str {
        let source = &self.text.source;
        let span = self.span.start.min(source.len())..self.span.end.min(source.len());
        source[span].trim_matches(|c| c == '"' || c == '\'')
    }

    /// Line and column (from 1) of the entry; the column counts
    /// characters, as the engine's positions in XML files do.
    pub fn line_column(&self) -> (usize, usize) {
        let source = &self.text.source;
        let lines = self.text.lines.get_or_init(|| xmlsplice::Lines::of(source));
        let at = lines.pos(source, self.span.start);
        (at.line as usize, at.column as usize)
    }

    /// `path:line:column: message`, then the line with a caret under the
    /// place, as rustc shows one; control characters escaped, the caret
    /// under the text as shown.
    fn show(&self, f: &mut fmt::Formatter<'_>, message: &str) -> fmt::Result {
        let (source, span) = (&self.text.source, &self.span);
        let (line, column) = self.line_column();
        writeln!(
            f,
            "{}:{line}:{column}: {}",
            visible::path(self.path()),
            visible::line(message)
        )?;
        // The line as the error shows it: secret values masked, the caret
        // under the same text (redact.rs).
        let start = span.start.min(source.len());
        let around = line_around(source, start);
        // A span may start on the line's `\r`, which the line shown leaves out.
        let from = start.min(around.end);
        let in_line = from - around.start..span.end.clamp(from, around.end) - around.start;
        let (text, at) = redact::masked_line(&source[around], in_line);
        let width = |text: &str| visible::line(text).chars().count();
        let gutter = " ".repeat(line.to_string().len());
        writeln!(f, "{gutter} |")?;
        writeln!(f, "{line} | {}", visible::line(&text))?;
        write!(
            f,
            "{gutter} | {}{}",
            " ".repeat(width(&text[..at.start])),
            "^".repeat(width(&text[at]).max(1))
        )
    }
}

impl fmt::Display for RecipePlace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.show(f, "asked for here")
    }
}

impl std::error::Error for RecipeError {}

/// The byte range of the line holding `offset`, without its line break.
fn line_around(source: &str, offset: usize) -> Range<usize> {
    let start = source[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = source[offset..]
        .find('\n')
        .map_or(source.len(), |i| offset + i);
    let end = if source[start..end].ends_with('\r') {
        end - 1
    } else {
        end
    };
    start..end.max(start)
}

/// serde's type names in the words of a recipe's author: `u32` is a whole
/// number, a sequence an array, a map or a struct a table.
fn plain_words(message: &str) -> String {
    let mut message = message
        .replace(
            "expected u32",
            "expected a whole number from 0 to 4294967295",
        )
        .replace("expected a sequence", "expected an array")
        .replace("expected a map", "expected a table");
    while let Some(at) = message.find("expected struct ") {
        let name_start = at + "expected struct ".len();
        let name_end = message[name_start..]
            .find(|c: char| !c.is_alphanumeric() && c != '_')
            .map_or(message.len(), |i| name_start + i);
        message.replace_range(at..name_end, "expected a table");
    }
    message
}

/// For a type error at a table header or an inline table whose brackets say
/// the other kind of table (`[[server]]` for `[server]`, `[registry.mount]`
/// for `[[registry.mount]]`): what to write instead. serde's own words name
/// the first field's type there ("invalid type: map, expected a whole
/// number" for `[[server]]`), which says nothing to a recipe's author.
fn brackets_mistaken(message: &str, source: &str, span: Range<usize>) -> Option<String> {
    let text = source.get(span.clone())?.trim();
    let table_for_array = message.starts_with("invalid type: map, expected an array");
    if let Some(key) = text.strip_prefix("[[").and_then(|t| t.strip_suffix("]]")) {
        let key = key.trim();
        let last = key.rsplit('.').next().unwrap_or(key).trim();
        let array_for_other = (message.starts_with("invalid type: map, expected")
            && !table_for_array)
            || message.starts_with("invalid type: sequence, expected a table");
        if !array_for_other {
            return None;
        }
        return Some(if crate::keys::STRING_LISTS.contains(&last) {
            format!(
                "`[[{key}]]` starts a table in an array of tables, but `{last}` is a list of \
                 strings: write `{last} = [\"…\", \"…\"]` in its table"
            )
        } else {
            format!(
                "`[[{key}]]` starts a table in an array of tables, but `{key}` is one table: \
                 write `[{key}]`"
            )
        });
    }
    if !table_for_array {
        return None;
    }
    if let Some(key) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        let key = key.trim();
        return Some(format!(
            "`[{key}]` makes one table, but `{key}` is an array of tables: write `[[{key}]]` \
             before each of them"
        ));
    }
    if text.starts_with('{') {
        // `key = { … }`: the key is what precedes the `=` on its line.
        let line = &source[line_around(source, span.start)];
        let key = line.split('=').next().unwrap_or("").trim();
        return Some(format!(
            "`{key}` is an array of tables, and `{{ … }}` is one table: write `{key} = [{{ … }}]`"
        ));
    }
    None
}

/// For a string expected where a bare dotted key stands
/// (`carbon.spark.master.count = "2"` in `[spark]`): TOML reads the dots as
/// tables inside tables, and serde says "invalid type: map, expected a
/// string" at the key's first part. WSO2's names hold dots (Spark keys,
/// Hazelcast parameters, member properties such as `port.mapping.80`), so
/// the name is to be quoted.
fn dotted_key(message: &str, source: &str, span: Range<usize>) -> Option<String> {
    if !message.starts_with("invalid type: map, expected a string") {
        return None;
    }
    let first = source.get(span.clone())?;
    let bare = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if first.is_empty() || !first.chars().all(bare) {
        return None;
    }
    if !source[span.end..]
        .trim_start_matches([' ', '\t'])
        .starts_with('.')
    {
        return None;
    }
    // The whole key: up to the `=` that follows it, on its line.
    let line = &source[span.start..line_around(source, span.start).end];
    let key: String = line
        .split('=')
        .next()?
        .split('.')
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(".");
    Some(format!(
        "`{key}` is a dotted key, which TOML reads as tables inside tables; quote a name \
         that holds dots: `\"{key}\" = …`"
    ))
}

/// For "unknown field `x`, expected one of `a`, `b`": the closest expected
/// name, when it is close enough to be a typo.
fn did_you_mean(message: &str) -> Option<String> {
    let unknown = message.strip_prefix("unknown field `")?;
    let (got, rest) = unknown.split_once('`')?;
    let candidates: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    closest(got, &candidates)
}

/// For "unknown field `offset`, expected one of `home`, …": the tables the
/// key is a key of, and for a node table how to write it there.
fn belongs_in(message: &str) -> Option<String> {
    let (got, expected) = message.strip_prefix("unknown field `")?.split_once('`')?;
    let tables = crate::keys::tables_with(got);
    if tables.is_empty() {
        return None;
    }
    let mut hint = format!("; `{got}` is a key of {}", tables.join(" or "));
    let in_node = expected.contains("`home`");
    if let (true, [table]) = (in_node, tables.as_slice()) {
        if let Some(name) = table.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            if !name.starts_with('[') && !name.contains('.') {
                hint.push_str(&format!(": in a node, `{name} = {{ {got} = … }}`"));
            }
        }
    }
    Some(hint)
}

/// The candidate closest to `got` in edit distance, if within a third of its
/// length, and not made by replacing all of `got` (node `c` is no typo of
/// node `a`).
pub(crate) fn closest(got: &str, candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (strsim::osa_distance(got, c), *c))
        .filter(|(d, c)| {
            *d > 0 && *d <= (c.len().max(got.len()) / 3).max(1) && *d < got.chars().count()
        })
        .min()
        .map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_for_typos_only() {
        assert_eq!(
            did_you_mean(
                "unknown field `offest`, expected one of `offset`, `hostname`, `mgt_hostname`"
            ),
            Some("offset".into())
        );
        assert_eq!(
            did_you_mean("unknown field `zzz`, expected `offset` or `hostname`"),
            None
        );
        assert_eq!(
            closest("membership_schema", &["membership_scheme", "members"]),
            Some("membership_scheme".into())
        );
        assert_eq!(closest("hots", &["host", "db"]), Some("host".into()));
        assert_eq!(closest("c", &["a", "b"]), None);
    }

    #[test]
    fn errors_render_with_line_column_and_caret() {
        let source = "[server]\noffset = 70000\n";
        let err = RecipeError::at(Path::new("r.toml"), source, 18..23, "too large");
        assert_eq!(
            err.to_string(),
            "r.toml:2:10: too large\n  |\n2 | offset = 70000\n  |          ^^^^^"
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        // 'é' is two bytes but one column.
        let source = "[server]\nname = \"é\" # x\n";
        let err = RecipeError::at(Path::new("r.toml"), source, 21..22, "here");
        assert_eq!(err.line_column(), Some((2, 12)));
    }
}
