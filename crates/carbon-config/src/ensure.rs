//! The pattern behind most operations: make an element active and give it a
//! value, using what the file already has before adding anything.
//!
//! 1. An active element: use it.
//! 2. Else a commented-out one (WSO2 ships options that way): uncomment it in
//!    place, so it keeps its position and its neighbouring documentation.
//! 3. Else insert a new one after its usual neighbours.
//!
//! Two active or two commented-out candidates are an error naming their
//! lines: picking one would be a guess about the operator's file.

use std::path::PathBuf;

use xmlsplice::{Document, Element, NewElement, Place};

use crate::error::{Error, Result};
use crate::session::{Outcome, Session};

/// Checks a value that goes into a path predicate (`[@name='...']`,
/// `[id='...']`): it must be non-empty, and a quote would end the predicate.
/// A child's text is matched trimmed (`[name='...']`), so a value with
/// whitespace at either end would never find the element written with it:
/// every run would add it again. `what` names the value in the message
/// ("datasource name", "mount path").
pub(crate) fn check_predicate_value(
    file: impl Into<PathBuf>,
    what: &str,
    value: &str,
) -> Result<()> {
    if value.is_empty() || value.contains(['\'', '"']) || value.trim() != value {
        return Err(Error::Invalid {
            file: file.into(),
            message: format!(
                "{what} {value:?} must be non-empty, hold no quotes, and neither start nor \
                 end with a space or a line break"
            ),
        });
    }
    Ok(())
}

/// Where an element goes when the file has none, active or commented out.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Fallback<'a> {
    /// After the last element matched by the first of these paths (relative
    /// to the context) that matches anything; else as the context's last child.
    After(&'a [&'a str]),
    /// As the context's last child.
    LastChild,
}

/// A document and the name of its file, for error messages.
pub(crate) struct Target<'d> {
    pub doc: &'d mut Document,
    pub file: PathBuf,
}

/// Runs `op` on the XML file `rel` of the session's home, naming the file in
/// every error it returns, and reports what it ensured.
///
/// Edits that add or take away elements are applied (the file re-parsed)
/// before `op` reads the document, unless they are all insertions and `op`
/// only adds whole elements of its own ([`edit_xml_adding`]): re-parsing
/// once for a run of insertions instead of after each is what keeps a fleet
/// of nodes cheap to plan.
pub(crate) fn edit_xml(
    session: &mut Session,
    rel: &str,
    what: String,
    op: impl FnOnce(&mut Target) -> Result<bool>,
) -> Result<Outcome> {
    edit_xml_with(session, rel, what, false, op)
}

/// As [`edit_xml`], for an operation that either adds one whole element
/// (datasource, dbConfig, remoteInstance, mount) after its kind, or edits
/// one that the file had before this session. Insertions staged by earlier
/// such operations are not applied first: an element inserted at the same
/// place follows them, and none of them is what `op` reads.
pub(crate) fn edit_xml_adding(
    session: &mut Session,
    rel: &str,
    what: String,
    op: impl FnOnce(&mut Target) -> Result<bool>,
) -> Result<Outcome> {
    edit_xml_with(session, rel, what, true, op)
}

/// Whether an edit kind leaves the tree as it was (a value changed in place).
fn in_place(kind: &str) -> bool {
    matches!(kind, "set text" | "set attribute" | "remove attribute")
}

fn edit_xml_with(
    session: &mut Session,
    rel: &str,
    what: String,
    adding: bool,
    op: impl FnOnce(&mut Target) -> Result<bool>,
) -> Result<Outcome> {
    let file = session.home().path().join(rel);
    let doc = session.xml(rel)?;
    let stale = doc
        .staged_edit_kinds()
        .any(|kind| !(in_place(kind) || adding && kind == "insert"));
    if stale {
        doc.apply().map_err(|e| e.with_path(&file))?;
    }
    let mut target = Target {
        doc,
        file: file.clone(),
    };
    let changed = op(&mut target).map_err(|e| match e {
        Error::Xml(x) if x.path().is_none() => Error::Xml(x.with_path(&file)),
        other => other,
    })?;
    Ok(Outcome {
        file: rel.into(),
        what,
        changed,
    })
}

impl Target<'_> {
    pub(crate) fn invalid(&self, message: String) -> Error {
        Error::Invalid {
            file: self.file.clone(),
            message,
        }
    }

    /// The one element at `path` (from the root element; `.` is the root).
    pub(crate) fn one(&self, path: &str) -> Result<Element> {
        Ok(self.doc.select_one(path)?)
    }

    /// Makes `child` (below `context`) active: returns whether it changed.
    /// After a change the document is re-parsed, so the element can be
    /// selected and edited next.
    pub(crate) fn ensure_active(
        &mut self,
        context: &str,
        child: &str,
        new: &NewElement,
        fallback: Fallback,
    ) -> Result<bool> {
        self.ensure_active_preferring(context, child, None, new, fallback)
    }

    /// As [`Target::ensure_active`]; when several commented-out elements
    /// match `child`, the one `prefer` also matches is uncommented, if it is
    /// exactly one.
    pub(crate) fn ensure_active_preferring(
        &mut self,
        context: &str,
        child: &str,
        prefer: Option<&str>,
        new: &NewElement,
        fallback: Fallback,
    ) -> Result<bool> {
        let ctx = self.one(context)?;
        if self.doc.select_optional((ctx, child))?.is_some() {
            return Ok(false);
        }
        let mut commented = self.doc.select_commented((ctx, child))?;
        if let (Some(prefer), true) = (prefer, commented.len() > 1) {
            let preferred = self.doc.select_commented((ctx, prefer))?;
            if preferred.len() == 1 {
                commented = preferred;
            }
        }
        match commented.as_slice() {
            [one] => self.doc.uncomment(one)?,
            [] => {
                let mut place = Place::LastChild(ctx);
                if let Fallback::After(anchors) = fallback {
                    for anchor in anchors {
                        if let Some(last) = self.doc.select((ctx, anchor))?.last() {
                            place = Place::After(*last);
                            break;
                        }
                    }
                }
                self.doc.insert(place, new)?;
            }
            several => {
                let lines: Vec<String> = several
                    .iter()
                    .map(|c| self.doc.commented_position(c).line.to_string())
                    .collect();
                return Err(self.invalid(format!(
                    "{} commented-out elements match {child:?} (lines {}); uncomment the one you mean by hand",
                    several.len(),
                    lines.join(", ")
                )));
            }
        }
        self.doc.apply()?;
        Ok(true)
    }

    /// Makes `child` (below `context`) active and holding `value`: returns
    /// whether anything changed. `new` is what to insert when there is no
    /// such element, active or commented out.
    pub(crate) fn ensure_text(
        &mut self,
        context: &str,
        child: &str,
        value: &str,
        new: NewElement,
        fallback: Fallback,
    ) -> Result<bool> {
        let ctx = self.one(context)?;
        if let Some(element) = self.doc.select_optional((ctx, child))? {
            return Ok(self.doc.set_text(element, value)?);
        }
        // One commented-out element: uncommented holding the value, in one
        // edit, with no re-parse (the next operation applies it if it must).
        if let [one] = self.doc.select_commented((ctx, child))?.as_slice() {
            self.doc.uncomment_with_text(one, value)?;
            return Ok(true);
        }
        let activated = self.ensure_active(context, child, &new.text(value), fallback)?;
        let ctx = self.one(context)?;
        let element = self.doc.select_one((ctx, child))?;
        Ok(self.doc.set_text(element, value)? || activated)
    }

    /// Makes the element at `path` hold these leaf children with these
    /// values, each set in place (or uncommented, or added last), and removes
    /// the active children named in `remove` (the other form of a setting).
    ///
    /// A `password` leaf whose element is secure-vault-protected
    /// (`svns:secretAlias`) is refused: its value lives in the vault, and
    /// writing it here would put a secret in plain text.
    pub(crate) fn ensure_leaves(
        &mut self,
        path: &str,
        leaves: &[(&str, String)],
        remove: &[&str],
    ) -> Result<bool> {
        let mut changed = false;
        for (name, value) in leaves {
            let element = self.one(path)?;
            if let Some(existing) = self.doc.select_optional((element, name))? {
                if let Some(alias) = self.doc.attribute(existing, "svns:secretAlias") {
                    return Err(self.invalid(format!(
                        "the {name} element of {path} is kept in the secure vault under alias \
                         {alias:?}; change it with the cipher tool, not here"
                    )));
                }
            }
            changed |= self.ensure_text(
                path,
                name,
                value,
                NewElement::new(*name),
                Fallback::LastChild,
            )?;
        }
        for name in remove {
            let element = self.one(path)?;
            if let Some(existing) = self.doc.select_optional((element, name))? {
                self.doc.remove(existing)?;
                self.doc.apply()?;
                changed = true;
            }
        }
        Ok(changed)
    }

    /// Inserts `new` after the last active element `kind` below `context`,
    /// else after the last of `anchors`, else as the last child.
    pub(crate) fn insert_after_kind(
        &mut self,
        context: &str,
        kind: &str,
        anchors: &[&str],
        new: &NewElement,
    ) -> Result<()> {
        let ctx = self.one(context)?;
        let mut place = Place::LastChild(ctx);
        for anchor in std::iter::once(&kind).chain(anchors) {
            if let Some(last) = self.doc.select((ctx, anchor))?.last() {
                place = Place::After(*last);
                break;
            }
        }
        // Not applied here: see `edit_xml_adding`.
        self.doc.insert(place, new)?;
        Ok(())
    }

    /// Sets attribute `name` of the one element at `path`.
    pub(crate) fn set_attribute(&mut self, path: &str, name: &str, value: &str) -> Result<bool> {
        let element = self.one(path)?;
        Ok(self.doc.set_attribute(element, name, value)?)
    }
}
