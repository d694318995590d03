//! The clustering operations on real product trees.
//!
//! With `CARBON_CORPUS` set (CI: ../shared/corpus), every product that
//! `assemble --list` names is laid out in a temporary directory and gets
//! every clustering operation its files support. The suite then checks:
//!
//! - each setting reads back as asked;
//! - every changed line is about one of the operations;
//! - the diff equals tests/golden/carbon-corpus/<product>.diff;
//! - a second run on the written tree changes nothing;
//! - every validation finding's line and column is where an element starts,
//!   in the tree as it was and as written.
//!
//! A Carbon 4.5+ tree (API Manager 3.0.0) must be refused. Without the
//! variable the suite reports one ignored test; with `CI=true` that fails.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use carbon_config::datasources::{self, Datasource};
use carbon_config::registry::{self, DbConfig, Mount, RemoteInstance};
use carbon_config::validate::{checked_changes, validate, Finding};
use carbon_config::{
    axis2, carbon_xml, catalina, event_processor, files, libs, raw, spark, user_mgt, CarbonHome,
    ConfigModel, Error, Outcome, Session,
};
use libtest_mimic::{Arguments, Failed, Trial};

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let corpus = match std::env::var_os("CARBON_CORPUS") {
        Some(dir) => golden::workspace_root().join(dir),
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            eprintln!("carbon-config corpus suite: CI=true, but CARBON_CORPUS is not set");
            return ExitCode::FAILURE;
        }
        None => {
            eprintln!("carbon-config corpus suite ignored: CARBON_CORPUS is not set");
            // One test, reported ignored: a suite that did not run must not
            // read as passed.
            let corpus = Trial::test("corpus", || Ok(())).with_ignored_flag(true);
            return libtest_mimic::run(&args, vec![corpus]).exit_code();
        }
    };
    let assemble = corpus.join("assemble");
    let listed = Command::new("bash").arg(&assemble).arg("--list").output();
    let products: Vec<String> = match listed {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect(),
        _ => {
            eprintln!(
                "carbon-config corpus suite: cannot run {}",
                assemble.display()
            );
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "carbon-config corpus suite: {} assembled product trees",
        products.len()
    );
    let mut trials = Vec::new();
    for product in products {
        let (a, p) = (assemble.clone(), product.clone());
        trials.push(Trial::test(format!("clustering::{product}"), move || {
            clustering(&a, &p)
        }));
        let a = assemble.clone();
        trials.push(Trial::test(
            format!("shared-registry::{product}"),
            move || shared_registry(&a, &product),
        ));
    }
    libtest_mimic::run(&args, trials).exit_code()
}

const MEMBERS: [&str; 2] = ["10.0.0.1:4000", "10.0.0.2:4001"];

/// Every clustering operation the home's files support.
fn operations(session: &mut Session) -> Result<Vec<Outcome>, Error> {
    let home = session.home().path().to_path_buf();
    let has = |rel: &str| home.join(rel).is_file();
    let mut done = Vec::new();
    if has(files::AXIS2) {
        let members: Vec<axis2::Member> = MEMBERS.iter().map(|m| m.parse().unwrap()).collect();
        done.push(axis2::set_clustering_enabled(session, true)?);
        done.push(axis2::set_membership_scheme(
            session,
            axis2::MembershipScheme::Wka,
        )?);
        done.push(axis2::set_clustering_parameter(
            session,
            "domain",
            "wso2.test.domain",
        )?);
        done.push(axis2::set_clustering_parameter(
            session,
            "localMemberHost",
            "10.0.0.1",
        )?);
        done.push(axis2::set_clustering_parameter(
            session,
            "localMemberPort",
            "4000",
        )?);
        done.push(axis2::set_clustering_parameter(
            session,
            "mcastAddress",
            "228.0.0.5",
        )?);
        done.push(axis2::set_members(session, &members)?);
        done.push(axis2::set_member_property(session, "subDomain", "mgt")?);
    }
    if has(files::CARBON) {
        done.push(carbon_xml::set_offset(session, 2)?);
        done.push(carbon_xml::set_host_name(session, "node1.example.com")?);
        done.push(carbon_xml::set_mgt_host_name(session, "mgt.example.com")?);
        done.push(carbon_xml::set_deployment_synchronizer(
            session, "Enabled", "true",
        )?);
        done.push(carbon_xml::set_deployment_synchronizer(
            session,
            "SvnUrl",
            "https://svn.example.com/repo/",
        )?);
        done.push(carbon_xml::set_load_from_registry(session, true)?);
    }
    if has(files::CATALINA) {
        done.push(catalina::set_connector_attribute(
            session,
            9763,
            "proxyPort",
            "80",
        )?);
        done.push(catalina::set_connector_attribute(
            session,
            9443,
            "proxyPort",
            "443",
        )?);
    }
    if has(files::EVENT_PROCESSOR) {
        done.push(event_processor::set_mode_enabled(session, "HA", true)?);
        done.push(event_processor::set_mode_enabled(
            session,
            "Distributed",
            true,
        )?);
        done.push(event_processor::set_presenter(session, "HA", true)?);
        done.push(event_processor::set_event_sync(session, "10.0.0.1", None)?);
        done.push(event_processor::set_persistence(session, "HA", false)?);
    }
    if has(files::SPARK_DEFAULTS) {
        done.push(spark::set_property(
            session,
            "carbon.spark.master.count",
            "2",
        )?);
    }
    if has(files::REGISTRY) {
        done.push(raw::apply(
            session,
            files::REGISTRY,
            "readOnly",
            &raw::RawAction::SetText("true".into()),
        )?);
    }
    let jar = driver_jar(home.parent().expect("the tree is in a temporary directory"));
    done.push(libs::ensure_lib_file(session, &jar, None)?);
    Ok(done)
}

/// A stand-in JDBC driver, the same bytes every run, written beside the
/// assembled tree in the trial's own temporary directory (so that it goes
/// with it, and two runs never share it).
fn driver_jar(dir: &Path) -> PathBuf {
    let path = dir.join("carbon-config-corpus-mysql-connector-java-5.1.49.jar");
    std::fs::write(&path, DRIVER_BYTES).expect("a temporary jar");
    path
}

const DRIVER_BYTES: &[u8] = b"PK\x03\x04 stand-in for a JDBC driver";

/// What every changed line of a file's diff must be about.
fn markers(path: &Path) -> &'static [&'static str] {
    match path.to_str().unwrap_or("") {
        files::AXIS2 => &[
            "enable=",
            "membershipScheme",
            "domain",
            "localMemberHost",
            "localMemberPort",
            "mcastAddress",
            "member",
            "hostName",
            "<port>",
            "subDomain",
        ],
        files::CARBON => &[
            "Offset",
            "HostName",
            "MgtHostName",
            "<Enabled>",
            "SvnUrl",
            "MediationConfig",
            "LoadFromRegistry",
            "DeploymentSynchronizer",
        ],
        files::CATALINA => &["proxyPort"],
        files::EVENT_PROCESSOR => &["<mode name=", "<presenter", "<hostName>", "<persistence"],
        files::SPARK_DEFAULTS => &["carbon.spark.master.count"],
        files::REGISTRY => &["<readOnly>"],
        _ => &[],
    }
}

/// Lays out `product` in a new temporary directory.
fn assemble_tree(assemble: &Path, product: &str) -> Result<(tempfile::TempDir, PathBuf), Failed> {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join(product);
    let status = Command::new("bash")
        .arg(assemble)
        .arg(product)
        .arg(&root)
        .status()?;
    if !status.success() {
        return Err(format!("assemble {product} failed").into());
    }
    Ok((dir, root))
}

const MASTER: &str = "repository/conf/datasources/master-datasources.xml";

/// A shared configuration and governance registry and user store, as the
/// guides set them up, on every assembled tree: new datasources, a dbConfig,
/// a remote instance and two mounts, the user store repointed.
fn registry_operations(session: &mut Session) -> Result<Vec<Outcome>, Error> {
    let mysql = |name: &str, jndi: &str, db: &str| Datasource {
        name: name.into(),
        description: Some(format!("{db} on the shared MySQL")),
        jndi: Some(jndi.into()),
        definition_type: None,
        configuration: vec![
            (
                "url".into(),
                format!("jdbc:mysql://10.0.0.100:3306/{db}?autoReconnect=true"),
            ),
            ("username".into(), "wso2".into()),
            ("password".into(), "not-a-real-password".into()),
            ("driverClassName".into(), "com.mysql.jdbc.Driver".into()),
            ("maxActive".into(), "50".into()),
            ("validationQuery".into(), "SELECT 1".into()),
        ],
    };
    let mut done = vec![
        datasources::ensure_datasource(
            session,
            MASTER,
            &mysql("WSO2_REG_DB", "jdbc/WSO2RegDB", "regdb"),
        )?,
        datasources::ensure_datasource(
            session,
            MASTER,
            &mysql("WSO2_UM_DB", "jdbc/WSO2UMDB", "userdb"),
        )?,
        registry::ensure_db_config(
            session,
            "govregistry",
            &DbConfig::DataSource("jdbc/WSO2RegDB".into()),
        )?,
        registry::ensure_remote_instance(
            session,
            &RemoteInstance {
                url: "https://10.0.0.10:9443/registry".into(),
                id: "gov".into(),
                db_config: Some("govregistry".into()),
                read_only: Some(false),
                enable_cache: Some(true),
                registry_root: Some("/".into()),
                cache_id: None,
            },
        )?,
    ];
    for (path, target) in [
        ("/_system/config", "/_system/nodes"),
        ("/_system/governance", "/_system/governance"),
    ] {
        done.push(registry::ensure_mount(
            session,
            &Mount {
                path: path.into(),
                overwrite: "true".into(),
                instance_id: "gov".into(),
                target_path: target.into(),
            },
        )?);
    }
    done.push(user_mgt::set_realm_data_source(session, "jdbc/WSO2UMDB")?);
    done.push(user_mgt::set_realm_read_only(session, false)?);
    Ok(done)
}

fn shared_registry(assemble: &Path, product: &str) -> Result<(), Failed> {
    let (_dir, root) = assemble_tree(assemble, product)?;
    let home = CarbonHome::open(&root).map_err(|e| e.to_string())?;
    let has = |rel: &str| root.join(rel).is_file();
    if home.model() == ConfigModel::DeploymentToml
        || !has(files::REGISTRY)
        || !has(files::USER_MGT)
        || !has(MASTER)
    {
        return Ok(());
    }
    let mut session = Session::new(&home);
    let as_it_is = validate(&session).map_err(|e| format!("{product}: {e}"))?;
    check_places(&root, &as_it_is).map_err(|e| format!("{product}, as shipped: {e}"))?;
    registry_operations(&mut session).map_err(|e| e.to_string())?;
    // The plan must validate: every reference it makes resolves.
    let (changes, warnings) = checked_changes(session).map_err(|e| format!("{product}: {e}"))?;
    let mut report = String::new();
    for change in &changes {
        let name = change.path.to_string_lossy().into_owned();
        report.push_str(&golden::unified_diff(
            &name,
            change.before.as_deref().unwrap_or_default(),
            &change.after,
        ));
        std::fs::write(root.join(&change.path), &change.after)?;
    }
    std::panic::catch_unwind(|| {
        golden::assert_golden(
            &format!("carbon-corpus/{product}-shared-registry.diff"),
            &report,
        )
    })
    .map_err(|_| format!("{product}: the diff differs from its golden file (see above)"))?;
    check_places(&root, &warnings).map_err(|e| format!("{product}, as written: {e}"))?;

    // Read back what the guides care about.
    let doc = xmlsplice::Document::parse(std::fs::read(root.join(files::REGISTRY))?)
        .map_err(|e| e.to_string())?;
    let text = |path: &str| -> Result<String, Failed> {
        let el = doc.select_one(path).map_err(|e| e.to_string())?;
        Ok(doc.element_text(el).unwrap_or_default())
    };
    if text("dbConfig[@name='govregistry']/dataSource")? != "jdbc/WSO2RegDB"
        || text("remoteInstance[id='gov']/dbConfig")? != "govregistry"
        || text("mount[@path='/_system/governance']/instanceId")? != "gov"
    {
        return Err(format!("{product}: registry.xml does not read back as planned").into());
    }

    let home = CarbonHome::open(&root).map_err(|e| e.to_string())?;
    let mut again = Session::new(&home);
    let second = registry_operations(&mut again).map_err(|e| e.to_string())?;
    if let Some(changed) = second.iter().find(|o| o.changed) {
        return Err(format!("{product}: second run changed {changed}").into());
    }
    if !again.changes().map_err(|e| e.to_string())?.is_empty() {
        return Err(format!("{product}: second run has file changes").into());
    }
    Ok(())
}

/// Each finding's line and column is where an element's start tag begins in
/// the file under `root` (which holds the state the findings were made on).
fn check_places(root: &Path, findings: &[Finding]) -> Result<(), String> {
    for finding in findings {
        let at = finding.at.ok_or_else(|| format!("no place: {finding}"))?;
        // Lossy: a Latin-1 byte stands for one character, as does U+FFFD.
        let bytes = std::fs::read(root.join(&finding.file)).map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&bytes);
        let line = text.lines().nth(at.line as usize - 1).unwrap_or_default();
        let there: String = line.chars().skip(at.column as usize - 1).take(30).collect();
        if !there.starts_with('<') || there.starts_with("<!--") {
            return Err(format!("{finding}: the file has {there:?} there"));
        }
    }
    Ok(())
}

fn clustering(assemble: &Path, product: &str) -> Result<(), Failed> {
    let (_dir, root) = assemble_tree(assemble, product)?;
    let home = CarbonHome::open(&root).map_err(|e| e.to_string())?;
    let mut session = Session::new(&home);
    if home.model() == ConfigModel::DeploymentToml {
        return match axis2::set_clustering_enabled(&mut session, true) {
            Err(Error::RegeneratedConfig { .. }) => Ok(()),
            other => Err(format!("{product}: a 4.5+ home must be refused, got {other:?}").into()),
        };
    }
    let outcomes = operations(&mut session).map_err(|e| e.to_string())?;
    if outcomes.is_empty() {
        return Err(format!("{product}: no operation applied").into());
    }
    let changes = session.changes().map_err(|e| e.to_string())?;
    let mut report = String::new();
    for change in &changes {
        let name = change.path.to_string_lossy().into_owned();
        if change.path.starts_with(files::LIB_DIR) {
            // A copied jar: bytes, not lines.
            if change.before.is_some() || change.after != DRIVER_BYTES {
                return Err(format!("{product}: {name} is not the copied driver").into());
            }
            report.push_str(&format!("new file {name} ({} bytes)\n", change.after.len()));
            let target = root.join(&change.path);
            std::fs::create_dir_all(target.parent().expect("lib/ has a parent"))?;
            std::fs::write(target, &change.after)?;
            continue;
        }
        let diff = golden::unified_diff(
            &name,
            change.before.as_deref().unwrap_or_default(),
            &change.after,
        );
        check_lines(&change.path, &diff)?;
        report.push_str(&diff);
        std::fs::write(root.join(&change.path), &change.after)?;
    }
    check_settings(&root)?;
    std::panic::catch_unwind(|| {
        golden::assert_golden(&format!("carbon-corpus/{product}.diff"), &report)
    })
    .map_err(|_| format!("{product}: the diff differs from its golden file (see above)"))?;

    let home = CarbonHome::open(&root).map_err(|e| e.to_string())?;
    let mut again = Session::new(&home);
    let second = operations(&mut again).map_err(|e| e.to_string())?;
    if let Some(changed) = second.iter().find(|o| o.changed) {
        return Err(format!("{product}: second run changed {changed}").into());
    }
    if !again.changes().map_err(|e| e.to_string())?.is_empty() {
        return Err(format!("{product}: second run has file changes").into());
    }
    Ok(())
}

/// Every changed line must name something an operation set. A line whose
/// only change is a tag's closing `/>` moving down to a new attribute's line
/// (one attribute per line) counts as part of that change.
fn check_lines(path: &Path, diff: &str) -> Result<(), Failed> {
    let strip = |line: &str| -> String {
        line[1..]
            .trim_end_matches('␍')
            .trim_end()
            .trim_end_matches("/>")
            .trim_end_matches('>')
            .trim_end()
            .to_string()
    };
    let lines: Vec<&str> = diff.lines().skip(2).collect();
    let removed: Vec<String> = lines
        .iter()
        .filter(|l| l.starts_with('-'))
        .map(|l| strip(l))
        .collect();
    let added: Vec<String> = lines
        .iter()
        .filter(|l| l.starts_with('+'))
        .map(|l| strip(l))
        .collect();
    for line in lines
        .iter()
        .filter(|l| l.starts_with('-') || l.starts_with('+'))
    {
        if markers(path).iter().any(|m| line.contains(m)) {
            continue;
        }
        let moved_close = if line.starts_with('-') {
            added.contains(&strip(line))
        } else {
            removed.contains(&strip(line))
        };
        if !moved_close {
            return Err(format!(
                "{}: a changed line is about no operation: {line}",
                path.display()
            )
            .into());
        }
    }
    Ok(())
}

/// Reads the written files back and checks each setting.
fn check_settings(root: &Path) -> Result<(), Failed> {
    let read = |rel: &str| -> Option<xmlsplice::Document> {
        let bytes = std::fs::read(root.join(rel)).ok()?;
        Some(xmlsplice::Document::parse(bytes).expect("written files parse"))
    };
    let text = |doc: &xmlsplice::Document, path: &str| -> Result<String, Failed> {
        let el = doc.select_one(path).map_err(|e| e.to_string())?;
        Ok(doc.element_text(el).unwrap_or_default().trim().to_string())
    };
    let attr = |doc: &xmlsplice::Document, path: &str, name: &str| -> Result<String, Failed> {
        let el = doc.select_one(path).map_err(|e| e.to_string())?;
        Ok(doc.attribute(el, name).unwrap_or_default().to_string())
    };
    let expect = |what: &str, got: String, want: &str| -> Result<(), Failed> {
        if got == want {
            Ok(())
        } else {
            Err(format!("{what}: expected {want:?}, found {got:?}").into())
        }
    };
    if let Some(doc) = read(files::AXIS2) {
        expect(
            "clustering enable",
            attr(&doc, "clustering", "enable")?,
            "true",
        )?;
        expect(
            "membershipScheme",
            text(&doc, "clustering/parameter[@name='membershipScheme']")?,
            "wka",
        )?;
        expect(
            "domain",
            text(&doc, "clustering/parameter[@name='domain']")?,
            "wso2.test.domain",
        )?;
        expect(
            "localMemberHost",
            text(&doc, "clustering/parameter[@name='localMemberHost']")?,
            "10.0.0.1",
        )?;
        expect(
            "mcastAddress",
            text(&doc, "clustering/parameter[@name='mcastAddress']")?,
            "228.0.0.5",
        )?;
        expect(
            "subDomain",
            attr(
                &doc,
                "clustering/parameter[@name='properties']/property[@name='subDomain']",
                "value",
            )?,
            "mgt",
        )?;
        let members: Vec<String> = doc
            .select("clustering/members/member")?
            .into_iter()
            .map(|m| {
                let part = |n: &str| {
                    doc.select_one((m, n))
                        .ok()
                        .and_then(|e| doc.element_text(e))
                        .unwrap_or_default()
                };
                format!("{}:{}", part("hostName"), part("port"))
            })
            .collect();
        expect("members", members.join(","), &MEMBERS.join(","))?;
    }
    if let Some(doc) = read(files::CARBON) {
        expect("Offset", text(&doc, "Ports/Offset")?, "2")?;
        expect("HostName", text(&doc, "HostName")?, "node1.example.com")?;
        expect("MgtHostName", text(&doc, "MgtHostName")?, "mgt.example.com")?;
        expect(
            "DeploymentSynchronizer/Enabled",
            text(&doc, "DeploymentSynchronizer/Enabled")?,
            "true",
        )?;
        expect(
            "LoadFromRegistry",
            text(&doc, "MediationConfig/LoadFromRegistry")?,
            "true",
        )?;
    }
    if let Some(doc) = read(files::CATALINA) {
        expect(
            "HTTP proxyPort",
            attr(&doc, "//Connector[@port='9763']", "proxyPort")?,
            "80",
        )?;
        expect(
            "HTTPS proxyPort",
            attr(&doc, "//Connector[@port='9443']", "proxyPort")?,
            "443",
        )?;
    }
    if let Some(doc) = read(files::EVENT_PROCESSOR) {
        expect("HA", attr(&doc, "mode[@name='HA']", "enable")?, "true")?;
        expect(
            "Distributed",
            attr(&doc, "mode[@name='Distributed']", "enable")?,
            "true",
        )?;
        expect(
            "HA presenter",
            attr(&doc, "mode[@name='HA']/nodeType/presenter", "enable")?,
            "true",
        )?;
        expect(
            "HA persistence",
            attr(&doc, "mode[@name='HA']/persistence", "enable")?,
            "false",
        )?;
        expect(
            "eventSync hostName",
            text(&doc, "mode[@name='HA']/eventSync/hostName")?,
            "10.0.0.1",
        )?;
    }
    if let Some(doc) = read(files::REGISTRY) {
        expect("registry readOnly", text(&doc, "readOnly")?, "true")?;
    }
    let spark = root.join(files::SPARK_DEFAULTS);
    if spark.is_file() {
        let text = std::fs::read_to_string(&spark)?;
        if !text
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["carbon.spark.master.count", "2"])
        {
            return Err("carbon.spark.master.count is not 2".into());
        }
    }
    Ok(())
}
