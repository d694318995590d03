//! Settling: which documents validation re-parses with their edits, and
//! that the changes handed out are the same either way. Unit tests, since
//! settling is the crate's own tuning.

use std::path::Path;

use crate::datasources::{self, Datasource};
use crate::validate::{checked_changes, settle_for_rules};
use crate::{axis2, CarbonHome, Session};

const MASTER: &str = "repository/conf/datasources/master-datasources.xml";

fn home() -> CarbonHome {
    CarbonHome::open(golden::workspace_root().join("fixtures/homes/carbon-4.4")).unwrap()
}

fn mysql_datasource(name: &str, jndi: &str) -> Datasource {
    Datasource {
        name: name.into(),
        jndi: Some(jndi.into()),
        configuration: vec![
            ("url".into(), "jdbc:mysql://db:3306/x".into()),
            ("driverClassName".into(), "com.mysql.jdbc.Driver".into()),
        ],
        ..Default::default()
    }
}

#[test]
fn only_the_documents_the_rules_read_are_settled_and_every_change_is_the_same() {
    let home = home();
    let plan = |session: &mut Session| {
        crate::carbon_xml::set_offset(session, 3).unwrap();
        axis2::set_clustering_enabled(session, true).unwrap();
        datasources::ensure_datasource(session, MASTER, &mysql_datasource("NEW_DB", "jdbc/New"))
            .unwrap();
    };
    let mut everything_settled = Session::new(&home);
    plan(&mut everything_settled);
    everything_settled.settle().unwrap();
    let expected = everything_settled.changes().unwrap();
    assert_eq!(expected.len(), 3);

    let mut session = Session::new(&home);
    plan(&mut session);
    settle_for_rules(&mut session).unwrap();
    let settled = |rel: &str| session.settled_document(Path::new(rel)).is_some();
    // carbon.xml's last edit, its offset, is checked at render by parsing
    // `<Offset>` alone; the rules read the other two.
    assert!(!settled("repository/conf/carbon.xml"));
    assert!(settled("repository/conf/axis2/axis2.xml"));
    assert!(settled(MASTER));
    let (changes, _) = checked_changes(session).unwrap();
    assert_eq!(changes, expected);

    // An element uncommented among the root's children makes the render's
    // check the whole text: settled instead, through the tree cache.
    let mut session = Session::new(&home);
    crate::carbon_xml::set_host_name(&mut session, "node.example.org").unwrap();
    settle_for_rules(&mut session).unwrap();
    assert!(session
        .settled_document(Path::new("repository/conf/carbon.xml"))
        .is_some());
    let (changes, _) = checked_changes(session).unwrap();
    assert_eq!(changes.len(), 1);
}

#[test]
fn a_datasource_named_in_any_other_conf_file_is_used() {
    // A few names, each looked for alone; and many, looked for at once.
    named_in_other_conf_files(0);
    named_in_other_conf_files(20);
}

/// Names found only in files no rule reads: one in a sub-folder the session
/// never opens, one in a file the plan edits (carbon.xml, searched as it
/// would be written), one nowhere; and `more` unused datasources of their
/// own, found nowhere.
fn named_in_other_conf_files(more: usize) {
    let dir = tempfile::tempdir().unwrap();
    golden::copy_tree(
        &golden::workspace_root().join("fixtures/homes/carbon-4.4"),
        dir.path(),
    );
    let identity = dir.path().join("repository/conf/identity");
    std::fs::create_dir(&identity).unwrap();
    std::fs::write(
        identity.join("identity.xml"),
        "<Server><JDBCPersistenceManager><DataSource><Name>jdbc/IdentityDB</Name></DataSource></JDBCPersistenceManager></Server>",
    )
    .unwrap();
    // HostName live already: setting it is a small edit, which leaves
    // carbon.xml unsettled (below).
    // (The file is Latin-1: bytes, not a string.)
    let carbon = dir.path().join("repository/conf/carbon.xml");
    let bytes = std::fs::read(&carbon).unwrap();
    let commented: &[u8] = b"<!--HostName>www.example.org</HostName-->";
    let at = bytes
        .windows(commented.len())
        .position(|w| w == commented)
        .unwrap();
    let live = b"<HostName>www.example.org</HostName>";
    std::fs::write(
        &carbon,
        [&bytes[..at], live, &bytes[at + commented.len()..]].concat(),
    )
    .unwrap();
    let home = CarbonHome::open(dir.path()).unwrap();
    let mut session = Session::new(&home);
    let mut all: Vec<(String, String)> = [
        ("IDENTITY_DB", "jdbc/IdentityDB"),
        ("NAMED_DB", "jdbc/Named"),
        ("LONELY_DB", "jdbc/Lonely"),
    ]
    .iter()
    .map(|(name, jndi)| (name.to_string(), jndi.to_string()))
    .collect();
    all.extend((0..more).map(|i| (format!("MORE_{i}"), format!("jdbc/More{i}"))));
    for (name, jndi) in &all {
        datasources::ensure_datasource(&mut session, MASTER, &mysql_datasource(name, jndi))
            .unwrap();
    }
    crate::carbon_xml::set_host_name(&mut session, "NAMED_DB.example.org").unwrap();
    // No rule parses carbon.xml, and its edit is small, so it is not
    // settled: the search reads its edits by rendering them.
    settle_for_rules(&mut session).unwrap();
    assert!(session
        .settled_document(Path::new("repository/conf/carbon.xml"))
        .is_none());
    let (_, warnings) = checked_changes(session).unwrap();
    let unreferenced: Vec<String> = warnings
        .iter()
        .filter(|f| f.message.contains("is not referenced"))
        .map(|f| f.message.clone())
        .collect();
    let mut expected = vec![
        // The fixture's own, before this plan.
        "datasource EXAMPLE_STORE_DB (no JNDI name) is not referenced by any configuration file"
            .to_string(),
        "datasource LONELY_DB (jdbc/Lonely) is not referenced by any configuration file".into(),
    ];
    expected.extend((0..more).map(|i| {
        format!("datasource MORE_{i} (jdbc/More{i}) is not referenced by any configuration file")
    }));
    assert_eq!(unreferenced, expected);
}
