//! Upgrades on assembled product trees: configured homes captured against
//! a pristine pack and made again on fresh ones (the round trip of every
//! example, and a home edited by hand), and configurations carried to a
//! newer version.

use std::path::{Path, PathBuf};

use libtest_mimic::Trial;
use xmlsplice::Document;

use super::{assemble, carbon_patch};

/// An example for the capture round trip: its recipe, each node's product,
/// and the variables it reads.
type RoundTrip = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static [(&'static str, &'static str)],
);

/// Capture, the round trip of upgrades (docs/upgrades.md): each example
/// applied to pristine trees, captured against a pristine tree of each
/// product, the captured recipe applied to fresh pristine trees: `diff`
/// finds nothing between the two sets, and `check` of the captured recipe
/// exits 0 on the first.
pub(super) fn round_trips(corpus: Option<&Path>) -> Vec<Trial> {
    let examples: [RoundTrip; 7] = [
        (
            "apim-distributed",
            &[
                ("pubstore", "apim-2.1.0"),
                ("km", "apim-2.1.0"),
                ("tm", "apim-2.1.0"),
                ("gwmgr", "apim-2.1.0"),
                ("gw1", "apim-2.1.0"),
                ("gw2", "apim-2.1.0"),
            ],
            &[("APIM_DB_PASSWORD", "example-password")],
        ),
        (
            "is-cluster",
            &[("is1", "is-5.4.1"), ("is2", "is-5.4.1")],
            &[("IS_DB_PASSWORD", "example-password")],
        ),
        (
            "mb-two-nodes",
            &[("node1", "mb-3.2.0"), ("node2", "mb-3.2.0")],
            &[("MB_DB_PASSWORD", "example-password")],
        ),
        (
            "greg-three-nodes",
            &[
                ("node1", "greg-5.4.0"),
                ("node2", "greg-5.4.0"),
                ("node3", "greg-5.4.0"),
            ],
            &[("GREG_DB_PASSWORD", "example-password")],
        ),
        (
            "das-distributed",
            &[
                ("receiver1", "das-3.1.0"),
                ("receiver2", "das-3.1.0"),
                ("indexer1", "das-3.1.0"),
                ("indexer2", "das-3.1.0"),
                ("analyzer1", "das-3.1.0"),
                ("analyzer2", "das-3.1.0"),
                ("presenter1", "das-3.1.0"),
                ("presenter2", "das-3.1.0"),
            ],
            &[("DAS_DB_PASSWORD", "example-password")],
        ),
        (
            "es-publisher-store",
            &[
                ("publisher1", "es-2.1.0"),
                ("publisher2", "es-2.1.0"),
                ("store1", "es-2.1.0"),
                ("store2", "es-2.1.0"),
            ],
            &[
                ("ES_DB_PASSWORD", "example-db-password"),
                ("ES_SVN_USER", "svnuser"),
                ("ES_SVN_PASSWORD", "example-svn-password"),
            ],
        ),
        (
            "dss-shared-registry",
            &[
                ("greg", "greg-5.4.0"),
                ("master", "dss-3.5.1"),
                ("slave1", "dss-3.5.1"),
            ],
            &[("DSS_DB_PASSWORD", "example-password")],
        ),
    ];
    examples
        .into_iter()
        .map(|(example, nodes, env)| {
            let ignored = corpus.is_none();
            let corpus = corpus.map(Path::to_path_buf).unwrap_or_default();
            Trial::test(format!("round_trip::{example}"), move || {
                round_trip(&corpus, example, nodes, env);
                Ok(())
            })
            .with_ignored_flag(ignored)
        })
        .collect()
}

fn round_trip(corpus: &Path, example: &str, nodes: &[(&str, &str)], env: &[(&str, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    let at = |set: &str, node: &str| dir.path().join(set).join(node);
    let run = |args: Vec<String>, env: &[(&str, &str)]| {
        let out = carbon_patch(&args, env);
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let homes = |set: &str, only: &[&str]| -> Vec<String> {
        only.iter()
            .map(|n| format!("--home={n}={}", at(set, n).display()))
            .collect()
    };
    let names: Vec<&str> = nodes.iter().map(|(n, _)| *n).collect();
    for (node, product) in nodes {
        assemble(corpus, product, &at("configured", node));
        assemble(corpus, product, &at("fresh", node));
    }
    let mut apply = vec!["apply".to_string(), format!("examples/{example}.toml")];
    apply.extend(homes("configured", &names));
    let (code, _, stderr) = run(apply, env);
    assert_eq!(code, Some(0), "{stderr}");
    // One capture per product, against a pristine tree of it.
    let mut products: Vec<&str> = nodes.iter().map(|(_, p)| *p).collect();
    products.dedup();
    for product in products {
        let of: Vec<&str> = nodes
            .iter()
            .filter(|(_, p)| *p == product)
            .map(|(n, _)| *n)
            .collect();
        let baseline = dir.path().join("baseline").join(product);
        if !baseline.exists() {
            assemble(corpus, product, &baseline);
        }
        let mut capture = vec![
            "capture".to_string(),
            format!("--baseline={}", baseline.display()),
        ];
        capture.extend(homes("configured", &of));
        let (code, recipe, stderr) = run(capture, &[]);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(
            !recipe.contains("example-"),
            "a secret in the recipe:\n{recipe}"
        );
        assert!(!recipe.contains("Not captured"), "{recipe}");
        let captured = dir.path().join(format!("captured-{product}.toml"));
        std::fs::write(&captured, &recipe).unwrap();
        // Each variable set to the value the home it was found in holds.
        let secrets = captured_variables(&recipe, &|node| at("configured", node));
        let secrets: Vec<(&str, &str)> = secrets
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut apply = vec!["apply".to_string(), captured.display().to_string()];
        apply.extend(homes("fresh", &of));
        let (code, _, stderr) = run(apply, &secrets);
        assert_eq!(code, Some(0), "{stderr}\n{recipe}");
        for node in &of {
            let diff = vec![
                "diff".to_string(),
                at("configured", node).display().to_string(),
                at("fresh", node).display().to_string(),
            ];
            let (code, stdout, stderr) = run(diff, &[]);
            assert_eq!(code, Some(0), "{node}: {stdout}{stderr}\n{recipe}");
        }
        let mut check = vec!["check".to_string(), captured.display().to_string()];
        check.extend(homes("configured", &of));
        let (code, stdout, stderr) = run(check, &secrets);
        assert_eq!(code, Some(0), "{stdout}{stderr}");
    }
}

/// The variables a captured recipe's header names (`#   NAME: node: file:
/// path`), each with the value at that path in that node's home.
fn captured_variables(recipe: &str, home: &dyn Fn(&str) -> PathBuf) -> Vec<(String, String)> {
    recipe
        .lines()
        .take_while(|l| l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("#   "))
        .filter_map(|l| {
            let (name, rest) = l.split_once(": ")?;
            let mut parts = rest.splitn(3, ": ");
            let (node, file, path) = (parts.next()?, parts.next()?, parts.next()?);
            let doc = Document::parse(std::fs::read(home(node).join(file)).ok()?).ok()?;
            let value = match xmlsplice::attribute_step(path) {
                Some((element, attribute)) => {
                    let el = doc.select_one(element).ok()?;
                    doc.attribute(el, attribute)?.to_string()
                }
                None => doc.element_text(doc.select_one(path).ok()?)?,
            };
            Some((name.to_string(), value))
        })
        .collect()
}

/// An install configured by hand, as people do without carbon-patch: text
/// substitutions on the shipped files (what `sed -i` does), each asserted
/// to have found its text.
struct HandEdit {
    file: &'static str,
    from: &'static str,
    to: &'static str,
}

/// A DSS node clustered by hand: clustering on with two well-known members,
/// the Carbon datasource moved to MySQL (its password a secret), a registry
/// mount of a remote instance, a proxy port on the HTTPS connector, and a
/// setting no typed table knows (the session timeout of the management
/// console's web.xml).
const HAND_EDITS: [HandEdit; 8] = [
    HandEdit {
        file: "repository/conf/axis2/axis2.xml",
        from: "HazelcastClusteringAgent\"\n                enable=\"false\">",
        to: "HazelcastClusteringAgent\"\n                enable=\"true\">",
    },
    HandEdit {
        file: "repository/conf/axis2/axis2.xml",
        from: "<parameter name=\"membershipScheme\">multicast</parameter>",
        to: "<parameter name=\"membershipScheme\">wka</parameter>",
    },
    HandEdit {
        file: "repository/conf/axis2/axis2.xml",
        from: "                <hostName>127.0.0.1</hostName>\n                <port>4000</port>\n            </member>\n",
        to: "                <hostName>10.0.0.1</hostName>\n                <port>4000</port>\n            </member>\n            <member>\n                <hostName>10.0.0.2</hostName>\n                <port>4000</port>\n            </member>\n",
    },
    HandEdit {
        file: "repository/conf/datasources/master-datasources.xml",
        from: "<url>jdbc:h2:./repository/database/WSO2CARBON_DB;DB_CLOSE_ON_EXIT=FALSE;LOCK_TIMEOUT=60000</url>",
        to: "<url>jdbc:mysql://db.example.com:3306/carbondb</url>",
    },
    HandEdit {
        file: "repository/conf/datasources/master-datasources.xml",
        from: "<password>wso2carbon</password>\n                    <driverClassName>org.h2.Driver</driverClassName>",
        to: "<password>Hand-made-pw</password>\n                    <driverClassName>com.mysql.jdbc.Driver</driverClassName>",
    },
    HandEdit {
        file: "repository/conf/registry.xml",
        from: "</wso2registry>",
        to: "    <dbConfig name=\"govregistry\">\n        <dataSource>jdbc/WSO2CarbonDB</dataSource>\n    </dbConfig>\n\n    <remoteInstance url=\"https://gov.example.com:9443/registry\">\n        <id>gov</id>\n        <dbConfig>govregistry</dbConfig>\n        <readOnly>false</readOnly>\n        <registryRoot>/</registryRoot>\n    </remoteInstance>\n\n    <mount path=\"/_system/governance\" overwrite=\"true\">\n        <instanceId>gov</instanceId>\n        <targetPath>/_system/governance</targetPath>\n    </mount>\n</wso2registry>",
    },
    HandEdit {
        file: "repository/conf/tomcat/catalina-server.xml",
        from: "                   port=\"9443\"\n",
        to: "                   port=\"9443\"\n                   proxyPort=\"443\"\n",
    },
    HandEdit {
        file: "repository/conf/tomcat/carbon/WEB-INF/web.xml",
        from: "<session-timeout>15</session-timeout>",
        to: "<session-timeout>30</session-timeout>",
    },
];

/// The hand-made install captured against a pristine pack and made again
/// on a fresh one: `diff` finds nothing, `check` of the captured recipe
/// passes on the hand-made home, the secret is in no output, and the
/// setting no table knows arrives as a `[[raw]]` edit.
pub(super) fn hand_made(corpus: Option<&Path>) -> Vec<Trial> {
    let ignored = corpus.is_none();
    let corpus = corpus.map(Path::to_path_buf).unwrap_or_default();
    vec![Trial::test("upgrades::hand_made_dss", move || {
        hand_made_dss(&corpus);
        Ok(())
    })
    .with_ignored_flag(ignored)]
}

fn hand_made_dss(corpus: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let [pristine, hand, fresh] = ["pristine", "hand", "fresh"].map(|n| dir.path().join(n));
    for home in [&pristine, &hand, &fresh] {
        assemble(corpus, "dss-3.5.1", home);
    }
    for edit in &HAND_EDITS {
        let path = hand.join(edit.file);
        let text = std::fs::read_to_string(&path).unwrap();
        // In the file's own line endings (axis2.xml ships with CRLF).
        let eol = |s: &str| match text.contains("\r\n") {
            true => s.replace('\n', "\r\n"),
            false => s.to_string(),
        };
        let (from, to) = (eol(edit.from), eol(edit.to));
        assert!(text.contains(&from), "{}: {from:?}", edit.file);
        std::fs::write(&path, text.replacen(&from, &to, 1)).unwrap();
    }
    let run = |args: &[String], env: &[(&str, &str)]| {
        let out = carbon_patch(args, env);
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let capture = [
        "capture".to_string(),
        format!("--baseline={}", pristine.display()),
        format!("--home=node={}", hand.display()),
    ];
    let (code, recipe, stderr) = run(&capture, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!recipe.contains("Hand-made-pw") && !stderr.contains("Hand-made-pw"));
    assert!(!recipe.contains("Not captured"), "{recipe}");
    assert!(
        recipe.contains("file = \"repository/conf/tomcat/carbon/WEB-INF/web.xml\""),
        "{recipe}"
    );
    let captured = dir.path().join("captured.toml");
    std::fs::write(&captured, &recipe).unwrap();
    let secrets = captured_variables(&recipe, &|_| hand.clone());
    assert_eq!(secrets.len(), 1, "{recipe}");
    let secrets: Vec<(&str, &str)> = secrets
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let on = |command: &str, home: &Path| {
        vec![
            command.to_string(),
            captured.display().to_string(),
            format!("--home=node={}", home.display()),
        ]
    };
    let (code, _, stderr) = run(&on("apply", &fresh), &secrets);
    assert_eq!(code, Some(0), "{stderr}\n{recipe}");
    let diff = [
        "diff".to_string(),
        hand.display().to_string(),
        fresh.display().to_string(),
    ];
    let (code, stdout, stderr) = run(&diff, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}\n{recipe}");
    let (code, stdout, stderr) = run(&on("check", &hand), &secrets);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
}

/// A configuration carried to a newer version of its product: the node
/// configured on the older pack is captured against a pristine one, the
/// captured recipe (its `versions` set to the newer pack's, as
/// docs/upgrades.md tells the operator) applied to a pristine newer pack.
struct Carried {
    name: &'static str,
    old: &'static str,
    new: &'static str,
    new_version: &'static str,
    /// The recipe that configures the old pack, and its node.
    recipe: &'static str,
    node: &'static str,
    env: &'static [(&'static str, &'static str)],
    /// Differences between the pristine packs that the carried home does
    /// not show: settings the recipe makes that the newer pack ships
    /// differently (file and path).
    overridden: &'static [(&'static str, &'static str)],
}

/// A Carbon kernel node as the clustering guides set one up.
const KERNEL_RECIPE: &str = r#"
[server]
hostname = "node1.example.com"
offset = 1

[clustering]
membership_scheme = "wka"
domain = "wso2.carbon.domain"
local_member_host = "10.0.0.1"
local_member_port = 4001
members = ["10.0.0.1:4001", "10.0.0.2:4001"]

[[datasource]]
name = "WSO2_CARBON_DB"
jndi = "jdbc/WSO2CarbonDB"
url = "jdbc:mysql://db.example.com:3306/carbondb"
username = "carbon"
password = "${env:CARBON_DB_PASSWORD}"
driver = "com.mysql.jdbc.Driver"

[tomcat]
https_proxy_port = 443
http_proxy_port = 80

[nodes.node1]
home = "unused"
"#;

/// An API Manager gateway worker's settings outside api-manager.xml, which
/// the corpus's apim-2.6.0 tree does not hold (it keeps only the files
/// 2.6.0 overrides in its kernel's): clustering, the API Manager and user
/// databases, the shared registry's mounts, and proxy ports.
const APIM_RECIPE: &str = r#"
[server]
hostname = "gw.example.org"

[clustering]
membership_scheme = "wka"
domain = "wso2.carbon.gw.domain"
local_member_host = "10.0.1.41"
local_member_port = 4000
properties = { subDomain = "worker" }
members = ["10.0.1.31:4000", "10.0.1.41:4000"]

[[datasource]]
name = "WSO2AM_DB"
jndi = "jdbc/WSO2AM_DB"
url = "jdbc:mysql://10.0.1.10:3306/WSO2AM_DB?autoReconnect=true"
username = "apimadmin"
password = "${env:APIM_DB_PASSWORD}"
driver = "com.mysql.jdbc.Driver"

[[datasource]]
name = "WSO2REG_DB"
jndi = "jdbc/WSO2REG_DB"
url = "jdbc:mysql://10.0.1.10:3306/WSO2REG_DB?autoReconnect=true"
username = "apimadmin"
password = "${env:APIM_DB_PASSWORD}"
driver = "com.mysql.jdbc.Driver"

[[registry.db_config]]
name = "govregistry"
data_source = "jdbc/WSO2REG_DB"

[[registry.remote_instance]]
url = "https://localhost:9443/registry"
id = "gov"
db_config = "govregistry"
cache_id = "apimadmin@jdbc:mysql://10.0.1.10:3306/WSO2REG_DB"

[[registry.mount]]
path = "/_system/governance"
instance_id = "gov"
target_path = "/_system/governance"

[tomcat]
https_proxy_port = 443
http_proxy_port = 80

[nodes.gw1]
home = "unused"
"#;

const CARRIED: [Carried; 2] = [
    Carried {
        name: "carbon-kernel-4.4.9-to-4.4.40",
        old: "carbon-kernel-4.4.9",
        new: "carbon-kernel-4.4.40",
        new_version: "4.4.40",
        recipe: KERNEL_RECIPE,
        node: "node1",
        env: &[("CARBON_DB_PASSWORD", "example-password")],
        overridden: &[],
    },
    Carried {
        name: "apim-2.1.0-to-2.6.0",
        old: "apim-2.1.0",
        new: "apim-2.6.0",
        new_version: "2.6.0",
        recipe: APIM_RECIPE,
        node: "gw1",
        env: &[("APIM_DB_PASSWORD", "example-password")],
        overridden: &[],
    },
];

pub(super) fn across_versions(corpus: Option<&Path>) -> Vec<Trial> {
    CARRIED
        .iter()
        .map(|carried| {
            let ignored = corpus.is_none();
            let corpus = corpus.map(Path::to_path_buf).unwrap_or_default();
            Trial::test(format!("upgrades::{}", carried.name), move || {
                carry(&corpus, carried);
                Ok(())
            })
            .with_ignored_flag(ignored)
        })
        .collect()
}

fn carry(corpus: &Path, carried: &Carried) {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name);
    for (name, product) in [
        ("configured", carried.old),
        ("pristine-old", carried.old),
        ("pristine-new", carried.new),
        ("carried", carried.new),
    ] {
        assemble(corpus, product, &at(name));
    }
    let run = |args: &[String], env: &[(&str, &str)]| {
        let out = carbon_patch(args, env);
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let recipe = match carried.recipe.strip_prefix("examples/") {
        Some(_) => PathBuf::from(carried.recipe),
        None => {
            let path = at("recipe.toml");
            std::fs::write(&path, carried.recipe).unwrap();
            path
        }
    };
    let node = carried.node;
    let apply = |recipe: &Path, home: &Path, env: &[(&str, &str)]| {
        let args = [
            "apply".to_string(),
            recipe.display().to_string(),
            format!("--node={node}"),
            format!("--home={node}={}", home.display()),
        ];
        let (code, _, stderr) = run(&args, env);
        assert_eq!(code, Some(0), "{stderr}");
    };
    apply(&recipe, &at("configured"), carried.env);
    let capture = [
        "capture".to_string(),
        format!("--baseline={}", at("pristine-old").display()),
        format!("--home={node}={}", at("configured").display()),
    ];
    let (code, captured, stderr) = run(&capture, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let secrets = captured_variables(&captured, &|_| at("configured"));
    let secrets: Vec<(&str, &str)> = secrets
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    // Carried to the newer pack: the operator sets the version it is for.
    let versions = captured
        .lines()
        .find(|l| l.starts_with("versions = "))
        .expect("a captured recipe says its versions");
    let captured = captured.replacen(
        versions,
        &format!("versions = \"{}\"", carried.new_version),
        1,
    );
    let path = at("captured.toml");
    std::fs::write(&path, &captured).unwrap();
    apply(&path, &at("carried"), &secrets);
    let differences = |before: &str, after: &str| -> Vec<serde_json::Value> {
        let args = [
            "diff".to_string(),
            at(before).display().to_string(),
            at(after).display().to_string(),
            "--format=json".to_string(),
        ];
        let (code, stdout, stderr) = run(&args, &[]);
        assert!(matches!(code, Some(0 | 2)), "{stderr}");
        let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        value["differences"].as_array().unwrap().clone()
    };
    let shipped = differences("pristine-old", "pristine-new");
    let left = differences("configured", "carried");
    let extra: Vec<&serde_json::Value> = left.iter().filter(|d| !shipped.contains(d)).collect();
    assert!(
        extra.is_empty(),
        "the carried home differs from the configured one beyond what the packs ship:\n{extra:#?}\n{captured}"
    );
    let name = |d: &serde_json::Value| {
        (
            d["file"].as_str().unwrap_or_default().to_string(),
            d["path"].as_str().unwrap_or_default().to_string(),
        )
    };
    let hidden: Vec<(String, String)> = shipped
        .iter()
        .filter(|d| !left.contains(d))
        .map(name)
        .collect();
    let overridden: Vec<(String, String)> = carried
        .overridden
        .iter()
        .map(|(f, p)| (f.to_string(), p.to_string()))
        .collect();
    assert_eq!(hidden, overridden, "{captured}");
    // What the newer pack ships differently, each listed. (The corpus's
    // apim-2.6.0 holds no api-manager.xml: only the files 2.6.0 overrides
    // in its kernel's are there.)
    let listed: String = left
        .iter()
        .map(|d| {
            let (file, path) = name(d);
            match d["side"].as_str() {
                Some("before") => format!("{file}: only in the older pack\n"),
                Some(_) => format!("{file}: only in the newer pack\n"),
                None => format!(
                    "{file}: {} {path}\n",
                    d["change"].as_str().unwrap_or_default()
                ),
            }
        })
        .collect();
    golden::assert_golden(&format!("corpus/upgrades/{}.txt", carried.name), &listed);
}

/// An API Manager 2.6.0 node's settings that deployment.toml carries on
/// 3.0.0: host name and offset, clustering, the API Manager database, and
/// the HTTPS proxy port. (Member properties are not among them: 3.0.0's
/// template writes its own, and renders `clustering.properties` as more
/// clustering parameters.)
const APIM_26_RECIPE: &str = r#"
[server]
hostname = "apim.example.org"
offset = 1

[clustering]
membership_scheme = "wka"
domain = "wso2.apim.domain"
local_member_host = "10.0.1.51"
local_member_port = 4001
members = ["10.0.1.51:4001", "10.0.1.52:4001"]

[tomcat]
https_proxy_port = 443

[[datasource]]
name = "WSO2AM_DB"
url = "jdbc:mysql://10.0.1.10:3306/WSO2AM_DB?autoReconnect=true"
username = "apimadmin"
password = "${env:APIM_DB_PASSWORD}"
driver = "com.mysql.jdbc.Driver"

[nodes.apim]
home = "unused"
"#;

/// Across the config model: the 2.6.0 node captured against a pristine
/// 2.6.0 is all typed tables, and applied to a pristine 3.0.0 (a Carbon
/// 4.5 pack) it changes deployment.toml alone, only the keys that carry
/// the captured settings (listed), `check` then passes, and the pack's
/// templates render the node's settings from it.
pub(super) fn across_the_config_model(corpus: Option<&Path>) -> Vec<Trial> {
    let ignored = corpus.is_none();
    let corpus = corpus.map(Path::to_path_buf).unwrap_or_default();
    vec![Trial::test("upgrades::apim-2.6.0-to-3.0.0", move || {
        to_deployment_toml(&corpus);
        Ok(())
    })
    .with_ignored_flag(ignored)]
}

fn to_deployment_toml(corpus: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name);
    for (name, product) in [
        ("configured", "apim-2.6.0"),
        ("pristine-old", "apim-2.6.0"),
        ("pristine-new", "apim-3.0.0"),
        ("carried", "apim-3.0.0"),
    ] {
        assemble(corpus, product, &at(name));
    }
    let run = |args: &[String], env: &[(&str, &str)]| {
        let out = carbon_patch(args, env);
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let recipe = at("recipe.toml");
    std::fs::write(&recipe, APIM_26_RECIPE).unwrap();
    let on = |command: &str, recipe: &Path, home: &Path| {
        vec![
            command.to_string(),
            recipe.display().to_string(),
            format!("--home=apim={}", home.display()),
        ]
    };
    let env = [("APIM_DB_PASSWORD", "example-password")];
    let (code, _, stderr) = run(&on("apply", &recipe, &at("configured")), &env);
    assert_eq!(code, Some(0), "{stderr}");
    let capture = [
        "capture".to_string(),
        format!("--baseline={}", at("pristine-old").display()),
        format!("--home=apim={}", at("configured").display()),
    ];
    let (code, captured, stderr) = run(&capture, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!captured.contains("[[raw]]"), "{captured}");
    let captured = captured.replacen("versions = \"2.6.0\"", "versions = \"3.0.0\"", 1);
    let path = at("captured.toml");
    std::fs::write(&path, &captured).unwrap();
    let secrets = captured_variables(&captured, &|_| at("configured"));
    let secrets: Vec<(&str, &str)> = secrets
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (code, _, stderr) = run(&on("apply", &path, &at("carried")), &secrets);
    assert_eq!(code, Some(0), "{stderr}\n{captured}");
    let (code, stdout, stderr) = run(&on("check", &path, &at("carried")), &secrets);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    // deployment.toml alone changed, key by key.
    let diff = [
        "diff".to_string(),
        at("pristine-new").display().to_string(),
        at("carried").display().to_string(),
        "--format=json".to_string(),
    ];
    let (code, stdout, stderr) = run(&diff, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let listed: String = value["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            assert_eq!(d["file"], "repository/conf/deployment.toml", "{d}");
            format!(
                "{}: {} -> {}\n",
                d["key"].as_str().unwrap(),
                d["before"].as_str().unwrap_or("(none)"),
                d["after"].as_str().unwrap_or("(none)")
            )
        })
        .collect();
    golden::assert_golden("corpus/upgrades/apim-2.6.0-to-3.0.0.txt", &listed);
    // What the 3.0.0 pack renders from it at start is what the 2.6.0 node
    // was configured with.
    let configured = |rel: &str| {
        Document::parse(std::fs::read(at("configured").join("repository/conf").join(rel)).unwrap())
            .unwrap()
    };
    for (template, checks) in RENDERED_SETTINGS {
        let rendered = render(corpus, &at("carried"), template);
        let rendered = Document::parse(rendered.as_bytes())
            .unwrap_or_else(|e| panic!("{template} renders no XML: {e}"));
        let xml = template.trim_end_matches(".j2");
        let configured = configured(xml);
        for path in checks.iter() {
            let (got, wanted) = (setting(&rendered, path), setting(&configured, path));
            assert!(
                wanted.is_some(),
                "{xml}: {path} is not in the configured node"
            );
            assert_eq!(got, wanted, "{xml}: {path}");
        }
    }
}

/// The settings carried onto 3.0.0, in the files its templates render:
/// each must read the same there as in the configured 2.6.0 node.
const RENDERED_SETTINGS: [(&str, &[&str]); 3] = [
    ("carbon.xml.j2", &["HostName", "Ports/Offset"]),
    (
        "axis2/axis2.xml.j2",
        &[
            "clustering/@enable",
            "clustering/parameter[@name='membershipScheme']",
            "clustering/parameter[@name='domain']",
            "clustering/parameter[@name='localMemberHost']",
            "clustering/parameter[@name='localMemberPort']",
            "clustering/members",
        ],
    ),
    (
        "tomcat/catalina-server.xml.j2",
        &["Service/Connector[@port='9443']/@proxyPort"],
    ),
];

/// The text (trimmed, every descendant's joined by spaces) of the element
/// `path` selects below the root, or its last step's attribute.
fn setting(doc: &Document, path: &str) -> Option<String> {
    let root = doc.root();
    let (element, attribute) = match xmlsplice::attribute_step(path) {
        Some((element, attribute)) => (element, Some(attribute)),
        None => (path, None),
    };
    let el = doc.select_optional((root, element)).ok()??;
    if let Some(attribute) = attribute {
        return doc.attribute(el, attribute).map(str::to_string);
    }
    fn texts(doc: &Document, el: xmlsplice::Element, out: &mut Vec<String>) {
        match doc.element_text(el) {
            Some(text) => out.push(text.trim().to_string()),
            None => doc
                .children(el)
                .into_iter()
                .for_each(|c| texts(doc, c, out)),
        }
    }
    let mut out = Vec::new();
    texts(doc, el, &mut out);
    Some(out.join(" "))
}

/// `template` of the 3.0.0 pack rendered from `home`'s deployment.toml, as
/// the server renders it at start: over the defaults of the kernel's and
/// the product's `default.json` (dotted keys), with Jinjava's leniency (an
/// undefined value renders empty, and has no items).
fn render(corpus: &Path, home: &Path, template: &str) -> String {
    let defaults = |path: PathBuf| -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let conf = "repository/resources/conf";
    let mut flat = defaults(
        corpus
            .join("carbon-kernel-4.5.1")
            .join(conf)
            .join("default.json"),
    );
    flat.extend(defaults(home.join(conf).join("default.json")));
    let mut context = serde_json::Value::Object(Default::default());
    for (key, value) in flat {
        let mut at = &mut context;
        for part in key.split('.') {
            at = at
                .as_object_mut()
                .expect("dotted keys nest")
                .entry(part.to_string())
                .or_insert(serde_json::Value::Object(Default::default()));
        }
        *at = value;
    }
    let toml: toml::Table = std::fs::read_to_string(home.join("repository/conf/deployment.toml"))
        .unwrap()
        .parse()
        .unwrap();
    merge(&mut context, serde_json::to_value(toml).unwrap());
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    // Java's booleans: `true`, where Python's are `True`.
    env.set_formatter(|out, state, value| match value.kind() {
        minijinja::value::ValueKind::Bool => write!(out, "{}", value.is_true())
            .map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "write failed")),
        _ => minijinja::escape_formatter(out, state, value),
    });
    minijinja_contrib::add_to_environment(&mut env);
    env.set_unknown_method_callback(|state, value, method, args| {
        if value.is_undefined() {
            return Ok(minijinja::Value::from(Vec::<minijinja::Value>::new()));
        }
        minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)
    });
    let source = std::fs::read_to_string(
        home.join(conf)
            .join("templates/repository/conf")
            .join(template),
    )
    .unwrap();
    env.render_str(&source, &context)
        .unwrap_or_else(|e| panic!("{template}: {e:#}"))
}

/// `over` laid over `base`, table by table.
fn merge(base: &mut serde_json::Value, over: serde_json::Value) {
    match (base, over) {
        (serde_json::Value::Object(base), serde_json::Value::Object(over)) => {
            for (key, value) in over {
                merge(base.entry(key).or_insert(serde_json::Value::Null), value);
            }
        }
        (base, over) => *base = over,
    }
}

/// `[apim]` on API Manager 3.0.0's own deployment.toml: the gateway
/// environments become exactly the recipe's `[[apim.gateway.environment]]`
/// entries, in the place of the shipped one, and the user store's
/// datasource is written without the `jdbc/` its template adds (golden
/// diff); a key the pack does not name is refused, naming it.
pub(super) fn apim_on_deployment_toml(corpus: Option<&Path>) -> Vec<Trial> {
    let ignored = corpus.is_none();
    let corpus = corpus.map(Path::to_path_buf).unwrap_or_default();
    vec![Trial::test("upgrades::apim-3.0.0-gateway-environments", move || {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("apim");
        assemble(&corpus, "apim-3.0.0", &home);
        let recipe = dir.path().join("r.toml");
        let write = |text: &str| std::fs::write(&recipe, text).unwrap();
        write(
            "[[apim.gateway.environment]]\nname = \"Production Gateway\"\ntype = \"production\"\n\
             service_url = \"https://gwmgr.example.org:9443/services/\"\nusername = \"admin\"\n\
             password = \"${env:GW_PASSWORD}\"\nhttp_endpoint = \"http://gw.example.org:8280\"\n\
             https_endpoint = \"https://gw.example.org:8243\"\n\
             [user_store]\ndata_source = \"jdbc/WSO2UM_DB\"\n[nodes.apim]\nhome = \"apim\"\n",
        );
        let args = |command: &str| {
            vec![
                command.to_string(),
                recipe.display().to_string(),
                format!("--home=apim={}", home.display()),
            ]
        };
        let env = [("GW_PASSWORD", "gateway-secret")];
        let out = carbon_patch(&args("plan"), &env);
        let shown = String::from_utf8_lossy(&out.stdout).replace(&home.display().to_string(), "<home>");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(!shown.contains("gateway-secret"));
        golden::assert_golden("corpus/upgrades/apim-3.0.0-gateway-environments.txt", &shown);
        let out = carbon_patch(&args("apply"), &env);
        assert!(out.status.success());
        let out = carbon_patch(&args("check"), &env);
        assert_eq!(out.status.code(), Some(0));
        // Captured from its deployment.toml, it makes a fresh 3.0.0 equal.
        let (pristine, fresh) = (dir.path().join("pristine"), dir.path().join("fresh"));
        assemble(&corpus, "apim-3.0.0", &pristine);
        assemble(&corpus, "apim-3.0.0", &fresh);
        let capture = [
            "capture".to_string(),
            format!("--baseline={}", pristine.display()),
            format!("--home=apim={}", home.display()),
        ];
        let out = carbon_patch(&capture, &[]);
        let captured = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(!captured.contains("gateway-secret") && !captured.contains("Not captured"), "{captured}");
        assert!(captured.contains("[[apim.gateway.environment]]"), "{captured}");
        let names: Vec<String> = captured
            .lines()
            .filter_map(|l| l.strip_prefix("#   ")?.split_once(':'))
            .map(|(name, _)| name.to_string())
            .collect();
        let secrets: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "gateway-secret")).collect();
        let path = dir.path().join("captured.toml");
        std::fs::write(&path, &captured).unwrap();
        let apply = [
            "apply".to_string(),
            path.display().to_string(),
            format!("--home=apim={}", fresh.display()),
        ];
        let out = carbon_patch(&apply, &secrets);
        assert!(out.status.success(), "{}\n{captured}", String::from_utf8_lossy(&out.stderr));
        let diff = ["diff".to_string(), home.display().to_string(), fresh.display().to_string()];
        let out = carbon_patch(&diff, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
        write("[apim.key_manager]\nservice_url = \"https://km:9443/services/\"\n[nodes.apim]\nhome = \"apim\"\n");
        let out = carbon_patch(&args("plan"), &[]);
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1));
        assert!(said.contains("takes no deployment.toml key apim.key_manager.service_url"), "{said}");
        Ok(())
    })
    .with_ignored_flag(ignored)]
}
