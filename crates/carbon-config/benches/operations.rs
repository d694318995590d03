//! Each operation on realistic files: a session opened on a home, the
//! operation run, the changes rendered and validated, as `plan` does for one
//! node. Homes: the sample homes in fixtures/, and with `CARBON_CORPUS` set,
//! an assembled Message Broker 3.2.0 (shipped files, read in place).
//!
//!   cargo bench -p carbon-config --bench operations

use std::path::{Path, PathBuf};

use carbon_config::axis2::{self, Member, MembershipScheme};
use carbon_config::datasources::{self, Datasource};
use carbon_config::registry::{self, Mount, RemoteInstance};
use carbon_config::validate::checked_changes;
use carbon_config::{carbon_xml, user_mgt, CarbonHome, Result, Session};

const MASTER_DATASOURCES: &str = "repository/conf/datasources/master-datasources.xml";
use criterion::{criterion_group, criterion_main, Criterion};

type Op = fn(&mut Session) -> Result<()>;

fn datasource() -> Datasource {
    Datasource {
        name: "REGISTRY_DB".into(),
        description: Some("The datasource used for registry- config/governance".into()),
        jndi: Some("jdbc/WSO2RegistryDB".into()),
        definition_type: Some("RDBMS".into()),
        configuration: [
            (
                "url",
                "jdbc:mysql://localhost:3306/REGISTRY_DB?autoReconnect=true",
            ),
            ("username", "regadmin"),
            ("password", "secret"),
            ("driverClassName", "com.mysql.jdbc.Driver"),
            ("maxActive", "50"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
    }
}

const OPERATIONS: &[(&str, Op)] = &[
    ("set_offset", |s| carbon_xml::set_offset(s, 3).map(drop)),
    ("set_host_name", |s| {
        carbon_xml::set_host_name(s, "10.100.7.118").map(drop)
    }),
    ("set_clustering_enabled", |s| {
        axis2::set_clustering_enabled(s, true).map(drop)
    }),
    ("set_membership_scheme", |s| {
        axis2::set_membership_scheme(s, MembershipScheme::Wka).map(drop)
    }),
    ("set_members", |s| {
        let members: Vec<Member> = ["10.0.0.1:4000", "10.0.0.2:4000"]
            .iter()
            .map(|m| m.parse().unwrap())
            .collect();
        axis2::set_members(s, &members).map(drop)
    }),
    ("ensure_datasource", |s| {
        datasources::ensure_datasource(s, MASTER_DATASOURCES, &datasource()).map(drop)
    }),
    ("ensure_remote_instance+ensure_mount", |s| {
        // A mount needs its remote instance (validation says so).
        let instance = RemoteInstance {
            url: "https://10.0.0.1:9443/registry".into(),
            id: "instanceid".into(),
            db_config: Some("wso2registry".into()),
            read_only: Some(false),
            enable_cache: Some(true),
            registry_root: Some("/".into()),
            cache_id: None,
        };
        registry::ensure_remote_instance(s, &instance)?;
        let mount = Mount {
            path: "/_system/config".into(),
            overwrite: "true".into(),
            instance_id: "instanceid".into(),
            target_path: "/_system/config".into(),
        };
        registry::ensure_mount(s, &mount).map(drop)
    }),
    ("ensure_datasource+set_realm_data_source", |s| {
        // The user store must name an active datasource (validation says so).
        datasources::ensure_datasource(s, MASTER_DATASOURCES, &datasource())?;
        user_mgt::set_realm_data_source(s, "jdbc/WSO2RegistryDB").map(drop)
    }),
];

/// The homes to measure on, by name.
fn homes() -> Vec<(String, PathBuf, Option<tempfile::TempDir>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut homes = vec![(
        "fixture-carbon-4.4".to_string(),
        root.join("fixtures/homes/carbon-4.4"),
        None,
    )];
    if let Some(corpus) = std::env::var_os("CARBON_CORPUS") {
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new(Path::new(&corpus).join("assemble"))
            .arg("mb-3.2.0")
            .arg(dir.path().join("mb"))
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        homes.push(("mb-3.2.0".to_string(), dir.path().join("mb"), Some(dir)));
    }
    homes
}

fn operations(c: &mut Criterion) {
    for (name, path, _keep) in homes() {
        let home = CarbonHome::open(&path).unwrap();
        let mut group = c.benchmark_group(format!("operation/{name}"));
        for (op_name, op) in OPERATIONS {
            group.bench_function(*op_name, |b| {
                b.iter(|| {
                    let mut session = Session::new(&home);
                    op(&mut session).unwrap();
                    checked_changes(session).unwrap()
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, operations);
criterion_main!(benches);
