//! Lossless XML editing: change what you ask for, and not one byte more.
//!
//! Configuration files are written by people and shipped by vendors, and
//! their layout is part of them: comments, blank lines, tabs, CRLF line
//! endings, a start tag split over two lines, `ISO-8859-1` in the
//! declaration. Tools that parse a file into a tree and serialise the tree
//! back lose all of that, and turn a two-line change into a diff nobody can
//! review. This crate never serialises a tree. It keeps the original text,
//! parses it with [roxmltree] only to find where things are, and splices each
//! edit into the text at those byte offsets. Every byte outside an edit is
//! the byte that was read.
//!
//! ```
//! use xmlsplice::Document;
//!
//! let original = "<?xml version='1.0' encoding='ISO-8859-1'?>\r\n\
//!                 <!-- keep me -->\r\n\
//!                 <axisconfig>\r\n\
//!                 \t<clustering class=\"Agent\"\r\n\
//!                 \t            enable=\"false\">\r\n\
//!                 \t\t<parameter name=\"membershipScheme\">multicast</parameter>\r\n\
//!                 \t</clustering>\r\n\
//!                 </axisconfig>\r\n";
//!
//! // No edits: the very same bytes.
//! let doc = Document::parse(original)?;
//! assert_eq!(doc.render()?, original.as_bytes());
//!
//! // Two edits: two changed lines, nothing else.
//! let mut doc = Document::parse(original)?;
//! let clustering = doc.select_one("clustering")?;
//! doc.set_attribute(clustering, "enable", "true")?;
//! let scheme = doc.select_one("clustering/parameter[@name='membershipScheme']")?;
//! doc.set_text(scheme, "wka")?;
//! let edited = String::from_utf8(doc.render()?).unwrap();
//! assert_eq!(edited, original.replace("\"false\"", "\"true\"").replace("multicast", "wka"));
//! # Ok::<(), xmlsplice::Error>(())
//! ```
//!
//! # What it does
//! - Reads UTF-8 (a byte order mark is kept), ISO-8859-1 and US-ASCII, as
//!   declared, and writes the same encoding back. A character the encoding
//!   cannot hold becomes a character reference.
//! - Selects elements with a small [`Path`] syntax, and commented-out
//!   elements with the same syntax ([`Document::select_commented`]).
//! - Edits: set or remove an attribute, set an element's text, insert an
//!   element at a [`Place`], replace, remove, comment out, and uncomment in
//!   place. New elements copy their neighbours' indentation and line endings;
//!   only the layout between their tags changes, never a value: a line break
//!   in text is written as it is, in an attribute value as `&#10;`, and
//!   either reads back as the value that was set.
//! - Shares parses: documents opened through one [`TreeCache`] share the
//!   tree of a text parsed before (a fleet's homes hold the same files).
//! - Checks its own output: [`Document::render`] fails rather than hand back
//!   text that does not parse, and overlapping edits are an error.
//! - Keeps large files small: [`Document::parse_owned`] takes the bytes
//!   over, and [`Document::into_rendered`] drops the tree before it builds
//!   the output (under 3 times a 50 MB file's size at peak).
//!
//! # Limitations
//! - Edits are staged against the text as last parsed: an element added or
//!   uncommented can be selected only after [`Document::apply`].
//! - A comment holding several elements is not matched as a commented-out
//!   element; only a comment holding exactly one element is.
//! - Elements produced by DTD entity expansion cannot be edited (they have no
//!   text of their own in the document).
// Forbid, not only deny as the workspace does: nothing here calls libc.
#![forbid(unsafe_code)]

mod cache;
mod commented;
mod document;
mod edit;
mod elide;
mod encoding;
mod ensure;
mod entities;
mod error;
mod escape;
mod fragment;
mod layout;
mod limits;
mod name;
mod path;
mod splice;
mod validate;

pub use cache::TreeCache;
pub use commented::{Commented, CommentedChildren};
pub use document::{Document, Element, Query};
pub use edit::Place;
pub use encoding::Encoding;
pub use ensure::{attribute_step, check_ensure_path, last_step};
pub use error::{Error, ErrorKind, Lines, TextPos};
pub use escape::escaped_forms;
pub use fragment::{IntoMarkup, NewElement};
pub use name::{check_name, is_namespace_declaration, XMLNS_NAMESPACE, XML_NAMESPACE};
pub use path::{error_as_written, expand_prefixes, Path};
