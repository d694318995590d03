//! Each operation on the fixture home (fixtures/homes/carbon-4.4), against a
//! golden file in tests/golden/carbon/: the outcomes it reports and the diff
//! of every file it changes. Each case then writes the result into a copy of
//! the home and runs again: the second run must change nothing.

use std::path::{Path, PathBuf};

use carbon_config::{
    axis2, carbon_xml, catalina, event_processor, libs, raw, spark, CarbonHome, Error, Outcome,
    Session,
};

type Ops = dyn Fn(&mut Session) -> Result<Vec<Outcome>, Error>;

fn fixture_home() -> PathBuf {
    golden::workspace_root().join("fixtures/homes/carbon-4.4")
}

/// Options of a raw edit of every element its path matches.
fn every_match() -> raw::RawOptions {
    raw::RawOptions {
        select: raw::Select::All,
        ..raw::RawOptions::default()
    }
}

/// A raw insert of `markup` at `place`, without a key.
fn insert_at(place: raw::RawPlace, markup: &str) -> raw::RawAction {
    raw::RawAction::Insert {
        place,
        markup: markup.into(),
        key: None,
    }
}

/// A copy of a directory tree, to write into.
fn copy_tree(from: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    golden::copy_tree(from, dir.path());
    dir
}

/// Runs `ops` on a copy of the fixture home: returns the report (outcomes and
/// diffs), after checking that a second run on the written result is a no-op.
fn run(ops: &Ops) -> String {
    let copy = copy_tree(&fixture_home());
    let home = CarbonHome::open(copy.path()).unwrap();
    let mut session = Session::new(&home);
    let outcomes = ops(&mut session).unwrap_or_else(|e| panic!("{e}"));
    let changes = session.changes().unwrap();
    let mut report = String::new();
    for outcome in &outcomes {
        report.push_str(&format!("# {outcome}\n"));
    }
    for change in &changes {
        let name = change.path.to_string_lossy();
        report.push_str(&golden::unified_diff(
            &name,
            change.before.as_deref().unwrap_or_default(),
            &change.after,
        ));
        std::fs::write(copy.path().join(&change.path), &change.after).unwrap();
    }
    let home = CarbonHome::open(copy.path()).unwrap();
    let mut again = Session::new(&home);
    let second = ops(&mut again).unwrap_or_else(|e| panic!("second run: {e}"));
    assert!(
        second.iter().all(|o| !o.changed),
        "second run changed: {second:?}"
    );
    assert_eq!(again.changes().unwrap(), vec![], "second run has changes");
    report
}

fn case(name: &str, ops: &Ops) {
    golden::assert_golden(&format!("carbon/{name}.diff"), &run(ops));
}

#[test]
fn clustering_on_with_well_known_members() {
    case("axis2-clustering-wka", &|s| {
        Ok(vec![
            axis2::set_clustering_enabled(s, true)?,
            axis2::set_membership_scheme(s, axis2::MembershipScheme::Wka)?,
            axis2::set_clustering_parameter(s, "domain", "wso2.mb.domain")?,
            axis2::set_clustering_parameter(s, "localMemberHost", "10.100.7.118")?,
            axis2::set_clustering_parameter(s, "localMemberPort", "4003")?,
            axis2::set_members(s, &["10.100.7.118:4000".parse().unwrap()])?,
        ])
    });
}

#[test]
fn parameters_uncomment_in_place_or_are_added_after_the_last() {
    case("axis2-parameters", &|s| {
        Ok(vec![
            // Shipped commented out on one line, and on lines of its own.
            axis2::set_clustering_parameter(s, "mcastAddress", "228.0.0.5")?,
            axis2::set_clustering_parameter(s, "mcastBindAddress", "10.0.0.1")?,
            // Not in the file at all: added after the last parameter.
            axis2::set_clustering_parameter(s, "mcastTTL", "100")?,
            axis2::set_clustering_agent(s, "org.example.OtherAgent")?,
        ])
    });
}

#[test]
fn member_properties_are_set_added_or_commented_out() {
    case("axis2-member-properties", &|s| {
        Ok(vec![
            axis2::set_member_property(s, "subDomain", "mgt")?,
            axis2::set_member_property(s, "port.mapping.80", "9763")?,
        ])
    });
    case("axis2-comment-out-subdomain", &|s| {
        Ok(vec![axis2::comment_out_member_property(s, "subDomain")?])
    });
}

#[test]
fn carbon_offset_host_names_and_synchronizer() {
    case("carbon-server", &|s| {
        Ok(vec![
            carbon_xml::set_offset(s, 3)?,
            carbon_xml::set_host_name(s, "10.100.7.118")?,
            carbon_xml::set_mgt_host_name(s, "mgt.example.com")?,
            carbon_xml::set_deployment_synchronizer(s, "Enabled", "true")?,
            carbon_xml::set_deployment_synchronizer(s, "AutoCheckout", "true")?,
            carbon_xml::set_deployment_synchronizer(s, "SvnUrl", "https://svn.example.com/es/")?,
            carbon_xml::set_load_from_registry(s, true)?,
        ])
    });
}

#[test]
fn proxy_ports_on_the_connectors() {
    case("catalina-proxy-ports", &|s| {
        Ok(vec![
            catalina::set_connector_attribute(s, 9763, "proxyPort", "8280")?,
            catalina::set_connector_attribute(s, 9443, "proxyPort", "8243")?,
        ])
    });
}

#[test]
fn event_processor_modes() {
    case("event-processor-ha-distributed", &|s| {
        Ok(vec![
            event_processor::set_mode_enabled(s, "HA", true)?,
            event_processor::set_mode_enabled(s, "Distributed", true)?,
            event_processor::set_presenter(s, "HA", true)?,
            event_processor::set_event_sync(s, "10.0.1.1", Some(11224))?,
            event_processor::set_persistence(s, "HA", false)?,
        ])
    });
}

#[test]
fn spark_defaults_keep_their_separators_and_line_endings() {
    case("spark-defaults", &|s| {
        Ok(vec![
            spark::set_property(s, "carbon.spark.master.count", "2")?,
            spark::set_property(s, "carbon.das.symbolic.link", "/opt/das/das_symlink/")?,
        ])
    });
}

#[test]
fn the_jdbc_driver_is_copied_once() {
    let dir = tempfile::tempdir().unwrap();
    let jar = dir.path().join("mysql-connector-java-5.1.49.jar");
    std::fs::write(&jar, b"PK\x03\x04 not really a jar").unwrap();
    let report = run(&move |s| Ok(vec![libs::ensure_lib_file(s, &jar, None)?]));
    assert!(report.contains("+++ b/repository/components/lib/mysql-connector-java-5.1.49.jar"));
    assert!(report.contains("(changed)"));
}

#[test]
fn raw_edits_cover_what_no_operation_does() {
    case("raw-edits", &|s| {
        let registry = "repository/conf/registry.xml";
        Ok(vec![
            raw::apply(s, registry, "readOnly", &raw::RawAction::SetText("true".into()))?,
            raw::apply(s, registry, "remoteInstance", &raw::RawAction::Uncomment)?,
            raw::apply(
                s,
                registry,
                "dbConfig",
                &raw::RawAction::Insert {
                    place: raw::RawPlace::After,
                    markup: "<mount path=\"/_system/config\" overwrite=\"true\">\n    <instanceId>gov</instanceId>\n</mount>".into(),
                    key: None,
                },
            )?,
            raw::apply(
                s,
                registry,
                "handler",
                &raw::RawAction::SetAttribute {
                    name: "class".into(),
                    value: "org.example.OtherHandler".into(),
                },
            )?,
            raw::apply(s, registry, "versionResourcesOnChange", &raw::RawAction::CommentOut)?,
        ])
    });
}

/// `insert` is "already so" only beside an element of exactly its text: one
/// whose text differs in its spaces or line breaks holds another value.
#[test]
fn raw_insert_compares_an_elements_text_exactly() {
    let copy = copy_tree(&fixture_home());
    let home = CarbonHome::open(copy.path()).unwrap();
    let mut session = Session::new(&home);
    let mut insert = |markup: &str| {
        let action = raw::RawAction::Insert {
            place: raw::RawPlace::LastChild,
            markup: markup.into(),
            key: None,
        };
        let outcome = raw::apply(
            &mut session,
            "repository/conf/carbon.xml",
            "/Server",
            &action,
        );
        outcome.unwrap().changed
    };
    assert!(insert("<Extra>\n  x\n</Extra>"));
    assert!(!insert("<Extra>\n  x\n</Extra>"), "already there");
    assert!(insert("<Extra>x</Extra>"));
    assert!(insert("<Extra>\n    x\n</Extra>"));
}

const MASTER: &str = "repository/conf/datasources/master-datasources.xml";

fn mysql(database: &str) -> carbon_config::registry::Jdbc {
    carbon_config::registry::Jdbc {
        url: format!("jdbc:mysql://10.0.0.20:3306/{database}?autoReconnect=true"),
        user_name: "root".into(),
        password: "s3cret".into(),
        driver_name: "com.mysql.jdbc.Driver".into(),
        max_active: Some(50),
        max_wait: Some(60000),
        min_idle: Some(5),
    }
}

#[test]
fn registry_db_configs_remote_instance_and_mounts() {
    use carbon_config::registry::{self, DbConfig, Mount, RemoteInstance};
    case("registry-shared", &|s| {
        Ok(vec![
            // The local registry switches to the older JDBC form, in place.
            registry::ensure_db_config(s, "wso2registry", &DbConfig::Jdbc(mysql("amamaster")))?,
            registry::ensure_db_config(s, "dssMountRegistry", &DbConfig::Jdbc(mysql("amagregdb")))?,
            registry::set_current_db_config(s, "wso2registry")?,
            registry::ensure_remote_instance(
                s,
                &RemoteInstance {
                    url: "https://10.0.0.10:9443/registry".into(),
                    id: "Mount1".into(),
                    db_config: Some("dssMountRegistry".into()),
                    read_only: Some(false),
                    registry_root: Some("/".into()),
                    ..Default::default()
                },
            )?,
            registry::ensure_mount(
                s,
                &Mount {
                    path: "/_system/config".into(),
                    overwrite: "true".into(),
                    instance_id: "Mount1".into(),
                    target_path: "/_system/dssConfig".into(),
                },
            )?,
            registry::ensure_mount(
                s,
                &Mount {
                    path: "/_system/governance".into(),
                    overwrite: "true".into(),
                    instance_id: "Mount1".into(),
                    target_path: "/_system/governance".into(),
                },
            )?,
        ])
    });
}

#[test]
fn user_store_jdbc_properties_and_read_only() {
    use carbon_config::user_mgt;
    case("user-mgt-jdbc", &|s| {
        let mut done = user_mgt::set_realm_jdbc(s, &mysql("amausermgtdb"))?;
        done.push(user_mgt::set_realm_read_only(s, true)?);
        done.push(user_mgt::set_realm_data_source(s, "jdbc/WSO2UM_DB")?);
        Ok(done)
    });
}

#[test]
fn datasources_added_changed_commented_out_and_removed() {
    use carbon_config::datasources::{self, Datasource};
    case("datasources", &|s| {
        let config = |db: &str| {
            vec![
                (
                    "url".to_string(),
                    format!("jdbc:mysql://10.0.0.20:3306/{db}?autoReconnect=true"),
                ),
                ("username".to_string(), "regadmin".to_string()),
                ("password".to_string(), "s3cret".to_string()),
                (
                    "driverClassName".to_string(),
                    "com.mysql.jdbc.Driver".to_string(),
                ),
                ("maxActive".to_string(), "50".to_string()),
                ("testOnBorrow".to_string(), "true".to_string()),
                ("validationQuery".to_string(), "SELECT 1".to_string()),
            ]
        };
        Ok(vec![
            datasources::ensure_datasource(
                s,
                MASTER,
                &Datasource {
                    name: "WSO2_USER_DB".into(),
                    description: Some("The user store".into()),
                    jndi: Some("jdbc/WSO2UM_DB".into()),
                    configuration: config("userdb"),
                    ..Default::default()
                },
            )?,
            // An existing datasource changes in place, and gains a JNDI name.
            datasources::ensure_datasource(
                s,
                MASTER,
                &Datasource {
                    name: "EXAMPLE_STORE_DB".into(),
                    jndi: Some("jdbc/StoreDB".into()),
                    configuration: vec![("url".into(), "jdbc:mysql://10.0.0.20:3306/store".into())],
                    ..Default::default()
                },
            )?,
            datasources::comment_out_datasource(s, MASTER, "EXAMPLE_CARBON_DB")?,
        ])
    });
    case("datasources-remove", &|s| {
        Ok(vec![datasources::remove_datasource(
            s,
            MASTER,
            "EXAMPLE_STORE_DB",
        )?])
    });
}

/// With a key, an inserted element whose fields the recipe changes is
/// updated where it stands, not inserted again; without one it would be.
#[test]
fn raw_insert_with_a_key_updates_its_element_in_place() {
    let copy = copy_tree(&fixture_home());
    let home = CarbonHome::open(copy.path()).unwrap();
    let environment = |url: &str| {
        format!(
            "<Environment type=\"hybrid\">\n    <Name>Production</Name>\n    <ServerURL>{url}</ServerURL>\n</Environment>"
        )
    };
    let insert = |session: &mut Session, url: &str, key: Option<&str>| {
        let action = raw::RawAction::Insert {
            place: raw::RawPlace::LastChild,
            markup: environment(url),
            key: key.map(String::from),
        };
        raw::apply(session, "repository/conf/carbon.xml", "/Server", &action)
            .unwrap()
            .changed
    };
    let mut session = Session::new(&home);
    assert!(insert(
        &mut session,
        "https://gw1:9443/services/",
        Some("Name")
    ));
    let first = session.changes().unwrap().remove(0).after;
    // A second run, the URL changed in the recipe: the same element, updated.
    let mut session = Session::new(&home);
    assert!(insert(
        &mut session,
        "https://gw1:9443/services/",
        Some("Name")
    ));
    assert!(insert(
        &mut session,
        "https://gw2:9443/services/",
        Some("Name")
    ));
    let text = String::from_utf8_lossy(&session.changes().unwrap().remove(0).after).into_owned();
    assert_eq!(text.matches("<Environment").count(), 1, "{text}");
    assert!(text.contains("https://gw2:9443/services/"), "{text}");
    assert_eq!(
        text.len(),
        String::from_utf8_lossy(&first).len(),
        "one element, as before"
    );
    // Without a key, the changed element is one more.
    let mut session = Session::new(&home);
    insert(&mut session, "https://gw1:9443/services/", None);
    insert(&mut session, "https://gw2:9443/services/", None);
    let text = String::from_utf8_lossy(&session.changes().unwrap().remove(0).after).into_owned();
    assert_eq!(text.matches("<Environment").count(), 2, "{text}");
}

/// API Manager's settings and gateway environments on the sample API
/// Manager home: each set in place (a commented-out ThriftClientPort
/// uncommented), the shipped environment replaced by the recipe's, an
/// environment changed in place, and a second run changing nothing.
#[test]
fn api_manager_settings_and_gateway_environments() {
    use carbon_config::api_manager::{self, Environment};
    let fixture = golden::workspace_root().join("fixtures/homes/apim-2.1");
    let copy = copy_tree(&fixture);
    let home = CarbonHome::open(copy.path()).unwrap();
    let environment = |name: &str, url: &str| Environment {
        name: name.into(),
        kind: Some("production".into()),
        display_in_api_console: Some(true),
        service_url: Some(format!("https://{url}:9443/services/")),
        http_endpoint: Some(format!("http://{url}:8280")),
        https_endpoint: Some(format!("https://{url}:8243")),
        ..Environment::default()
    };
    let plan = |session: &mut Session, gateway: &str| {
        api_manager::set(
            session,
            "key_manager.service_url",
            "https://km:9443/services/",
        )
        .unwrap();
        api_manager::set(session, "key_manager.thrift_client_port", "10397").unwrap();
        api_manager::set(session, "throttling.receiver_url", "tcp://tm:9611").unwrap();
        api_manager::set(session, "devportal.url", "https://store.example.org/store").unwrap();
        api_manager::set_environments(session, &[environment("Production", gateway)]).unwrap();
    };
    let mut session = Session::new(&home);
    plan(&mut session, "gw1");
    let changes = session.changes().unwrap();
    assert_eq!(changes.len(), 1, "api-manager.xml only");
    let after = String::from_utf8(changes[0].after.clone()).unwrap();
    assert!(after.contains("<ServerURL>https://km:9443/services/</ServerURL>"));
    assert!(
        after.contains("<ThriftClientPort>10397</ThriftClientPort>"),
        "uncommented"
    );
    assert!(!after.contains("<!--ThriftClientPort"), "in place: {after}");
    assert!(after.contains("<ReceiverUrlGroup>tcp://tm:9611</ReceiverUrlGroup>"));
    assert!(after.contains("<URL>https://store.example.org/store</URL>"));
    assert!(
        !after.contains("Production and Sandbox"),
        "the shipped environment goes"
    );
    assert!(
        after.contains("<Environment type=\"production\" api-console=\"true\">"),
        "{after}"
    );
    assert!(after.contains("<GatewayEndpoint>http://gw1:8280,https://gw1:8243</GatewayEndpoint>"));
    std::fs::write(copy.path().join("repository/conf/api-manager.xml"), &after).unwrap();
    // The same again: nothing to do.
    let home = CarbonHome::open(copy.path()).unwrap();
    let mut session = Session::new(&home);
    plan(&mut session, "gw1");
    assert!(session.changes().unwrap().is_empty());
    // The gateway moved: the same environment, updated where it stands.
    let mut session = Session::new(&home);
    plan(&mut session, "gw2");
    let after = String::from_utf8(session.changes().unwrap()[0].after.clone()).unwrap();
    assert_eq!(after.matches("<Environment ").count(), 1, "{after}");
    assert!(after.contains("<ServerURL>https://gw2:9443/services/</ServerURL>"));
}

/// A raw edit selects by an element's own text (`[text()='v']`, `[.='v']`),
/// as Ansible's xml module does: the element goes, where it used to be read
/// as a child named `text()` and "nothing to do".
#[test]
fn raw_edits_select_by_an_elements_own_text() {
    let copy = copy_tree(&fixture_home());
    let home = CarbonHome::open(copy.path()).unwrap();
    let mut session = Session::new(&home);
    let carbon = "repository/conf/carbon.xml";
    let insert = raw::RawAction::Insert {
        place: raw::RawPlace::LastChild,
        markup: "<Beers><Beer>Rochefort 10</Beer><Beer>Schlitz</Beer><Beer>Ale</Beer></Beers>"
            .into(),
        key: None,
    };
    assert!(
        raw::apply(&mut session, carbon, "/Server", &insert)
            .unwrap()
            .changed
    );
    let removed = raw::apply(
        &mut session,
        carbon,
        "/Server/Beers/Beer[text()='Schlitz']",
        &raw::RawAction::Remove,
    );
    assert!(removed.unwrap().changed);
    let commented = raw::apply(
        &mut session,
        carbon,
        "/Server/Beers/Beer[.='Ale']",
        &raw::RawAction::CommentOut,
    );
    assert!(commented.unwrap().changed);
    let after = session.changes().unwrap().remove(0).after;
    let after = String::from_utf8_lossy(&after);
    assert!(after.contains("<Beer>Rochefort 10</Beer>"), "{after}");
    assert!(!after.contains("Schlitz"), "{after}");
    assert!(after.contains("<!--<Beer>Ale</Beer>-->"), "{after}");
}

/// `match = all` edits every match, each as if alone; `if_missing = skip`
/// makes an edit of an element that is not there nothing to do.
#[test]
fn raw_edits_on_every_match_and_skipping_what_is_missing() {
    use raw::{IfMissing, RawOptions};
    let copy = copy_tree(&fixture_home());
    let home = CarbonHome::open(copy.path()).unwrap();
    let mut session = Session::new(&home);
    let carbon = "repository/conf/carbon.xml";
    let insert = raw::RawAction::Insert {
        place: raw::RawPlace::LastChild,
        markup: "<Beers><Beer>A</Beer><Beer>B</Beer><Beer>C</Beer></Beers>".into(),
        key: None,
    };
    raw::apply(&mut session, carbon, "/Server", &insert).unwrap();
    let all = every_match();
    let rated = raw::RawAction::SetAttribute {
        name: "rated".into(),
        value: "yes".into(),
    };
    // One is the default: three matches are an error, naming them.
    let one = raw::apply(&mut session, carbon, "/Server/Beers/Beer", &rated);
    assert!(one.unwrap_err().to_string().contains("3 elements match"));
    assert!(
        raw::apply_with(&mut session, carbon, "/Server/Beers/Beer", &rated, all)
            .unwrap()
            .changed
    );
    // Missing: an error by default, nothing to do when skipped.
    let text = raw::RawAction::SetText("x".into());
    assert!(raw::apply(&mut session, carbon, "/Server/Wine", &text).is_err());
    let skip = RawOptions {
        if_missing: IfMissing::Skip,
        ..RawOptions::default()
    };
    assert!(
        !raw::apply_with(&mut session, carbon, "/Server/Wine", &text, skip)
            .unwrap()
            .changed
    );
    let after = session.changes().unwrap().remove(0).after;
    let shown = String::from_utf8_lossy(&after).into_owned();
    assert_eq!(shown.matches("rated=\"yes\"").count(), 3, "{shown}");
    // Again on the result: every match is so already.
    std::fs::write(copy.path().join(carbon), &after).unwrap();
    let home = CarbonHome::open(copy.path()).unwrap();
    let mut session = Session::new(&home);
    let again = raw::apply_with(&mut session, carbon, "/Server/Beers/Beer", &rated, all);
    assert!(!again.unwrap().changed);
}

/// Insert's "already there" compares namespaces, not prefixes: a `<n:p>` in
/// urn:n is not the `<p>` of the file's default namespace, and an
/// unprefixed `<p>` takes the namespace of where it goes.
#[test]
fn raw_insert_tells_elements_apart_by_namespace() {
    let copy = copy_tree(&fixture_home());
    let home = CarbonHome::open(copy.path()).unwrap();
    let carbon = "repository/conf/carbon.xml";
    let insert = |session: &mut Session, markup: &str| {
        let action = raw::RawAction::Insert {
            place: raw::RawPlace::LastChild,
            markup: markup.into(),
            key: None,
        };
        raw::apply(session, carbon, "/Server", &action)
            .unwrap()
            .changed
    };
    let mut session = Session::new(&home);
    assert!(insert(&mut session, "<P>1</P>"));
    let after = session.changes().unwrap().remove(0).after;
    std::fs::write(copy.path().join(carbon), &after).unwrap();
    let home = CarbonHome::open(copy.path()).unwrap();
    let mut session = Session::new(&home);
    // The same element (in carbon.xml's default namespace): already there.
    assert!(!insert(&mut session, "<P>1</P>"));
    // In another namespace: another element.
    assert!(insert(&mut session, "<n:P xmlns:n=\"urn:n\">1</n:P>"));
}

/// `ensure` makes a path exist, creating the missing steps from their
/// names and predicates; `set_children` makes an element's children
/// exactly the given ones. Both change nothing the second time.
#[test]
fn raw_ensure_and_set_children() {
    let copy = copy_tree(&fixture_home());
    let carbon = "repository/conf/carbon.xml";
    let ensure = "/Server/Owner[@dob='1976-04-12']/Name/Last[.='Smith']";
    let children = raw::RawAction::SetChildren("<Beer>A</Beer><Beer>B</Beer>".into());
    let run = |home: &CarbonHome| {
        let mut session = Session::new(home);
        let ensured = raw::apply(&mut session, carbon, ensure, &raw::RawAction::Ensure).unwrap();
        let set = raw::apply(&mut session, carbon, "/Server/Owner", &children).unwrap();
        (ensured.changed, set.changed, session.changes().unwrap())
    };
    let home = CarbonHome::open(copy.path()).unwrap();
    let (ensured, set, changes) = run(&home);
    assert!(ensured && set);
    let after = String::from_utf8_lossy(&changes[0].after).into_owned();
    assert!(after.contains("<Owner dob=\"1976-04-12\">"), "{after}");
    assert!(
        after.contains("<Beer>A</Beer>") && !after.contains("<Last>"),
        "{after}"
    );
    std::fs::write(copy.path().join(carbon), &changes[0].after).unwrap();
    // Ensure again: the owner has no name now, so it gets one; the children
    // are then set back to the beers.
    let home = CarbonHome::open(copy.path()).unwrap();
    let mut session = Session::new(&home);
    let set = raw::apply(&mut session, carbon, "/Server/Owner", &children).unwrap();
    assert!(!set.changed, "the children are these already");
    let ensured = raw::apply(
        &mut session,
        carbon,
        "/Server/Owner",
        &raw::RawAction::Ensure,
    );
    assert!(!ensured.unwrap().changed, "the owner is there");
}

/// What ensure and set_children write, laid out as the file is.
#[test]
fn raw_ensure_and_set_children_follow_the_files_layout() {
    let copy = copy_tree(&fixture_home());
    let carbon = "repository/conf/carbon.xml";
    let home = CarbonHome::open(copy.path()).unwrap();
    let mut session = Session::new(&home);
    raw::apply(
        &mut session,
        carbon,
        "/Server/Cellar/Shelf[@n='1']",
        &raw::RawAction::Ensure,
    )
    .unwrap();
    let children = raw::RawAction::SetChildren("<Wine>Red</Wine><Wine>White</Wine>".into());
    raw::apply(&mut session, carbon, "/Server/Cellar/Shelf", &children).unwrap();
    let after = String::from_utf8_lossy(&session.changes().unwrap()[0].after).into_owned();
    let expected =
        "    <Cellar>\n        <Shelf n=\"1\">\n            <Wine>Red</Wine>\n            \
                    <Wine>White</Wine>\n        </Shelf>\n    </Cellar>\n";
    assert!(after.contains(expected), "{after}");
}

/// A path by namespace (`{uri}name`, whose URI holds slashes) still ends
/// in ensure's attribute step: carbon.xml's elements are in its namespace.
#[test]
fn raw_ensure_takes_an_attribute_step_after_a_namespaced_one() {
    let copy = copy_tree(&fixture_home());
    let carbon = "repository/conf/carbon.xml";
    let ns = "{http://example.org/projects/carbon/carbon.xml}";
    let path = format!("/{ns}Server/{ns}Ports/@shared='yes'");
    let home = CarbonHome::open(copy.path()).unwrap();
    let mut session = Session::new(&home);
    let ensured = raw::apply(&mut session, carbon, &path, &raw::RawAction::Ensure).unwrap();
    assert!(ensured.changed);
    let after = String::from_utf8_lossy(&session.changes().unwrap()[0].after).into_owned();
    assert!(after.contains("<Ports shared=\"yes\">"), "{after}");
}

/// `set_children` edits the element it selected, found again by where it
/// stands: selected by a child it replaces (`Beers[Beer='C']`), or with new
/// children that match its path too, it is still the one edited.
#[test]
fn raw_set_children_edits_the_element_it_selected() {
    let copy = copy_tree(&fixture_home());
    let carbon = "repository/conf/carbon.xml";
    let home = CarbonHome::open(copy.path()).unwrap();
    let mut session = Session::new(&home);
    let insert = raw::RawAction::Insert {
        place: raw::RawPlace::LastChild,
        markup: "<Beers><Beer>A</Beer><Beer>C</Beer></Beers>".into(),
        key: None,
    };
    raw::apply(&mut session, carbon, "/Server", &insert).unwrap();
    let children = raw::RawAction::SetChildren("<Beer>G</Beer><Beer>R</Beer>".into());
    let set = raw::apply(&mut session, carbon, "/Server/Beers[Beer='C']", &children);
    assert!(set.unwrap().changed);
    let nested = raw::RawAction::SetChildren("<Beers>inner</Beers><Beer>x</Beer>".into());
    let set = raw::apply(&mut session, carbon, "//Beers", &nested);
    assert!(set.unwrap().changed);
    let after = String::from_utf8_lossy(&session.changes().unwrap()[0].after).into_owned();
    assert!(
        after.contains(
            "<Beers>\n        <Beers>inner</Beers>\n        <Beer>x</Beer>\n    </Beers>"
        ),
        "{after}"
    );
}

/// With `match = all`, an element inside another match goes with it:
/// `//A` comments out the outer `<A>` once, not the inner one too.
#[test]
fn raw_remove_of_every_match_takes_nested_ones_with_their_ancestor() {
    let copy = copy_tree(&fixture_home());
    let carbon = "repository/conf/carbon.xml";
    let home = CarbonHome::open(copy.path()).unwrap();
    let mut session = Session::new(&home);
    let insert = raw::RawAction::Insert {
        place: raw::RawPlace::LastChild,
        markup: "<A id=\"1\"><A id=\"2\">x</A></A>".into(),
        key: None,
    };
    raw::apply(&mut session, carbon, "/Server", &insert).unwrap();
    let before = session.changes().unwrap().remove(0).after;
    std::fs::write(copy.path().join(carbon), &before).unwrap();
    let home = CarbonHome::open(copy.path()).unwrap();
    let all = every_match();
    for (action, left) in [(raw::RawAction::CommentOut, 1), (raw::RawAction::Remove, 0)] {
        let mut session = Session::new(&home);
        let done = raw::apply_with(&mut session, carbon, "//A", &action, all).unwrap();
        assert!(done.changed, "{action}");
        let after = String::from_utf8_lossy(&session.changes().unwrap()[0].after).into_owned();
        assert_eq!(
            after.matches("<A id=\"2\">").count(),
            left,
            "{action}: {after}"
        );
        assert!(!after.contains("\n    <A id=\"1\">"), "{action}: {after}");
    }
}

/// Several elements inserted into an empty element, in order; a key that
/// matches an element of another namespace does not replace it; and
/// `set_children` refuses an element that holds text.
#[test]
fn raw_insert_into_an_empty_element_and_keys_by_namespace() {
    let copy = copy_tree(&fixture_home());
    let carbon = "repository/conf/carbon.xml";
    let home = CarbonHome::open(copy.path()).unwrap();
    let mut session = Session::new(&home);
    let insert = |markup: &str, key: Option<&str>| raw::RawAction::Insert {
        place: raw::RawPlace::LastChild,
        markup: markup.into(),
        key: key.map(String::from),
    };
    raw::apply(&mut session, carbon, "/Server", &insert("<Empty/>", None)).unwrap();
    let several = insert("<Y>1</Y><Y>2</Y>", None);
    assert!(
        raw::apply(&mut session, carbon, "/Server/Empty", &several)
            .unwrap()
            .changed
    );
    let other = insert("<p:H xmlns:p=\"urn:p\" name=\"c\" class=\"C1\"/>", None);
    raw::apply(&mut session, carbon, "/Server", &other).unwrap();
    let keyed = insert("<H name=\"c\" class=\"C2\"/>", Some("@name"));
    raw::apply(&mut session, carbon, "/Server", &keyed).unwrap();
    let after = String::from_utf8_lossy(&session.changes().unwrap()[0].after).into_owned();
    assert!(
        after.contains("<Empty>\n        <Y>1</Y>\n        <Y>2</Y>\n    </Empty>"),
        "{after}"
    );
    assert!(
        after.contains("<p:H xmlns:p=\"urn:p\" name=\"c\" class=\"C1\"/>"),
        "{after}"
    );
    assert!(after.contains("<H name=\"c\" class=\"C2\"/>"), "{after}");
    let children = raw::RawAction::SetChildren("<C>1</C>".into());
    let error = raw::apply(&mut session, carbon, "/Server/Version", &children).unwrap_err();
    assert!(error.to_string().contains("holds text"), "{error}");
}

/// `carbon.xml` of a fixture copy with `inside` just inside `<Server>`.
fn carbon_holding(inside: &str) -> (tempfile::TempDir, &'static str) {
    let copy = copy_tree(&fixture_home());
    let carbon = "repository/conf/carbon.xml";
    let path = copy.path().join(carbon);
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.windows(7).position(|w| w == b"<Server").unwrap();
    let at = at + bytes[at..].iter().position(|&b| b == b'>').unwrap() + 1;
    bytes.splice(at..at, inside.bytes());
    std::fs::write(&path, bytes).unwrap();
    (copy, carbon)
}

/// An insert compares the new element with its neighbours side by side,
/// from a stack: one nested 30,000 deep (which overflowed the stack and
/// aborted the run) is told apart at its first level, and an equal one
/// found however deep its equality goes.
#[test]
fn raw_insert_beside_a_neighbour_nested_thousands_deep() {
    let depth = 30_000;
    let chain = format!("{}x{}", "<A>".repeat(depth), "</A>".repeat(depth));
    let (copy, carbon) = carbon_holding(&chain);
    let home = CarbonHome::open(copy.path()).unwrap();
    for (markup, changed) in [
        ("<A><A><B/></A></A>".to_string(), true),
        (chain.clone(), false),
    ] {
        let mut session = Session::new(&home);
        let insert = insert_at(raw::RawPlace::LastChild, &markup);
        let outcome = raw::apply(&mut session, carbon, "/Server", &insert).unwrap();
        assert_eq!(outcome.changed, changed);
    }
}

/// Removing every match of `//B` at the foot of a chain holds each `B`
/// under a matched `B` for the match above it: only the outermost go, each
/// ancestor walked past once.
#[test]
fn raw_remove_of_every_match_walks_each_ancestor_once() {
    let depth = 2_000;
    let nested = format!("<B>{}</B>", "<B/>".repeat(3));
    let inside = format!(
        "{}{}{}",
        "<A>".repeat(depth),
        nested.repeat(2_000),
        "</A>".repeat(depth)
    );
    let (copy, carbon) = carbon_holding(&inside);
    let home = CarbonHome::open(copy.path()).unwrap();
    let mut session = Session::new(&home);
    let all = every_match();
    raw::apply_with(&mut session, carbon, "//B", &raw::RawAction::Remove, all).unwrap();
    let after = String::from_utf8_lossy(&session.changes().unwrap()[0].after).into_owned();
    assert!(!after.contains("<B"), "every B gone");
    assert!(after.contains(&format!("{}{}", "<A>".repeat(depth), "</A>".repeat(depth))));
}

/// Inserting beside every one of many siblings looks each new element up
/// among their shapes, found once (each insert compared it with every
/// sibling: the square of their number): one like it anywhere among them
/// is there already, and one unlike any goes beside each.
#[test]
fn raw_insert_beside_every_one_of_many_siblings() {
    let siblings = format!("{}<B x=\"1\"><C>t</C></B>", "<A/>".repeat(20_000));
    let (copy, carbon) = carbon_holding(&siblings);
    let home = CarbonHome::open(copy.path()).unwrap();
    let all = every_match();
    for (markup, changed) in [
        ("<B x=\"1\"><C>t</C></B>", false),
        ("<B x=\"1\"><C>u</C></B>", true),
    ] {
        let mut session = Session::new(&home);
        let insert = insert_at(raw::RawPlace::After, markup);
        let outcome = raw::apply_with(&mut session, carbon, "/Server/A", &insert, all).unwrap();
        assert_eq!(outcome.changed, changed, "{markup}");
        if changed {
            let after = String::from_utf8_lossy(&session.changes().unwrap()[0].after).into_owned();
            assert_eq!(after.matches("<C>u</C>").count(), 20_000);
        }
    }
}

/// Several elements inserted into each of several matches are refused,
/// naming the way that works (into each, each insert is applied before the
/// next, which left the other matches' handles stale: the run panicked).
#[test]
fn raw_insert_of_several_elements_into_several_matches_is_refused() {
    let (copy, carbon) = carbon_holding("<A/><A/>");
    let home = CarbonHome::open(copy.path()).unwrap();
    let all = every_match();
    let mut session = Session::new(&home);
    let insert = insert_at(raw::RawPlace::LastChild, "<X/><Y/>");
    let err = raw::apply_with(&mut session, carbon, "/Server/A", &insert, all).unwrap_err();
    assert!(
        err.to_string().contains("one [[raw]] edit at a time"),
        "{err}"
    );
    let one = insert_at(raw::RawPlace::LastChild, "<X/>");
    assert!(
        raw::apply_with(&mut session, carbon, "/Server/A", &one, all)
            .unwrap()
            .changed
    );
}

/// An insert with a key beside every one of many siblings looks the key up
/// among them once (each insert read every sibling's key: the square of
/// their number).
#[test]
fn raw_insert_with_a_key_beside_every_one_of_many_siblings() {
    let (copy, carbon) = carbon_holding(&"<A/>".repeat(20_000));
    let home = CarbonHome::open(copy.path()).unwrap();
    let all = every_match();
    let mut session = Session::new(&home);
    let insert = raw::RawAction::Insert {
        place: raw::RawPlace::After,
        markup: "<B name=\"k\"><C>1</C></B>".into(),
        key: Some("@name".into()),
    };
    let outcome = raw::apply_with(&mut session, carbon, "/Server/A", &insert, all).unwrap();
    assert!(outcome.changed);
    let after = String::from_utf8_lossy(&session.changes().unwrap()[0].after).into_owned();
    assert_eq!(after.matches("<B name=\"k\">").count(), 20_000);
}
