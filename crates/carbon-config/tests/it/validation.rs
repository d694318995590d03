//! Each cross-file rule: a plan that breaks it, and one that keeps (or
//! repairs) it. Validation runs on the state the session would write, so a
//! plan that fixes a broken reference passes.

use carbon_config::datasources::{self, Datasource};
use carbon_config::registry::{self, DbConfig, Mount, RemoteInstance};
use carbon_config::validate::{checked_changes, validate, Severity};
use carbon_config::{axis2, libs, user_mgt, CarbonHome, Error, Session};

const MASTER: &str = "repository/conf/datasources/master-datasources.xml";

fn home() -> CarbonHome {
    CarbonHome::open(golden::workspace_root().join("fixtures/homes/carbon-4.4")).unwrap()
}

/// The errors and warnings `plan` leaves, as printed.
fn findings(plan: impl FnOnce(&mut Session) -> Result<(), Error>) -> (Vec<String>, Vec<String>) {
    let home = home();
    let mut session = Session::new(&home);
    plan(&mut session).unwrap();
    let all = validate(&session).unwrap();
    let pick = |s: Severity| {
        all.iter()
            .filter(|f| f.severity == s)
            .map(|f| f.to_string())
            .collect()
    };
    (pick(Severity::Error), pick(Severity::Warning))
}

fn errors(plan: impl FnOnce(&mut Session) -> Result<(), Error>) -> Vec<String> {
    findings(plan).0
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
fn the_untouched_fixture_home_has_no_errors() {
    let (errors, warnings) = findings(|_| Ok(()));
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(
        warnings,
        ["warning: repository/conf/datasources/master-datasources.xml:22:9: datasource EXAMPLE_STORE_DB (no JNDI name) is not referenced by any configuration file"]
    );
}

#[test]
fn registry_data_sources_must_be_defined() {
    let found = errors(|s| {
        registry::ensure_db_config(
            s,
            "wso2registry",
            &DbConfig::DataSource("jdbc/Missing".into()),
        )?;
        Ok(())
    });
    assert_eq!(found, ["error: repository/conf/registry.xml:11:9: dbConfig wso2registry uses dataSource jdbc/Missing, which no active datasource defines"]);
    let repaired = errors(|s| {
        registry::ensure_db_config(
            s,
            "wso2registry",
            &DbConfig::DataSource("jdbc/Missing".into()),
        )?;
        datasources::ensure_datasource(s, MASTER, &mysql_datasource("REG_DB", "jdbc/Missing"))?;
        Ok(())
    });
    assert_eq!(repaired, Vec::<String>::new());
}

#[test]
fn the_user_store_data_source_must_be_defined() {
    let found = errors(|s| {
        user_mgt::set_realm_data_source(s, "jdbc/WSO2UM_DB")?;
        Ok(())
    });
    assert_eq!(found, ["error: repository/conf/user-mgt.xml:6:13: the user store uses dataSource jdbc/WSO2UM_DB, which no active datasource defines"]);
    assert!(errors(|s| {
        user_mgt::set_realm_data_source(s, "jdbc/WSO2UM_DB")?;
        datasources::ensure_datasource(s, MASTER, &mysql_datasource("UM_DB", "jdbc/WSO2UM_DB"))?;
        Ok(())
    })
    .is_empty());
}

#[test]
fn mounts_need_a_remote_instance_which_needs_a_db_config() {
    let mount = Mount {
        path: "/_system/config".into(),
        overwrite: "true".into(),
        instance_id: "Mount1".into(),
        target_path: "/_system/nodes".into(),
    };
    let remote = |db: &str| RemoteInstance {
        url: "https://gov:9443/registry".into(),
        id: "Mount1".into(),
        db_config: Some(db.into()),
        ..Default::default()
    };
    let found = errors(|s| {
        registry::ensure_mount(s, &mount)?;
        Ok(())
    });
    assert_eq!(found, ["error: repository/conf/registry.xml:14:9: mount /_system/config uses instanceId Mount1, but no remoteInstance has that id"]);
    let found = errors(|s| {
        registry::ensure_mount(s, &mount)?;
        registry::ensure_remote_instance(s, &remote("govRegistry"))?;
        Ok(())
    });
    assert_eq!(found, ["error: repository/conf/registry.xml:19:9: remoteInstance Mount1 uses dbConfig govRegistry, which does not exist"]);
    assert!(errors(|s| {
        registry::ensure_mount(s, &mount)?;
        registry::ensure_remote_instance(s, &remote("wso2registry"))?;
        Ok(())
    })
    .is_empty());
}

#[test]
fn current_db_config_must_name_a_db_config() {
    let found = errors(|s| {
        registry::set_current_db_config(s, "local")?;
        Ok(())
    });
    assert_eq!(found, ["error: repository/conf/registry.xml:7:5: currentDBConfig names local, but no dbConfig has that name"]);
    assert!(errors(|s| {
        registry::set_current_db_config(s, "local")?;
        registry::ensure_db_config(
            s,
            "local",
            &DbConfig::DataSource("jdbc/ExampleCarbonDB".into()),
        )?;
        Ok(())
    })
    .is_empty());
}

#[test]
fn two_active_datasources_may_not_share_a_jndi_name() {
    let found = errors(|s| {
        datasources::ensure_datasource(
            s,
            MASTER,
            &mysql_datasource("OTHER", "jdbc/ExampleCarbonDB"),
        )?;
        Ok(())
    });
    assert_eq!(found, ["error: repository/conf/datasources/master-datasources.xml:30:9: JNDI name jdbc/ExampleCarbonDB is defined by 2 active datasources: EXAMPLE_CARBON_DB in repository/conf/datasources/master-datasources.xml, OTHER in repository/conf/datasources/master-datasources.xml"]);
    // Commenting the old one out (as seed 001 does) resolves it.
    assert!(errors(|s| {
        datasources::ensure_datasource(
            s,
            MASTER,
            &mysql_datasource("OTHER", "jdbc/ExampleCarbonDB"),
        )?;
        datasources::comment_out_datasource(s, MASTER, "EXAMPLE_CARBON_DB")?;
        Ok(())
    })
    .is_empty());
}

#[test]
fn wka_needs_members() {
    let found = errors(|s| {
        axis2::set_membership_scheme(s, axis2::MembershipScheme::Wka)?;
        axis2::set_members(s, &[])?;
        Ok(())
    });
    assert_eq!(found, ["error: repository/conf/axis2/axis2.xml:15:9: membershipScheme is wka but <members> lists no member"]);
    assert!(errors(|s| {
        axis2::set_membership_scheme(s, axis2::MembershipScheme::Wka)?;
        Ok(())
    })
    .is_empty());
}

#[test]
fn warnings_for_missing_driver_jars_and_unreferenced_datasources() {
    let (errors, warnings) = findings(|s| {
        datasources::ensure_datasource(s, MASTER, &mysql_datasource("LONELY", "jdbc/Lonely"))?;
        Ok(())
    });
    assert!(errors.is_empty());
    // In the order of the file as the plan leaves it: the new datasource
    // follows the last one (line 29 ends it), its driverClassName on the
    // ninth line of its own, indented five levels.
    assert_eq!(
        warnings,
        [
            "warning: repository/conf/datasources/master-datasources.xml:22:9: datasource EXAMPLE_STORE_DB (no JNDI name) is not referenced by any configuration file",
            "warning: repository/conf/datasources/master-datasources.xml:30:9: datasource LONELY (jdbc/Lonely) is not referenced by any configuration file",
            "warning: repository/conf/datasources/master-datasources.xml:38:21: datasource LONELY uses com.mysql.jdbc.Driver, but repository/components/lib holds no mysql-connector jar",
        ]
    );

    // The driver copied and the datasource used, in the same plan: no warning about it.
    let dir = tempfile::tempdir().unwrap();
    let jar = dir.path().join("mysql-connector-java-5.1.49.jar");
    std::fs::write(&jar, b"PK").unwrap();
    let (_, warnings) = findings(|s| {
        datasources::ensure_datasource(s, MASTER, &mysql_datasource("LONELY", "jdbc/Lonely"))?;
        user_mgt::set_realm_data_source(s, "jdbc/Lonely")?;
        libs::ensure_lib_file(s, &jar, None)?;
        Ok(())
    });
    assert!(
        !warnings.iter().any(|w| w.contains("LONELY")),
        "{warnings:?}"
    );
}

/// Names of unused datasources past a mebibyte in all are not looked for
/// in the other files (the home's owner could write the whole file-size
/// limit of them): one warning says so, and none calls one unreferenced.
#[test]
fn datasource_names_past_a_mebibyte_are_not_looked_for() {
    let skipped = "warning: repository/conf/datasources: the names of the datasources no rule \
                   saw used hold over 1048576 bytes in all: they were not looked for in the \
                   other configuration files, and none is reported as not referenced";
    // The sample's own unused datasource, EXAMPLE_STORE_DB, and this one.
    let with_name_of = |len: usize| {
        let name = "N".repeat(len);
        let (errors, warnings) = findings(|s| {
            datasources::ensure_datasource(s, MASTER, &mysql_datasource(&name, "jdbc/Long"))?;
            Ok(())
        });
        assert!(errors.is_empty());
        let unreferenced = warnings
            .iter()
            .filter(|w| w.ends_with("is not referenced by any configuration file"))
            .count();
        (warnings.iter().any(|w| w == skipped), unreferenced)
    };
    assert_eq!(with_name_of(1 << 20), (true, 0));
    assert_eq!(with_name_of((1 << 20) - 100), (false, 2));
}

#[test]
fn secure_vault_passwords_are_never_written() {
    let home = home();
    let mut session = Session::new(&home);
    let err = datasources::ensure_datasource(
        &mut session,
        MASTER,
        &Datasource {
            name: "EXAMPLE_CARBON_DB".into(),
            configuration: vec![("password".into(), "plain".into())],
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("kept in the secure vault under alias \"Datasources.EXAMPLE.Password\""),
        "{err}"
    );
    assert_eq!(session.changes().unwrap(), vec![]);
}

#[test]
fn a_plan_that_fails_validation_hands_out_nothing_to_write() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("home");
    golden::copy_tree(
        &golden::workspace_root().join("fixtures/homes/carbon-4.4"),
        &root,
    );
    let before = std::fs::read(root.join("repository/conf/registry.xml")).unwrap();
    let home = CarbonHome::open(&root).unwrap();
    let mut session = Session::new(&home);
    registry::ensure_db_config(
        &mut session,
        "wso2registry",
        &DbConfig::DataSource("jdbc/Missing".into()),
    )
    .unwrap();
    // What an apply does: write only what checked_changes hands out.
    match checked_changes(session) {
        Ok((changes, _)) => {
            for change in changes {
                std::fs::write(root.join(&change.path), &change.after).unwrap();
            }
            panic!("a broken plan passed validation");
        }
        Err(Error::Validation(findings)) => {
            let errors = findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .count();
            assert_eq!(errors, 1, "{findings:?}");
            let message = Error::Validation(findings).to_string();
            assert!(
                message.starts_with(
                    "2 problem(s) found in the files as the plan would write them:\n  error: repository/conf/registry.xml:11:9: "
                ),
                "{message}"
            );
        }
        Err(other) => panic!("{other}"),
    }
    assert_eq!(
        std::fs::read(root.join("repository/conf/registry.xml")).unwrap(),
        before
    );
}
