//! Errors as the operator reads them: every cause with its control
//! characters escaped ([`visible`]), so that no error can drive the terminal
//! or print a line of its own.
//!
//! The causes of an error hold node names, paths and values from recipes and
//! homes. A cause that is one line by nature (a context such as `node NAME
//! (HOME)`, an I/O error, the engine's `file:line:column: message`) is
//! escaped whole, line feeds included. The causes that are several lines by
//! design (a recipe error with the line it quotes, a step that failed with
//! the recipe entry that asked for it, a failed validation's findings, an
//! error already shown) escape their own parts and keep their line feeds.

use std::fmt;

use visible::LineFeeds;

/// An error's text, already made safe to show ([`error_text`]), kept whole:
/// a message rebuilt from an error, with its secrets masked, say.
#[derive(Debug)]
pub struct Shown(pub String);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Shown {}

/// `err` and its causes, joined as anyhow's `{:#}` joins them (`: `), each
/// made safe to show.
pub fn error_text(err: &anyhow::Error) -> String {
    err.chain().map(cause_text).collect::<Vec<_>>().join(": ")
}

/// One cause, made safe to show.
fn cause_text(cause: &(dyn std::error::Error + 'static)) -> String {
    let several_lines = cause.is::<Shown>()
        || cause.is::<carbon_recipe::RecipeError>()
        || cause.is::<carbon_recipe::plan::StepFailed>()
        || matches!(
            cause.downcast_ref(),
            Some(carbon_config::Error::Validation(_))
        );
    let line_feeds = if several_lines {
        LineFeeds::Keep
    } else {
        LineFeeds::Escape
    };
    visible::escape_controls(&cause.to_string(), line_feeds).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn one_line_causes_are_escaped_whole_and_joined_as_anyhow_joins_them() {
        let io = std::io::Error::other("cannot write a\nwrote node1: b\u{1b}[2J");
        let err = Err::<(), _>(io)
            .context("node n\u{1b}[31m\nwrote x (/h)")
            .unwrap_err();
        assert_eq!(
            error_text(&err),
            "node n\\u{1b}[31m\\nwrote x (/h): cannot write a\\nwrote node1: b\\u{1b}[2J"
        );
        // Nothing to escape: what `{:#}` shows.
        let plain = anyhow::anyhow!("root").context("outer");
        assert_eq!(error_text(&plain), format!("{plain:#}"));
    }

    #[test]
    fn causes_of_several_lines_keep_their_line_feeds_and_nothing_else() {
        let env = std::collections::BTreeMap::new();
        let recipe = carbon_recipe::Recipe::parse("r.toml", "[nodes.a]\n\n").unwrap();
        let recipe = recipe.resolve("a", None, &env).unwrap_err();
        let err = anyhow::Error::new(recipe).context("reading\n");
        assert_eq!(
            error_text(&err),
            "reading\\n: r.toml:1:1: node a has no `home` (give one, or --home a=PATH)\n  |\n\
             1 | [nodes.a]\n  | ^^^^^^^^^"
        );
        let shown = anyhow::Error::new(Shown("two\nlines\r\u{1b}".into()));
        assert_eq!(error_text(&shown), "two\nlines\\r\\u{1b}");
    }
}
