//! What the operations refuse, and how they say it. Nothing is written by
//! any of these: a refused operation stages nothing.

use carbon_config::{
    axis2, carbon_xml, catalina, event_processor, raw, spark, CarbonHome, Error, Session,
};

fn home(name: &str) -> CarbonHome {
    CarbonHome::open(golden::workspace_root().join("fixtures/homes").join(name)).unwrap()
}

fn message(result: Result<carbon_config::Outcome, Error>) -> String {
    result.unwrap_err().to_string()
}

#[test]
fn values_the_products_would_not_accept_are_refused() {
    let home = home("carbon-4.4");
    let mut s = Session::new(&home);
    assert!(message(axis2::set_clustering_parameter(
        &mut s,
        "membershipScheme",
        "zookeeper"
    ))
    .ends_with(
        "unknown membership scheme \"zookeeper\" (expected wka, multicast, aws or kubernetes)"
    ));
    assert!(message(axis2::set_clustering_parameter(
        &mut s,
        "localMemberPort",
        "70000"
    ))
    .ends_with("localMemberPort: port \"70000\" is not a number from 1 to 65535"));
    let twice = [
        "10.0.0.1:4000".parse().unwrap(),
        "10.0.0.1:4000".parse().unwrap(),
    ];
    assert!(message(axis2::set_members(&mut s, &twice))
        .ends_with("well-known member 10.0.0.1:4000 is listed twice"));
    assert!(message(carbon_xml::set_offset(&mut s, 60000)).ends_with(
        "offset 60000 would move port 9999 to 69999, past 65535 (the largest offset here is 55536)"
    ));
    assert!(message(carbon_xml::set_deployment_synchronizer(
        &mut s, "Password", "x"
    ))
    .contains("unknown DeploymentSynchronizer field"));
    assert!(message(carbon_xml::set_host_name(&mut s, "two words")).contains("is not a host name"));
    // A URL or a host:port pasted where a host name goes.
    assert!(
        message(carbon_xml::set_host_name(&mut s, "https://is.example.com:9443/carbon")).ends_with(
            "HostName \"https://is.example.com:9443/carbon\" is a URL; give the host name alone: is.example.com"
        )
    );
    assert!(message(carbon_xml::set_mgt_host_name(&mut s, "mgt.example.com:9443"))
        .ends_with("MgtHostName \"mgt.example.com:9443\" holds a port; give the host name alone: mgt.example.com"));
    assert!(message(axis2::set_clustering_parameter(
        &mut s,
        "localMemberHost",
        "10.0.0.1:4000"
    ))
    .ends_with(
        "localMemberHost \"10.0.0.1:4000\" holds a port; give the host name alone: 10.0.0.1"
    ));
    assert!(
        message(carbon_xml::set_host_name(&mut s, "example.com/carbon"))
            .ends_with("is not a host name (it holds a '/')")
    );
    assert!(
        message(event_processor::set_mode_enabled(&mut s, "Cluster", true))
            .contains("unknown mode \"Cluster\"")
    );
    assert!(message(catalina::set_connector_attribute(
        &mut s,
        9763,
        "proxyPort",
        "x"
    ))
    .contains("proxyPort: port \"x\""));
    assert!(message(spark::set_property(&mut s, "a b", "1")).contains("is not a property key"));
    assert_eq!(s.changes().unwrap(), vec![]);
}

/// A name that finds its element by its text (`datasource[name='…']`) is
/// matched trimmed: a name with a space or a line break at either end would
/// never be found again, and each run would add the element once more.
#[test]
fn names_that_could_not_find_their_element_again_are_refused() {
    let home = home("carbon-4.4");
    let mut s = Session::new(&home);
    let file = "repository/conf/datasources/master-datasources.xml";
    for name in ["NEW_DB\n", " NEW_DB", "NEW_DB\t", "", "A'B"] {
        let ds = carbon_config::datasources::Datasource {
            name: name.into(),
            configuration: vec![("url".into(), "jdbc:h2:mem:x".into())],
            ..Default::default()
        };
        let err = message(carbon_config::datasources::ensure_datasource(
            &mut s, file, &ds,
        ));
        assert!(
            err.ends_with(&format!(
                "master-datasources.xml: datasource name {name:?} must be non-empty, hold no quotes, \
                 and neither start nor end with a space or a line break"
            )),
            "{err}"
        );
    }
    assert_eq!(s.changes().unwrap(), vec![]);
}

#[test]
fn missing_and_ambiguous_elements_name_file_and_line() {
    let home = home("carbon-4.4");
    let mut s = Session::new(&home);
    let err = message(catalina::set_connector_attribute(
        &mut s,
        8080,
        "proxyPort",
        "80",
    ));
    assert!(err.contains("repository/conf/tomcat/catalina-server.xml:5:1: no element matches \"//Connector[@port='8080']\""), "{err}");
    let err = message(raw::apply(
        &mut s,
        "repository/conf/axis2/axis2.xml",
        "clustering/parameter",
        &raw::RawAction::SetText("x".into()),
    ));
    assert!(err.contains("repository/conf/axis2/axis2.xml:"), "{err}");
    assert!(
        err.contains("elements match \"clustering/parameter\" where one was expected"),
        "{err}"
    );
}

#[test]
fn a_raw_attribute_name_that_is_no_xml_name_is_refused_naming_the_file() {
    let home = home("carbon-4.4");
    let mut s = Session::new(&home);
    let action = raw::RawAction::SetAttribute {
        name: "x=\"1\"/><Evil/><a y".into(),
        value: "v".into(),
    };
    let err = message(raw::apply(
        &mut s,
        "repository/conf/carbon.xml",
        "/Server/Name",
        &action,
    ));
    assert!(
        err.ends_with(
            "repository/conf/carbon.xml: invalid XML name \"x=\\\"1\\\"/><Evil/><a y\": '=' cannot be part of a name"
        ),
        "{err}"
    );
    assert_eq!(s.changes().unwrap(), vec![]);
}

#[test]
fn raw_edits_stay_in_repository_conf() {
    let home = home("carbon-4.4");
    let mut s = Session::new(&home);
    for file in [
        "bin/version.txt",
        "repository/conf/../../x.xml",
        "/etc/passwd.xml",
        "repository/conf/analytics/spark/spark-defaults.conf",
    ] {
        let err = raw::apply(&mut s, file, "x", &raw::RawAction::Remove).unwrap_err();
        assert!(matches!(err, Error::OutsideHome { .. }), "{file}: {err}");
    }
}

#[test]
fn a_home_that_regenerates_its_xml_is_not_edited() {
    let home = home("carbon-4.5");
    let mut s = Session::new(&home);
    let err = message(axis2::set_clustering_enabled(&mut s, true));
    assert!(
        err.contains("configured through repository/conf/deployment.toml (Carbon 4.5+)"),
        "{err}"
    );
    assert!(err.contains("change deployment.toml instead"), "{err}");
}

#[test]
fn a_datasources_file_the_home_lacks_is_named_with_those_it_has() {
    let home = home("carbon-4.4");
    let mut s = Session::new(&home);
    let file = "repository/conf/datasources/my-datasources.xml";
    let expected = format!(
        "{}: no such file; this home's datasources files are: master-datasources.xml. \
         carbon-patch changes the files a product ships and creates none",
        home.path().join(file).display()
    );
    let ds = carbon_config::datasources::Datasource {
        name: "MY_DB".into(),
        ..Default::default()
    };
    assert_eq!(
        message(carbon_config::datasources::ensure_datasource(
            &mut s, file, &ds
        )),
        expected
    );
    assert_eq!(
        message(carbon_config::datasources::comment_out_datasource(
            &mut s, file, "MY_DB"
        )),
        expected
    );
    assert_eq!(
        message(carbon_config::datasources::remove_datasource(
            &mut s, file, "MY_DB"
        )),
        expected
    );
    assert_eq!(s.changes().unwrap(), vec![]);
}

/// A JDBC URL without its `jdbc:`, or one database's driver for another's
/// URL, plans and applies cleanly and stops the server at start-up: each of
/// the three places a recipe writes JDBC settings refuses them.
#[test]
fn jdbc_urls_and_drivers_that_cannot_work_are_refused() {
    use carbon_config::datasources::{ensure_datasource, Datasource};
    use carbon_config::registry::{ensure_db_config, DbConfig, Jdbc};
    use carbon_config::user_mgt::set_realm_jdbc;
    let home = home("carbon-4.4");
    let mut s = Session::new(&home);
    let file = "repository/conf/datasources/master-datasources.xml";
    let datasource = |url: &str, driver: &str| Datasource {
        name: "REGISTRY_DB".into(),
        jndi: Some("jdbc/RegistryDB".into()),
        configuration: vec![
            ("url".into(), url.into()),
            ("driverClassName".into(), driver.into()),
        ],
        ..Default::default()
    };
    assert_eq!(
        message(ensure_datasource(
            &mut s,
            file,
            &datasource("mysql://db:3306/reg", "com.mysql.jdbc.Driver")
        )),
        format!(
            "{}: datasource REGISTRY_DB: url \"mysql://db:3306/reg\" is not a JDBC URL (jdbc:…)",
            home.path().join(file).display()
        )
    );
    assert!(message(ensure_datasource(
        &mut s,
        file,
        &datasource("jdbc:mysql://db:3306/reg", "org.postgresql.Driver")
    ))
    .ends_with(
        "datasource REGISTRY_DB: driver org.postgresql.Driver does not take jdbc:mysql: URLs (\"jdbc:mysql://db:3306/reg\")"
    ));
    let jdbc = Jdbc {
        url: "jdbc:oracle:thin:@db:1521/reg".into(),
        user_name: "u".into(),
        password: "p".into(),
        driver_name: "com.mysql.jdbc.Driver".into(),
        ..Default::default()
    };
    assert!(message(ensure_db_config(&mut s, "remote", &DbConfig::Jdbc(jdbc.clone())))
        .ends_with("registry.xml: dbConfig remote: driver com.mysql.jdbc.Driver does not take jdbc:oracle: URLs (\"jdbc:oracle:thin:@db:1521/reg\")"));
    let err = set_realm_jdbc(&mut s, &jdbc).unwrap_err().to_string();
    assert!(
        err.ends_with("user-mgt.xml: the user store's JDBC properties: driver com.mysql.jdbc.Driver does not take jdbc:oracle: URLs (\"jdbc:oracle:thin:@db:1521/reg\")"),
        "{err}"
    );
    // A new datasource needs a url; an existing one keeps its own.
    let bare = Datasource {
        name: "NEW_DB".into(),
        jndi: Some("jdbc/NewDB".into()),
        ..Default::default()
    };
    assert!(message(ensure_datasource(&mut s, file, &bare)).ends_with(
        "datasource NEW_DB is new in this file and has no url: a new datasource needs one"
    ));
    assert_eq!(s.changes().unwrap(), vec![]);
    let existing = Datasource {
        name: "EXAMPLE_STORE_DB".into(),
        configuration: vec![("maxActive".into(), "7".into())],
        ..Default::default()
    };
    ensure_datasource(&mut s, file, &existing).unwrap();
    // MariaDB's driver takes MySQL URLs; a driver not known here is not judged.
    for driver in [
        "org.mariadb.jdbc.Driver",
        "com.mysql.cj.jdbc.Driver",
        "com.p6spy.engine.spy.P6SpyDriver",
    ] {
        ensure_datasource(
            &mut s,
            file,
            &datasource("jdbc:mysql://db:3306/reg", driver),
        )
        .unwrap();
    }
}

/// A `bin/version.txt` of a sparse terabyte (the home's owner could make
/// one): refused by its size, unread.
#[test]
fn a_huge_version_txt_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    golden::copy_tree(
        &golden::workspace_root().join("fixtures/homes/carbon-4.4"),
        &home,
    );
    std::fs::File::create(home.join("bin/version.txt"))
        .unwrap()
        .set_len(1 << 40)
        .unwrap();
    let err = carbon_config::CarbonHome::open(&home)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "{}: over 4096 bytes, more than such a file may hold",
            home.join("bin/version.txt").display()
        )
    );
}

/// A link in the home that leads into carbon-patch's own folder (where root
/// keeps its lock and journal): the plan does not read it.
#[test]
fn no_path_leads_into_carbon_patchs_own_folder() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    golden::copy_tree(
        &golden::workspace_root().join("fixtures/homes/carbon-4.4"),
        &home,
    );
    std::fs::create_dir(home.join(".carbon-patch")).unwrap();
    std::fs::write(home.join(".carbon-patch/lock"), "4242\n").unwrap();
    std::os::unix::fs::symlink(
        "../../../.carbon-patch/lock",
        home.join("repository/components/lib/driver.jar"),
    )
    .unwrap();
    let opened = carbon_config::CarbonHome::open(&home).unwrap();
    let err = opened
        .root()
        .read("repository/components/lib/driver.jar", 4096)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: leads into {}, which no path of this tree may name",
            home.join("repository/components/lib/driver.jar").display(),
            home.join(".carbon-patch").display()
        )
    );
    let err = carbon_config::Error::from(err).to_string();
    assert!(err.ends_with("carbon-patch's own folder"), "{err}");
}
