//! Commented-out elements read once under an element
//! ([`Document::commented_children`]) must answer as a search of every
//! comment for each path ([`Document::select_commented`]) does.

use xmlsplice::{Document, Element};

/// Asks both, under every element of `doc` that holds comments, about
/// steps that select each commented-out element there and steps that
/// nearly do. Returns how many steps were asked about.
///
/// # Errors
/// The first step they answer differently, and where.
pub fn check_commented_children(doc: &Document) -> Result<usize, String> {
    let mut asked = 0;
    let mut parents = vec![doc.root()];
    while let Some(parent) = parents.pop() {
        parents.extend(doc.children(parent));
        if !doc.has_comment_children(parent) {
            continue;
        }
        let mut commented = doc.commented_children(parent);
        for step in steps_about(doc, parent) {
            let Ok(searched) = doc.select_commented((parent, step.as_str())) else {
                continue; // a value the path syntax cannot quote
            };
            let read_once = commented.any(&step).map_err(|e| e.to_string())?;
            if read_once == searched.is_empty() {
                return Err(format!(
                    "{step} under <{}> at {}: read once {read_once}, searched {}",
                    doc.name(parent),
                    doc.position(parent),
                    !searched.is_empty()
                ));
            }
            asked += 1;
        }
    }
    Ok(asked)
}

/// Steps that select, and steps that nearly do, each commented-out element
/// under `parent`: by name, by each attribute, by each childless child's
/// text and by its own, by a value none holds, by position.
fn steps_about(doc: &Document, parent: Element) -> Vec<String> {
    let mut steps = vec!["*".to_string(), "nothing-here".to_string()];
    for found in doc.select_commented((parent, "*")).unwrap_or_default() {
        let Ok(element) = Document::parse(found.markup()) else {
            continue; // its prefixes are declared above it
        };
        let root = element.root();
        let name = element.name(root).to_string();
        steps.extend([name.clone(), format!("{name}[1]"), format!("{name}[2]")]);
        for (attribute, value) in element.attributes(root) {
            steps.push(format!("{name}[@{attribute}='{value}']"));
            steps.push(format!("{name}[@{attribute}='{value}-not']"));
            steps.push(format!("{name}[@{attribute}]"));
        }
        for child in element.children(root) {
            if let Some(text) = element.element_text(child) {
                let child = element.name(child);
                steps.push(format!("{name}[{child}='{}']", text.trim()));
            }
        }
        if let Some(text) = element.element_text(root) {
            steps.push(format!("{name}[.='{}']", text.trim()));
        }
    }
    steps
}
