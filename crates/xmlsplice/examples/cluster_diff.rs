//! Shows, as a unified diff, what enabling Hazelcast clustering does to an
//! axis2.xml, without writing anything:
//!
//! ```text
//! cargo run -p xmlsplice --example cluster_diff -- fixtures/xml/axis2-crlf.xml
//! ```
//!
//! Clustering on, membership scheme `wka`, two well-known members, and the
//! commented-out multicast address uncommented in place. Carriage returns
//! print as `␍`, so the diff also shows that line endings are kept.

use std::process::ExitCode;

use xmlsplice::{Document, Error, NewElement};

fn edit(doc: &mut Document) -> Result<(), Error> {
    let clustering = doc.select_one("clustering")?;
    doc.set_attribute(clustering, "enable", "true")?;
    let scheme = doc.select_one((clustering, "parameter[@name='membershipScheme']"))?;
    doc.set_text(scheme, "wka")?;
    let mut members = NewElement::new("members");
    for (host, port) in [("10.0.0.1", "4000"), ("10.0.0.2", "4000")] {
        members = members.child(
            NewElement::new("member")
                .text_child("hostName", host)
                .text_child("port", port),
        );
    }
    let current = doc.select_one((clustering, "members"))?;
    doc.replace(current, members)?;
    for found in doc.select_commented((clustering, "parameter[@name='mcastAddress']"))? {
        doc.uncomment(&found)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: cluster_diff AXIS2_XML");
        return ExitCode::from(2);
    };
    let run = || -> Result<String, Box<dyn std::error::Error>> {
        let before = std::fs::read(&path)?;
        let mut doc = Document::parse(&before).map_err(|e| e.with_path(&path))?;
        edit(&mut doc).map_err(|e| e.with_path(&path))?;
        let after = doc.render().map_err(|e| e.with_path(&path))?;
        let text = |b: &[u8]| doc.encoding().decode(b).map(|t| t.replace('\r', "␍"));
        let (old, new) = (text(&before)?, text(&after)?);
        Ok(similar::TextDiff::from_lines(&old, &new)
            .unified_diff()
            .header(&path, &path)
            .to_string())
    };
    match run() {
        Ok(diff) => {
            print!("{diff}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("cluster_diff: {err}");
            ExitCode::FAILURE
        }
    }
}
