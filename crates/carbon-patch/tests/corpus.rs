//! The example recipes on real product trees (`../shared/corpus/assemble`),
//! through the built binary: apply with --home overrides, check every setting
//! the guide asks for, `check` exits 0, and the plan's diffs are golden.
//!
//! Needs CARBON_CORPUS (CI sets it): without it each test is reported
//! ignored, and with CI=true the suite fails.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use libtest_mimic::{Arguments, Trial};

use xmlsplice::Document;

#[path = "corpus/upgrades.rs"]
mod upgrades;

/// An example's test: its name, and the function that runs it on the corpus.
type Example = (&'static str, fn(&Path));

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let corpus = match std::env::var_os("CARBON_CORPUS") {
        Some(dir) => Some(golden::workspace_root().join(dir)),
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            eprintln!("example recipes on real trees: CI=true, but CARBON_CORPUS is not set");
            return ExitCode::FAILURE;
        }
        None => {
            eprintln!("example recipes on real trees: ignored (CARBON_CORPUS is not set)");
            None
        }
    };
    let examples: [Example; 7] = [
        (
            "is_cluster_on_identity_server_5_4_1",
            is_cluster_on_identity_server_5_4_1,
        ),
        (
            "apim_distributed_on_api_manager_2_1_0",
            apim_distributed_on_api_manager_2_1_0,
        ),
        (
            "greg_three_nodes_on_governance_registry_5_4_0",
            greg_three_nodes_on_governance_registry_5_4_0,
        ),
        (
            "mb_two_nodes_on_message_broker_3_2_0",
            mb_two_nodes_on_message_broker_3_2_0,
        ),
        (
            "das_distributed_on_data_analytics_server_3_1_0",
            das_distributed_on_data_analytics_server_3_1_0,
        ),
        (
            "es_publisher_store_on_enterprise_store_2_1_0",
            es_publisher_store_on_enterprise_store_2_1_0,
        ),
        (
            "dss_shared_registry_on_dss_3_5_1_and_greg_5_4_0",
            dss_shared_registry_on_dss_3_5_1_and_greg_5_4_0,
        ),
    ];
    let mut trials: Vec<Trial> = examples
        .into_iter()
        .map(|(name, example)| {
            let ignored = corpus.is_none();
            let corpus = corpus.clone().unwrap_or_default();
            Trial::test(name, move || {
                example(&corpus);
                Ok(())
            })
            .with_ignored_flag(ignored)
        })
        .collect();
    trials.extend(ansible_cases(corpus.as_deref()));
    trials.extend(upgrades::round_trips(corpus.as_deref()));
    trials.extend(upgrades::hand_made(corpus.as_deref()));
    trials.extend(upgrades::across_versions(corpus.as_deref()));
    trials.extend(upgrades::across_the_config_model(corpus.as_deref()));
    trials.extend(upgrades::apim_on_deployment_toml(corpus.as_deref()));
    libtest_mimic::run(&args, trials).exit_code()
}

fn assemble(corpus: &Path, product: &str, dest: &Path) {
    let status = Command::new("bash")
        .arg(corpus.join("assemble"))
        .arg(product)
        .arg(dest)
        .status()
        .unwrap();
    assert!(status.success(), "assemble {product}");
}

fn carbon_patch(args: &[String], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carbon-patch"));
    cmd.current_dir(golden::workspace_root())
        .args(args)
        .env_remove("CARBON_PATCH_FAIL_AFTER_WRITES");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Reads XML files of a home and checks values by path.
struct Reader {
    home: PathBuf,
}

impl Reader {
    fn doc(&self, rel: &str) -> Document {
        Document::parse(std::fs::read(self.home.join(rel)).unwrap()).unwrap()
    }

    fn text(&self, rel: &str, path: &str) -> String {
        let doc = self.doc(rel);
        let el = doc
            .select_one(path)
            .unwrap_or_else(|e| panic!("{rel}: {e}"));
        doc.element_text(el).unwrap_or_default().trim().to_string()
    }

    fn attribute(&self, rel: &str, path: &str, name: &str) -> String {
        let doc = self.doc(rel);
        let el = doc
            .select_one(path)
            .unwrap_or_else(|e| panic!("{rel}: {e}"));
        doc.attribute(el, name).unwrap_or_default().to_string()
    }

    fn count(&self, rel: &str, path: &str) -> usize {
        self.doc(rel).select(path).unwrap().len()
    }
}

const AXIS2: &str = "repository/conf/axis2/axis2.xml";
const CARBON: &str = "repository/conf/carbon.xml";
const REGISTRY: &str = "repository/conf/registry.xml";
const USER_MGT: &str = "repository/conf/user-mgt.xml";
const MASTER: &str = "repository/conf/datasources/master-datasources.xml";

/// Assembles `product` once per node, plans `recipe` (golden), applies it,
/// and returns the homes; `check` is run by [`check_clean`] after the caller's
/// own assertions.
fn apply_example(
    corpus: &Path,
    dir: &Path,
    recipe: &str,
    product: &str,
    nodes: &[&str],
    env: &[(&str, &str)],
) -> (Vec<PathBuf>, Vec<String>) {
    let products: Vec<(&str, &str)> = nodes.iter().map(|n| (*n, product)).collect();
    apply_example_mixed(corpus, dir, recipe, product, &products, env)
}

/// As [`apply_example`], with a product per node; `label` names the golden file.
fn apply_example_mixed(
    corpus: &Path,
    dir: &Path,
    recipe: &str,
    label: &str,
    node_products: &[(&str, &str)],
    env: &[(&str, &str)],
) -> (Vec<PathBuf>, Vec<String>) {
    let nodes: Vec<&str> = node_products.iter().map(|(n, _)| *n).collect();
    let homes: Vec<PathBuf> = nodes.iter().map(|n| dir.join(n)).collect();
    for ((_, product), home) in node_products.iter().zip(&homes) {
        assemble(corpus, product, home);
    }
    let mut base: Vec<String> = vec![recipe.to_string()];
    for (node, home) in nodes.iter().zip(&homes) {
        base.push(format!("--home={node}={}", home.display()));
    }
    let with = |command: &str, extra: &[&str]| -> Vec<String> {
        let mut args = vec![command.to_string()];
        args.extend(base.iter().cloned());
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let plan = carbon_patch(&with("plan", &["--color=never"]), env);
    assert!(
        plan.status.success(),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    let mut text = String::from_utf8_lossy(&plan.stdout).replace('\r', "␍");
    for (node, home) in nodes.iter().zip(&homes) {
        text = text.replace(&home.display().to_string(), &node.to_uppercase());
    }
    assert!(text.contains("Still to do by hand"));
    let stem = Path::new(recipe)
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    golden::assert_golden(&format!("examples/{stem}.{label}.txt"), &text);
    let apply = carbon_patch(&with("apply", &[]), env);
    assert!(
        apply.status.success(),
        "{}",
        String::from_utf8_lossy(&apply.stderr)
    );
    (homes, with("check", &["--color=never"]))
}

/// `check` on the applied homes exits 0.
fn check_clean(check: &[String], env: &[(&str, &str)]) {
    let out = carbon_patch(check, env);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

const CATALINA: &str = "repository/conf/tomcat/catalina-server.xml";

fn greg_three_nodes_on_governance_registry_5_4_0(corpus: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let env = [("GREG_DB_PASSWORD", "example-password")];
    let (homes, check) = apply_example(
        corpus,
        dir.path(),
        "examples/greg-three-nodes.toml",
        "greg-5.4.0",
        &["node1", "node2", "node3"],
        &env,
    );
    for (i, home) in homes.iter().enumerate() {
        let r = Reader { home: home.clone() };
        assert_eq!(r.attribute(AXIS2, "clustering", "enable"), "true");
        assert_eq!(
            r.text(AXIS2, "clustering/parameter[@name='membershipScheme']"),
            "wka"
        );
        assert_eq!(
            r.text(AXIS2, "clustering/parameter[@name='domain']"),
            "wso2.governance.domain"
        );
        assert_eq!(
            r.text(AXIS2, "clustering/parameter[@name='localMemberHost']"),
            "10.0.2.10"
        );
        assert_eq!(
            r.text(AXIS2, "clustering/parameter[@name='localMemberPort']"),
            (4250 + i).to_string()
        );
        assert_eq!(r.count(AXIS2, "clustering/members/member"), 1);
        assert_eq!(
            r.text(AXIS2, "clustering/members/member/hostName"),
            "10.0.2.5"
        );
        assert_eq!(r.text(AXIS2, "clustering/members/member/port"), "4321");
        assert_eq!(
            r.attribute(
                AXIS2,
                "clustering/parameter[@name='properties']/property[@name='subDomain']",
                "value"
            ),
            "mgt"
        );
        assert_eq!(
            r.attribute(CATALINA, "//Connector[@port='9763']", "proxyPort"),
            "8280"
        );
        assert_eq!(
            r.attribute(CATALINA, "//Connector[@port='9443']", "proxyPort"),
            "8243"
        );
        assert_eq!(r.text(CARBON, "Ports/Offset"), (1 + i).to_string());
        assert_eq!(r.text(CARBON, "HostName"), "greg.wso2.com");
        assert_eq!(r.text(CARBON, "MgtHostName"), "mgt.greg.wso2.com");
        assert_eq!(
            r.text(USER_MGT, "Realm/Configuration/Property[@name='dataSource']"),
            "jdbc/WSO2CarbonDB_mount"
        );
        assert_eq!(
            r.text(REGISTRY, "dbConfig[@name='wso2registry_mount']/dataSource"),
            "jdbc/WSO2CarbonDB_mount"
        );
        assert_eq!(
            r.text(REGISTRY, "remoteInstance[id='instanceid']/dbConfig"),
            "wso2registry_mount"
        );
        assert_eq!(r.count(REGISTRY, "mount"), 2);
        assert_eq!(
            r.text(
                MASTER,
                "datasources/datasource[name='WSO2_CARBON_DB_MOUNT']/definition/configuration/url"
            ),
            "jdbc:mysql://10.0.2.20:3306/wso2governance"
        );
        assert_eq!(
            r.count(MASTER, "datasources/datasource[name='WSO2_CARBON_DB']"),
            1,
            "the guide keeps it"
        );
        assert_eq!(
            r.text(
                MASTER,
                "datasources/datasource[name='WSO2AM_DB']/definition/configuration/url"
            ),
            "jdbc:mysql://10.0.2.20:3306/wso2apim"
        );
    }
    check_clean(&check, &env);
}

fn mb_two_nodes_on_message_broker_3_2_0(corpus: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let env = [("MB_DB_PASSWORD", "example-password")];
    let (homes, check) = apply_example(
        corpus,
        dir.path(),
        "examples/mb-two-nodes.toml",
        "mb-3.2.0",
        &["node1", "node2"],
        &env,
    );
    let (node1, node2) = (&homes[0], &homes[1]);
    for (home, offset, port, other) in
        [(&node1, "0", "4000", "4003"), (&node2, "3", "4003", "4000")]
    {
        let r = Reader {
            home: home.to_path_buf(),
        };
        assert_eq!(r.attribute(AXIS2, "clustering", "enable"), "true");
        assert_eq!(
            r.text(AXIS2, "clustering/parameter[@name='membershipScheme']"),
            "wka"
        );
        assert_eq!(
            r.text(AXIS2, "clustering/parameter[@name='localMemberHost']"),
            "10.100.7.118"
        );
        assert_eq!(
            r.text(AXIS2, "clustering/parameter[@name='localMemberPort']"),
            port
        );
        assert_eq!(r.count(AXIS2, "clustering/members/member"), 1);
        assert_eq!(
            r.text(AXIS2, "clustering/members/member/hostName"),
            "10.100.7.118"
        );
        assert_eq!(r.text(AXIS2, "clustering/members/member/port"), other);
        assert_eq!(r.text(CARBON, "HostName"), "10.100.7.118");
        assert_eq!(r.text(CARBON, "MgtHostName"), "10.100.7.118");
        assert_eq!(r.text(CARBON, "Ports/Offset"), offset);
        assert_eq!(
            r.count(MASTER, "datasources/datasource[name='WSO2_CARBON_DB']"),
            0,
            "commented out"
        );
        let local = if port == "4000" {
            "REGISTRY_LOCAL1"
        } else {
            "REGISTRY_LOCAL2"
        };
        assert_eq!(
            r.text(
                MASTER,
                &format!("datasources/datasource[name='{local}']/jndiConfig/name")
            ),
            "jdbc/WSO2CarbonDB"
        );
        assert_eq!(
            r.text(
                MASTER,
                "datasources/datasource[name='REGISTRY_DB']/jndiConfig/name"
            ),
            "jdbc/WSO2RegistryDB"
        );
        assert_eq!(
            r.text(
                MASTER,
                "datasources/datasource[name='WSO2_USER_DB']/jndiConfig/name"
            ),
            "jdbc/WSO2UMDB"
        );
        assert_eq!(
            r.text(
                MASTER,
                "datasources/datasource[name='REGISTRY_DB']/definition/configuration/password"
            ),
            "example-password",
            "the file gets the real value"
        );
        assert_eq!(
            r.text(REGISTRY, "dbConfig[@name='sharedregistry']/dataSource"),
            "jdbc/WSO2RegistryDB"
        );
        assert_eq!(
            r.text(REGISTRY, "remoteInstance[id='instanceid']/dbConfig"),
            "sharedregistry"
        );
        assert_eq!(
            r.text(REGISTRY, "mount[@path='/_system/config']/targetPath"),
            "/_system/config"
        );
        assert_eq!(
            r.text(REGISTRY, "mount[@path='/_system/governance']/instanceId"),
            "instanceid"
        );
        assert_eq!(
            r.text(USER_MGT, "Realm/Configuration/Property[@name='dataSource']"),
            "jdbc/WSO2CarbonDB"
        );
    }

    check_clean(&check, &env);
}

const EVENT_PROCESSOR: &str = "repository/conf/event-processor.xml";
const ANALYTICS: &str = "repository/conf/datasources/analytics-datasources.xml";
const SPARK: &str = "repository/conf/analytics/spark/spark-defaults.conf";

fn das_distributed_on_data_analytics_server_3_1_0(corpus: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let env = [("DAS_DB_PASSWORD", "example-password")];
    let nodes = [
        ("receiver1", "10.0.1.1"),
        ("receiver2", "10.0.1.2"),
        ("indexer1", "10.0.1.3"),
        ("indexer2", "10.0.1.4"),
        ("analyzer1", "10.0.1.5"),
        ("analyzer2", "10.0.1.6"),
        ("presenter1", "10.0.1.7"),
        ("presenter2", "10.0.1.8"),
    ];
    let names: Vec<&str> = nodes.iter().map(|(n, _)| *n).collect();
    let (homes, check) = apply_example(
        corpus,
        dir.path(),
        "examples/das-distributed.toml",
        "das-3.1.0",
        &names,
        &env,
    );
    for ((name, ip), home) in nodes.iter().zip(&homes) {
        let r = Reader { home: home.clone() };
        assert_eq!(r.attribute(AXIS2, "clustering", "enable"), "true", "{name}");
        assert_eq!(
            r.text(AXIS2, "clustering/parameter[@name='membershipScheme']"),
            "wka"
        );
        assert_eq!(
            r.text(AXIS2, "clustering/parameter[@name='localMemberHost']"),
            *ip
        );
        assert_eq!(
            r.text(AXIS2, "clustering/parameter[@name='localMemberPort']"),
            "4000"
        );
        let hosts: Vec<String> = {
            let doc = r.doc(AXIS2);
            doc.select("clustering/members/member/hostName")
                .unwrap()
                .into_iter()
                .map(|e| doc.element_text(e).unwrap())
                .collect()
        };
        if name.starts_with("analyzer") {
            assert_eq!(hosts, ["10.0.1.5", "10.0.1.6"], "{name}");
            assert!(std::fs::read_to_string(home.join(SPARK))
                .unwrap()
                .lines()
                .any(|l| l == "carbon.spark.master.count  2"));
        } else {
            assert_eq!(
                hosts,
                ["10.0.1.3", "10.0.1.4", "10.0.1.1", "10.0.1.2"],
                "{name}"
            );
            assert!(std::fs::read_to_string(home.join(SPARK))
                .unwrap()
                .lines()
                .any(|l| l == "carbon.spark.master.count  1"));
        }
        assert_eq!(
            r.text(
                MASTER,
                "datasources/datasource[name='WSO2UM_DB']/definition/configuration/url"
            ),
            "jdbc:mysql://10.0.1.100:3306/userdb"
        );
        assert_eq!(
            r.text(
                MASTER,
                "datasources/datasource[name='WSO2REG_DB']/jndiConfig/name"
            ),
            "jdbc/WSO2REG_DB"
        );
        for store in [
            "WSO2_ANALYTICS_EVENT_STORE_DB",
            "WSO2_ANALYTICS_PROCESSED_DATA_STORE_DB",
        ] {
            assert_eq!(
                r.text(
                    ANALYTICS,
                    &format!("datasources/datasource[name='{store}']/definition/configuration/url")
                ),
                format!("jdbc:mysql://10.0.1.100:3306/{store}")
            );
        }
        assert_eq!(
            r.text(USER_MGT, "Realm/Configuration/Property[@name='dataSource']"),
            "jdbc/WSO2UM_DB"
        );
        assert_eq!(
            r.text(REGISTRY, "dbConfig[@name='wso2registry']/dataSource"),
            "jdbc/WSO2CarbonDB",
            "kept"
        );
        assert_eq!(
            r.text(REGISTRY, "dbConfig[@name='govregistry']/dataSource"),
            "jdbc/WSO2REG_DB"
        );
        assert_eq!(r.count(REGISTRY, "mount"), 2);
        assert_eq!(
            r.attribute(EVENT_PROCESSOR, "mode[@name='HA']", "enable"),
            "true"
        );
        assert_eq!(
            r.attribute(EVENT_PROCESSOR, "mode[@name='Distributed']", "enable"),
            "true"
        );
        assert_eq!(
            r.attribute(EVENT_PROCESSOR, "mode[@name='HA']/persistence", "enable"),
            "false"
        );
        let presenter = if name.starts_with("presenter") {
            "true"
        } else {
            "false"
        };
        assert_eq!(
            r.attribute(
                EVENT_PROCESSOR,
                "mode[@name='HA']/nodeType/presenter",
                "enable"
            ),
            presenter,
            "{name}"
        );
        let sync = if name.starts_with("receiver") {
            *ip
        } else {
            "0.0.0.0"
        };
        assert_eq!(
            r.text(EVENT_PROCESSOR, "mode[@name='HA']/eventSync/hostName"),
            sync,
            "{name}"
        );
    }
    check_clean(&check, &env);
}

const SOCIAL: &str = "repository/conf/datasources/social-datasources.xml";
const SSO: &str = "repository/conf/identity/sso-idp-config.xml";

fn es_publisher_store_on_enterprise_store_2_1_0(corpus: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("ES_DB_PASSWORD", "example-db-password"),
        ("ES_SVN_USER", "svnuser"),
        ("ES_SVN_PASSWORD", "example-svn-password"),
    ];
    let nodes = [
        ("publisher1", "10.0.3.1", "4250", "10.0.3.2", "4251"),
        ("publisher2", "10.0.3.2", "4251", "10.0.3.1", "4250"),
        ("store1", "10.0.3.3", "4252", "10.0.3.4", "4253"),
        ("store2", "10.0.3.4", "4253", "10.0.3.3", "4252"),
    ];
    let names: Vec<&str> = nodes.iter().map(|n| n.0).collect();
    let (homes, check) = apply_example(
        corpus,
        dir.path(),
        "examples/es-publisher-store.toml",
        "es-2.1.0",
        &names,
        &env,
    );
    for ((name, ip, port, other, other_port), home) in nodes.iter().zip(&homes) {
        let r = Reader { home: home.clone() };
        let publisher = name.starts_with("publisher");
        assert_eq!(r.attribute(AXIS2, "clustering", "enable"), "true", "{name}");
        assert_eq!(
            r.text(AXIS2, "clustering/parameter[@name='domain']"),
            "wso2.es.domain"
        );
        assert_eq!(
            r.text(AXIS2, "clustering/parameter[@name='localMemberHost']"),
            *ip
        );
        assert_eq!(
            r.text(AXIS2, "clustering/parameter[@name='localMemberPort']"),
            *port
        );
        assert_eq!(r.text(AXIS2, "clustering/members/member/hostName"), *other);
        assert_eq!(r.text(AXIS2, "clustering/members/member/port"), *other_port);
        assert_eq!(
            r.count(
                AXIS2,
                "clustering/parameter[@name='properties']/property[@name='subDomain']"
            ),
            0,
            "commented out"
        );
        let host = if publisher {
            "publisher.es-wso2.com"
        } else {
            "store.es-wso2.com"
        };
        assert_eq!(r.text(CARBON, "HostName"), host);
        assert_eq!(r.text(CARBON, "DeploymentSynchronizer/Enabled"), "true");
        assert_eq!(
            r.text(CARBON, "DeploymentSynchronizer/AutoCommit"),
            if publisher { "true" } else { "false" }
        );
        assert_eq!(
            r.text(CARBON, "DeploymentSynchronizer/SvnUrl"),
            "https://svn.example.com/es/"
        );
        assert_eq!(
            r.text(CARBON, "DeploymentSynchronizer/SvnPassword"),
            "example-svn-password"
        );
        assert_eq!(
            r.text(
                MASTER,
                "datasources/datasource[name='WSO2_CARBON_DB']/definition/configuration/url"
            ),
            "jdbc:mysql://10.0.3.100:3306/ES_carbondb"
        );
        for (ds, jndi) in [
            ("WSO2UM_DB", "jdbc/WSO2UM_DB"),
            ("Registry_DB", "jdbc/WSO2RegistryDB"),
            ("WSO2_IDENTITY_DB", "jdbc/WSO2IdentityDB"),
        ] {
            assert_eq!(
                r.text(
                    MASTER,
                    &format!("datasources/datasource[name='{ds}']/jndiConfig/name")
                ),
                jndi
            );
        }
        assert_eq!(
            r.text(
                SOCIAL,
                "datasources/datasource[name='WSO2_SOCIAL_DB']/definition/configuration/url"
            ),
            "jdbc:mysql://10.0.3.100:3306/ES_Socialdb"
        );
        assert_eq!(
            r.text(USER_MGT, "Realm/Configuration/Property[@name='dataSource']"),
            "jdbc/WSO2UM_DB"
        );
        assert_eq!(
            r.text(REGISTRY, "mount[@path='/_system/config']/targetPath"),
            "/_system/configPub"
        );
        assert_eq!(
            r.text(REGISTRY, "remoteInstance[id='instanceid']/dbConfig"),
            "sharedregistry"
        );
        for issuer in ["store", "publisher"] {
            let url = format!("https://{issuer}.es-wso2.com/{issuer}/acs");
            assert_eq!(r.text(SSO, &format!("ServiceProviders/ServiceProvider[Issuer='{issuer}']/DefaultAssertionConsumerServiceURL")), url);
        }
    }
    check_clean(&check, &env);
}

fn dss_shared_registry_on_dss_3_5_1_and_greg_5_4_0(corpus: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let env = [("DSS_DB_PASSWORD", "example-password")];
    let (homes, check) = apply_example_mixed(
        corpus,
        dir.path(),
        "examples/dss-shared-registry.toml",
        "dss-3.5.1+greg-5.4.0",
        &[
            ("greg", "greg-5.4.0"),
            ("master", "dss-3.5.1"),
            ("slave1", "dss-3.5.1"),
        ],
        &env,
    );
    let url = |db: &str| format!("jdbc:mysql://10.0.0.20:3306/{db}?autoReconnect=true");
    let greg = Reader {
        home: homes[0].clone(),
    };
    assert_eq!(
        greg.text(REGISTRY, "dbConfig[@name='wso2registry']/url"),
        url("amagregdb")
    );
    assert_eq!(
        greg.text(REGISTRY, "dbConfig[@name='wso2registry']/userName"),
        "root"
    );
    assert_eq!(
        greg.count(REGISTRY, "dbConfig[@name='wso2registry']/dataSource"),
        0,
        "JDBC form"
    );
    assert_eq!(
        greg.text(USER_MGT, "Realm/Configuration/Property[@name='dataSource']"),
        "jdbc/amagregdb"
    );
    assert_eq!(greg.count(REGISTRY, "mount"), 0);

    for (i, local) in [(1usize, "amamaster"), (2, "amaslave1")] {
        let r = Reader {
            home: homes[i].clone(),
        };
        let slave = i == 2;
        assert_eq!(r.text(REGISTRY, "currentDBConfig"), "wso2registry");
        assert_eq!(
            r.text(REGISTRY, "dbConfig[@name='wso2registry']/url"),
            url(local)
        );
        assert_eq!(
            r.text(REGISTRY, "dbConfig[@name='dssMountRegistry']/url"),
            url("amagregdb")
        );
        assert_eq!(
            r.attribute(REGISTRY, "remoteInstance[id='Mount1']", "url"),
            "https://10.0.0.10:9443/registry"
        );
        assert_eq!(
            r.text(REGISTRY, "remoteInstance[id='Mount1']/readOnly"),
            slave.to_string()
        );
        assert_eq!(
            r.text(REGISTRY, "mount[@path='/_system/config']/targetPath"),
            "/_system/dssConfig"
        );
        assert_eq!(
            r.text(REGISTRY, "mount[@path='/_system/governance']/targetPath"),
            "/_system/governance"
        );
        assert_eq!(
            r.text(USER_MGT, "Realm/Configuration/Property[@name='dataSource']"),
            "jdbc/amausermgtdb"
        );
        assert_eq!(
            r.text(
                MASTER,
                "datasources/datasource[name='AMA_USERMGT_DB']/definition/configuration/url"
            ),
            url("amausermgtdb")
        );
        assert_eq!(
            r.text(CARBON, "Ports/Offset"),
            if slave { "1" } else { "0" }
        );
        if slave {
            assert_eq!(r.text(USER_MGT, "Realm/Configuration/ReadOnly"), "true");
            assert_eq!(r.text(CARBON, "MediationConfig/LoadFromRegistry"), "true");
        } else {
            assert_eq!(
                r.count(CARBON, "MediationConfig"),
                0,
                "only the slave loads mediation from the registry"
            );
        }
    }
    check_clean(&check, &env);
}

const API_MANAGER: &str = "repository/conf/api-manager.xml";

/// API Manager 2.1.0's distributed profiles, with no `[[raw]]`: every node
/// points at the key manager and the traffic manager, the gateway
/// environment at the gateway manager and the workers' address, and the
/// gateway nodes form a cluster of one manager and two workers.
fn apim_distributed_on_api_manager_2_1_0(corpus: &Path) {
    let recipe =
        std::fs::read_to_string(golden::workspace_root().join("examples/apim-distributed.toml"));
    assert!(
        !recipe
            .unwrap()
            .lines()
            .any(|l| l.trim_start().starts_with("[[raw]]")),
        "every setting has a table"
    );
    let dir = tempfile::tempdir().unwrap();
    let env = [("APIM_DB_PASSWORD", "example-password")];
    let nodes = ["pubstore", "km", "tm", "gwmgr", "gw1", "gw2"];
    let (homes, check) = apply_example(
        corpus,
        dir.path(),
        "examples/apim-distributed.toml",
        "apim-2.1.0",
        &nodes,
        &env,
    );
    for (node, home) in nodes.iter().zip(&homes) {
        let r = Reader { home: home.clone() };
        let km = "https://10.0.1.21:9443/services/";
        assert_eq!(
            r.text(API_MANAGER, "APIKeyValidator/ServerURL"),
            km,
            "{node}"
        );
        assert_eq!(r.text(API_MANAGER, "AuthManager/ServerURL"), km, "{node}");
        assert_eq!(
            r.text(API_MANAGER, "APIKeyValidator/KeyValidatorClientType"),
            "WSClient"
        );
        assert_eq!(
            r.text(
                API_MANAGER,
                "ThrottlingConfigurations/DataPublisher/ReceiverUrlGroup"
            ),
            "tcp://10.0.1.22:9611"
        );
        assert_eq!(
            r.text(
                API_MANAGER,
                "ThrottlingConfigurations/JMSConnectionDetails/ServiceURL"
            ),
            "tcp://10.0.1.22:5672"
        );
        assert_eq!(
            r.count(API_MANAGER, "APIGateway/Environments/Environment"),
            1
        );
        assert_eq!(
            r.text(
                API_MANAGER,
                "APIGateway/Environments/Environment/GatewayEndpoint"
            ),
            "http://gw.example.org:8280,https://gw.example.org:8243"
        );
        assert_eq!(
            r.text(API_MANAGER, "APIStore/URL"),
            "https://apim.example.org/store"
        );
        let revoke = r.text(API_MANAGER, "OAuthConfigurations/RevokeAPIURL");
        assert_eq!(
            revoke == "https://gw.example.org:8243/revoke",
            *node == "km",
            "{node}: {revoke}"
        );
        let gateway = node.starts_with("gw");
        assert_eq!(
            r.attribute(AXIS2, "clustering", "enable") == "true",
            gateway,
            "{node}"
        );
        if gateway {
            assert_eq!(
                r.text(AXIS2, "clustering/parameter[@name='domain']"),
                "wso2.am.gateway.domain"
            );
            assert_eq!(r.count(AXIS2, "clustering/members/member"), 2);
            let sub = r.attribute(
                AXIS2,
                "clustering/parameter[@name='properties']/property[@name='subDomain']",
                "value",
            );
            assert_eq!(sub, if *node == "gwmgr" { "mgt" } else { "worker" });
        }
    }
    check_clean(&check, &env);
    // A second apply writes nothing.
    let mut again = check.clone();
    again[0] = "apply".into();
    again.retain(|a| a != "--color=never");
    let out = carbon_patch(&again, &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Applied: 0 file(s) on 6 node(s)"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

const IDENTITY: &str = "repository/conf/identity/identity.xml";

/// Two Identity Server 5.4.1 nodes on one JDBC user store and one identity
/// database, with no `[[raw]]`: the JDBC user store manager active, the
/// embedded LDAP one commented out in place, the identity database repointed.
fn is_cluster_on_identity_server_5_4_1(corpus: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let env = [("IS_DB_PASSWORD", "example-password")];
    let nodes = ["is1", "is2"];
    let (homes, check) = apply_example(
        corpus,
        dir.path(),
        "examples/is-cluster.toml",
        "is-5.4.1",
        &nodes,
        &env,
    );
    for (i, home) in homes.iter().enumerate() {
        let r = Reader { home: home.clone() };
        assert_eq!(r.count(USER_MGT, "Realm/UserStoreManager"), 1);
        assert_eq!(
            r.attribute(USER_MGT, "Realm/UserStoreManager", "class"),
            "org.wso2.carbon.user.core.jdbc.JDBCUserStoreManager"
        );
        assert_eq!(
            r.text(USER_MGT, "Realm/Configuration/Property[@name='dataSource']"),
            "jdbc/WSO2UM_DB"
        );
        assert_eq!(
            r.text(IDENTITY, "JDBCPersistenceManager/DataSource/Name"),
            "jdbc/WSO2IdentityDB"
        );
        assert_eq!(r.attribute(AXIS2, "clustering", "enable"), "true");
        assert_eq!(
            r.text(AXIS2, "clustering/parameter[@name='localMemberHost']"),
            format!("10.0.2.1{}", i + 1)
        );
        assert_eq!(r.text(CARBON, "HostName"), "is.example.org");
        let ldap = std::fs::read_to_string(home.join(USER_MGT)).unwrap();
        assert!(
            ldap.contains("<!--<UserStoreManager class=\"org.wso2.carbon.user.core.ldap.ReadWriteLDAPUserStoreManager\">"),
            "the embedded LDAP's manager commented out where it stood"
        );
    }
    check_clean(&check, &env);
}

/// Ansible's own test suite for its xml module (`../shared/peers/ansible-xml`,
/// beside the corpus; never copied here): each edit case, translated by
/// hand into `[[raw]]` edits with the task's own selector
/// (`tests/ansible-xml/<case>.toml`, which names the case's fixture and
/// results file), applied to the fixture as a home's file, compared with
/// the results file as canonical XML (Ansible reformats; carbon-patch does
/// not), then applied again: nothing changes.
fn ansible_cases(corpus: Option<&Path>) -> Vec<Trial> {
    let dir = golden::workspace_root().join("tests/ansible-xml");
    let mut recipes: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    recipes.sort();
    let peers = corpus.map(|c| c.join("../peers/ansible-xml"));
    recipes
        .into_iter()
        .map(|recipe| {
            let name = format!("ansible::{}", recipe.file_stem().unwrap().to_string_lossy());
            let ignored = peers.is_none();
            let peers = peers.clone().unwrap_or_default();
            Trial::test(name, move || {
                ansible_case(&peers, &recipe);
                Ok(())
            })
            .with_ignored_flag(ignored)
        })
        .collect()
}

fn ansible_case(peers: &Path, recipe: &Path) {
    let text = std::fs::read_to_string(recipe).unwrap();
    let header = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("# {key}: ")))
            .map(|v| v.trim().to_string())
    };
    let fixture =
        header("fixture").unwrap_or_else(|| panic!("{} names no fixture", recipe.display()));
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    golden::copy_tree(
        &golden::workspace_root().join("fixtures/homes/carbon-4.4"),
        &home,
    );
    // A case may start from another case's result, as Ansible's "nochange" ones do.
    let input = match peers.join("fixtures").join(&fixture) {
        path if path.exists() => path,
        _ => peers.join("results").join(&fixture),
    };
    let file = home.join("repository/conf/ansible.xml");
    std::fs::copy(&input, &file).unwrap();
    let apply = || {
        let args = [
            "apply".to_string(),
            recipe.display().to_string(),
            format!("--home=node={}", home.display()),
        ];
        carbon_patch(&args, &[])
    };
    let applied = || {
        let out = apply();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // A case Ansible must refuse: refused here too, with this message, and nothing written.
    if let Some(error) = header("error") {
        let out = apply();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(&error), "wanted {error:?} in:\n{stderr}");
        assert_eq!(
            std::fs::read(&file).unwrap(),
            std::fs::read(&input).unwrap()
        );
        assert!(!home.join(".carbon-patch").exists());
        return;
    }
    let first = applied();
    // `-`: the case has no results file; Ansible asserts only that the edit
    // changes the file once and never again. The recipe says what the file
    // then holds (`# contains:`) and no longer holds (`# lacks:`).
    match header("result").as_deref() {
        Some("-") => {
            assert!(first.contains("Applied: 1 file(s)"), "{first}");
            let got = std::fs::read_to_string(&file).unwrap();
            let said = |key: &str| {
                let prefix = format!("# {key}: ");
                let lines: Vec<String> = text
                    .lines()
                    .filter_map(|l| l.strip_prefix(&prefix).map(String::from))
                    .collect();
                lines
            };
            let (contains, lacks) = (said("contains"), said("lacks"));
            assert!(
                !contains.is_empty(),
                "{}: `result: -` needs `# contains:` lines",
                recipe.display()
            );
            for wanted in &contains {
                assert!(
                    got.contains(wanted.as_str()),
                    "{wanted:?} is not in:\n{got}"
                );
            }
            for unwanted in &lacks {
                assert!(
                    !got.contains(unwanted.as_str()),
                    "{unwanted:?} is in:\n{got}"
                );
            }
        }
        Some(result) => {
            let wanted = std::fs::read(peers.join("results").join(result)).unwrap();
            let got = std::fs::read(&file).unwrap();
            assert_eq!(
                canonical_xml(&got),
                canonical_xml(&wanted),
                "{}: the file differs from {result}:\n{}",
                recipe.display(),
                String::from_utf8_lossy(&got)
            );
        }
        None => panic!("{} names no result or error", recipe.display()),
    }
    let again = applied();
    assert!(again.contains("Applied: 0 file(s)"), "{again}");
}

/// A document's structure, whatever its layout and prefixes: each element's
/// namespace and name, its attributes by namespace and name (sorted), its
/// text when it holds no element (trimmed), and its children in order.
fn canonical_xml(bytes: &[u8]) -> String {
    fn element(doc: &Document, el: xmlsplice::Element, out: &mut String) {
        let mut attributes = doc.attributes_expanded(el);
        attributes.sort();
        out.push_str(&format!(
            "<{{{}}}{} {attributes:?}>",
            doc.namespace(el).unwrap_or_default(),
            doc.name(el)
        ));
        match doc.element_text(el) {
            Some(text) => out.push_str(&format!("{:?}", text.trim())),
            None => {
                for child in doc.children(el) {
                    element(doc, child, out);
                }
            }
        }
        out.push_str("</>");
    }
    let doc = Document::parse(bytes).unwrap();
    // The DOCTYPE is part of what the document says (Ansible keeps it).
    let text = doc.text();
    let mut out = match text.find("<!DOCTYPE") {
        Some(at) => {
            let end = text[at..].find('>').map_or(text.len(), |e| at + e + 1);
            let words: Vec<&str> = text[at..end].split_whitespace().collect();
            words.join(" ")
        }
        None => String::new(),
    };
    element(&doc, doc.root(), &mut out);
    out
}
