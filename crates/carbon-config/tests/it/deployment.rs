//! deployment.toml edits on the sample Carbon 4.5 home: keys the pack's
//! templates name, set with the file's comments and layout kept.

use carbon_config::deployment::{self, PackKeys, Value};
use carbon_config::{CarbonHome, Session};

fn modern() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    golden::copy_tree(
        &golden::workspace_root().join("fixtures/homes/carbon-4.5"),
        dir.path(),
    );
    dir
}

/// The keys a pack takes are the names its templates and key files use:
/// a loop's variable read as what it loops over, a method call's name as
/// the name it is called on, the mapper's `$1` as any one part.
#[test]
fn a_packs_keys_come_from_its_templates_and_key_files() {
    let copy = modern();
    let home = CarbonHome::open(copy.path()).unwrap();
    let keys = PackKeys::read(&home, carbon_config::DEFAULT_MAX_FILE_SIZE)
        .unwrap()
        .expect("the sample ships templates");
    for taken in [
        "server.hostname",
        "server.offset",
        "clustering.members",
        "clustering.properties.subDomain",
        "datasource.url",
        "database.shared_db.pool_options.maxActive",
        "database.shared_db.type",
        "database.anything.type",
        "transport.https.properties.proxyPort",
    ] {
        assert!(keys.takes(taken), "{taken}");
    }
    for not_taken in [
        "server.mode",
        "clustering.bogus",
        "transport.http.properties.proxyPort",
    ] {
        assert!(!keys.takes(not_taken), "{not_taken}");
    }
}

/// A changed key keeps its place and the comment beside it; a new one goes
/// at the end of its table; nothing changes the second time.
#[test]
fn keys_are_set_in_place_and_once() {
    let copy = modern();
    let file = copy.path().join(deployment::FILE);
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("offset = 0", "offset = 0   # ports shift by this"),
    )
    .unwrap();
    let home = CarbonHome::open(copy.path()).unwrap();
    let mut s = Session::new(&home);
    assert!(
        deployment::set(&mut s, "server.offset", &Value::Number(3))
            .unwrap()
            .changed
    );
    let members = Value::Texts(vec!["10.0.0.1:4000".into(), "10.0.0.2:4000".into()]);
    assert!(
        deployment::set(&mut s, "clustering.members", &members)
            .unwrap()
            .changed
    );
    let url = Value::Text("jdbc:mysql://db/r".into());
    assert!(
        deployment::set_in_entry(&mut s, "datasource", ("id", "R_DB"), "url", &url)
            .unwrap()
            .changed
    );
    let after = String::from_utf8(s.changes().unwrap().remove(0).after).unwrap();
    assert!(
        after.contains("offset = 3   # ports shift by this\n"),
        "{after}"
    );
    assert!(
        after.contains("#[clustering]\n#membership_scheme = \"wka\"\n"),
        "{after}"
    );
    // A table the file lacks goes beside WSO2's commented-out sample of
    // it; one with no sample, at the end.
    assert!(
        after.contains(
            "#members = [\"10.0.0.1:4000\", \"10.0.0.2:4000\"]\n[clustering]\n\
             members = [\"10.0.0.1:4000\", \"10.0.0.2:4000\"]\n\n[keystore.tls]\n"
        ),
        "{after}"
    );
    assert!(
        after.ends_with("[[datasource]]\nid = \"R_DB\"\nurl = \"jdbc:mysql://db/r\"\n"),
        "{after}"
    );
    std::fs::write(&file, &after).unwrap();
    let home = CarbonHome::open(copy.path()).unwrap();
    let mut s = Session::new(&home);
    assert!(
        !deployment::set(&mut s, "server.offset", &Value::Number(3))
            .unwrap()
            .changed
    );
    assert!(
        !deployment::set(&mut s, "clustering.members", &members)
            .unwrap()
            .changed
    );
    assert!(
        !deployment::set_in_entry(&mut s, "datasource", ("id", "R_DB"), "url", &url)
            .unwrap()
            .changed
    );
    assert!(s.changes().unwrap().is_empty());
}

/// A key the pack never names is refused, naming it; so is a file that is
/// not TOML, with its reason.
#[test]
fn keys_the_pack_does_not_take_and_broken_files_are_refused() {
    let copy = modern();
    let home = CarbonHome::open(copy.path()).unwrap();
    let mut s = Session::new(&home);
    let err = deployment::set(&mut s, "server.mode", &Value::Text("ha".into())).unwrap_err();
    assert!(
        err.to_string()
            .contains("takes no deployment.toml key server.mode"),
        "{err}"
    );
    let file = copy.path().join(deployment::FILE);
    std::fs::write(&file, "[server\nhostname = 1\n").unwrap();
    let home = CarbonHome::open(copy.path()).unwrap();
    let mut s = Session::new(&home);
    let err = deployment::set(&mut s, "server.offset", &Value::Number(1)).unwrap_err();
    assert!(err.to_string().contains("not TOML"), "{err}");
}

/// A file in CRLF keeps its line endings, new lines included; one without
/// a final newline stays without.
#[test]
fn line_endings_and_the_final_newline_are_the_files() {
    let copy = modern();
    let file = copy.path().join(deployment::FILE);
    let text = std::fs::read_to_string(&file).unwrap();
    let crlf = text.trim_end().replace('\n', "\r\n");
    std::fs::write(&file, &crlf).unwrap();
    let home = CarbonHome::open(copy.path()).unwrap();
    let mut s = Session::new(&home);
    deployment::set(&mut s, "server.offset", &Value::Number(1)).unwrap();
    deployment::set(&mut s, "clustering.domain", &Value::Text("d".into())).unwrap();
    let after = String::from_utf8(s.changes().unwrap().remove(0).after).unwrap();
    assert!(!after.replace("\r\n", "").contains('\n'), "{after:?}");
    assert!(
        after.contains("\r\n[clustering]\r\ndomain = \"d\"\r\n\r\n[keystore.tls]\r\n"),
        "{after:?}"
    );
    assert!(after.ends_with("type = \"JKS\""), "{after:?}");
    assert_eq!(
        after.replace("offset = 1", "offset = 0").lines().count(),
        crlf.lines().count() + 2
    );
}

/// A key part holding dots is one key, quoted; an inline table is named
/// as such when a key cannot be set in it.
#[test]
fn dotted_key_parts_are_quoted_and_inline_tables_named() {
    let copy = modern();
    let home = CarbonHome::open(copy.path()).unwrap();
    let mut s = Session::new(&home);
    let path = [
        "clustering",
        "properties",
        "hazelcast.max.no.heartbeat.seconds",
    ];
    let value = Value::Text("600".into());
    assert!(deployment::set_path(&mut s, &path, &value).unwrap().changed);
    let after = String::from_utf8(s.changes().unwrap().remove(0).after).unwrap();
    assert!(
        after.contains(
            "[clustering.properties]\n\"hazelcast.max.no.heartbeat.seconds\" = \"600\"\n"
        ),
        "{after}"
    );
    let file = copy.path().join(deployment::FILE);
    std::fs::write(&file, &after).unwrap();
    let home = CarbonHome::open(copy.path()).unwrap();
    let mut s = Session::new(&home);
    assert!(!deployment::set_path(&mut s, &path, &value).unwrap().changed);
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("[server]\n", "server = { hostname = \"h\" }\n[x]\n"),
    )
    .unwrap();
    let home = CarbonHome::open(copy.path()).unwrap();
    let mut s = Session::new(&home);
    let err = deployment::set(&mut s, "server.offset", &Value::Number(1)).unwrap_err();
    assert!(
        err.to_string().contains("server is an inline table"),
        "{err}"
    );
}

/// A templates folder that links to a folder above it is a tree without
/// end: refused, naming it, never walked forever.
#[test]
fn a_templates_tree_that_does_not_end_is_refused() {
    let copy = modern();
    let templates = copy.path().join("repository/resources/conf/templates");
    std::os::unix::fs::symlink("..", templates.join("again")).unwrap();
    let home = CarbonHome::open(copy.path()).unwrap();
    match PackKeys::read(&home, carbon_config::DEFAULT_MAX_FILE_SIZE) {
        Err(err) => assert!(
            err.to_string().contains("entries to read templates from"),
            "{err}"
        ),
        // A walk that does not follow the link ends by itself.
        Ok(keys) => assert!(keys.is_some()),
    }
}

/// A TOML file takes many times its size in memory once parsed: a
/// deployment.toml over a sixteenth of the limit for a file is refused,
/// never parsed, by the edits and by the pack's keys, saying how to raise
/// it.
#[test]
fn a_deployment_toml_over_a_sixteenth_of_the_file_limit_is_refused() {
    let copy = modern();
    let len = std::fs::metadata(copy.path().join(deployment::FILE))
        .unwrap()
        .len();
    let home = CarbonHome::open(copy.path()).unwrap();
    let over = 16 * (len - 1);
    let expected = format!(
        "{len} bytes is over the {}-byte limit for a TOML file, a sixteenth of the limit for a \
         file (raise it with --max-file-size)",
        len - 1
    );
    let err = PackKeys::read(&home, over).unwrap_err();
    assert!(err.to_string().ends_with(&expected), "{err}");
    let mut s = Session::new(&home);
    s.set_max_file_size(over);
    let err = deployment::set(&mut s, "server.offset", &Value::Number(3)).unwrap_err();
    assert!(err.to_string().ends_with(&expected), "{err}");
    // At a sixteenth exactly, it is read.
    let mut s = Session::new(&home);
    s.set_max_file_size(16 * len);
    assert!(
        deployment::set(&mut s, "server.offset", &Value::Number(3))
            .unwrap()
            .changed
    );
}

/// The session finds entries by id from an index it keeps between edits:
/// entries taken out, an id changed and the text asked for in between
/// leave it finding the right entry, never another or a stale place.
#[test]
fn entries_are_found_by_id_across_edits_that_move_them() {
    let copy = modern();
    let home = CarbonHome::open(copy.path()).unwrap();
    let mut s = Session::new(&home);
    let text = |v: &str| Value::Text(v.into());
    let set = |s: &mut Session, id: &str, key: &str, value: &str| {
        deployment::set_in_entry(s, "datasource", ("id", id), key, &text(value))
            .unwrap()
            .changed
    };
    assert!(set(&mut s, "A", "url", "jdbc:a"));
    assert!(set(&mut s, "B", "url", "jdbc:b"));
    // A goes: B is the first entry now.
    assert!(
        deployment::retain_entries(&mut s, "datasource", "id", &["B"])
            .unwrap()
            .changed
    );
    assert!(set(&mut s, "B", "url", "jdbc:b2"));
    // B is C now, and found as C.
    assert!(set(&mut s, "B", "id", "C"));
    assert!(!set(&mut s, "C", "url", "jdbc:b2"));
    // The text asked for in between, as validation does.
    s.text(deployment::FILE).unwrap();
    assert!(set(&mut s, "C", "username", "u"));
    // Found by another id key: setting that key through the first moves
    // the entry in the second's index too.
    let by_user = |s: &mut Session, user: &str, key: &str, value: &str| {
        deployment::set_in_entry(s, "datasource", ("username", user), key, &text(value))
            .unwrap()
            .changed
    };
    assert!(
        !by_user(&mut s, "u", "url", "jdbc:b2"),
        "C, by its username"
    );
    assert!(set(&mut s, "C", "username", "v"));
    assert!(
        !by_user(&mut s, "v", "url", "jdbc:b2"),
        "C, by its new username"
    );
    // An edit that changes nothing, or fails, adds no entry.
    assert!(!set(&mut s, "Z", "id", "Z"));
    let bad = deployment::set_in_entry(&mut s, "datasource", ("id", "Y"), "id.v", &text("x"));
    assert!(bad.is_err());
    let written = String::from_utf8(
        s.changes()
            .unwrap()
            .into_iter()
            .find(|c| c.path == std::path::Path::new(deployment::FILE))
            .unwrap()
            .after,
    )
    .unwrap();
    let tail = &written[written.find("[[datasource]]").unwrap()..];
    assert_eq!(
        tail, "[[datasource]]\nid = \"C\"\nurl = \"jdbc:b2\"\nusername = \"v\"\n",
        "{written}"
    );
}
