//! Commented-out elements read once under an element and asked about many
//! steps ([`Document::commented_children`]) answer as a search of every
//! comment for each path ([`Document::select_commented`]) does.

use xmlsplice::Document;

use crate::support::commented::check_commented_children;
use crate::support::workspace_root;

/// Every XML file of the fixtures: the engine's and the sample homes'.
fn every_fixture() -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut folders = vec![workspace_root().join("fixtures")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "xml") {
                files.push((path.display().to_string(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files
}

#[test]
fn read_once_they_answer_as_a_search_of_every_comment_does() {
    let mut asked = 0;
    for (name, bytes) in every_fixture() {
        let Ok(doc) = Document::parse(bytes) else {
            continue; // a fixture of a broken file
        };
        asked += check_commented_children(&doc)
            .map_err(|e| format!("{name}: {e}"))
            .unwrap();
    }
    assert!(asked > 1000, "only {asked} steps asked about");
}

#[test]
fn comments_in_both_forms_are_read_and_prose_is_not() {
    let doc = Document::parse(
        "<Server>\n  <!-- the host name -->\n  <!--HostName>www.wso2.org</HostName-->\n  \
         <!--\n  <parameter name=\"a\">\n    <x>1</x>\n  </parameter>\n  -->\n</Server>",
    )
    .unwrap();
    let mut commented = doc.commented_children(doc.root());
    assert!(commented.any("HostName").unwrap());
    assert!(commented.any("HostName[.='www.wso2.org']").unwrap());
    assert!(commented.any("parameter[@name='a' and x='1']").unwrap());
    assert!(!commented.any("parameter[@name='a' and x='2']").unwrap());
    assert!(!commented.any("the").unwrap());
}

#[test]
fn only_one_step_down_is_asked_about() {
    let doc = Document::parse("<a><!--<b/>--></a>").unwrap();
    let mut commented = doc.commented_children(doc.root());
    for step in ["a/b", "//b", ".", "/b"] {
        let err = commented.any(step).unwrap_err();
        assert!(err.to_string().contains("one step down"), "{step}: {err}");
    }
}
