//! `diff` and `capture`, end to end on copies of the sample home: what a
//! recipe changed, captured from the configured homes and made again on
//! pristine ones.

use std::path::{Path, PathBuf};

use super::{bin, stderr, stdout};

/// Copies of the sample home under one temporary folder, named as asked.
struct Tree {
    dir: tempfile::TempDir,
}

impl Tree {
    fn new(names: &[&str]) -> Tree {
        let dir = tempfile::tempdir().unwrap();
        let fixture = golden::workspace_root().join("fixtures/homes/carbon-4.4");
        for name in names {
            golden::copy_tree(&fixture, &dir.path().join(name));
        }
        Tree { dir }
    }

    fn home(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `text` with this tree's folder written as `<tmp>`.
    fn portable(&self, text: &str) -> String {
        text.replace(&self.dir.path().display().to_string(), "<tmp>")
    }
}

fn diff(before: &Path, after: &Path, extra: &[&str]) -> std::process::Output {
    bin()
        .arg("diff")
        .arg(before)
        .arg(after)
        .args(extra)
        .output()
        .unwrap()
}

/// Applies `recipe` to `homes` (node name and home), with `env` set.
fn apply(recipe: &Path, homes: &[(&str, &Path)], env: &[(&str, &str)]) -> String {
    let mut cmd = bin();
    cmd.arg("apply").arg(recipe).envs(env.iter().copied());
    for (node, home) in homes {
        cmd.arg(format!("--home={node}={}", home.display()));
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

#[test]
fn diff_shows_what_a_recipe_changed_and_nothing_between_equal_homes() {
    let tree = Tree::new(&["pristine", "node1", "node2"]);
    let recipe = golden::workspace_root().join("examples/quickstart.toml");
    apply(
        &recipe,
        &[
            ("node1", &tree.home("node1")),
            ("node2", &tree.home("node2")),
        ],
        &[],
    );
    let out = diff(&tree.home("pristine"), &tree.home("node1"), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    golden::assert_golden("cli/diff-quickstart.txt", &stdout(&out));

    let same = diff(&tree.home("node1"), &tree.home("node1"), &[]);
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    assert_eq!(stdout(&same), "equal: no setting differs\n");

    let json = diff(
        &tree.home("pristine"),
        &tree.home("node1"),
        &["--format", "json"],
    );
    assert_eq!(json.status.code(), Some(2));
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["command"], "diff");
    assert_eq!(value["equal"], false);
    let differences = value["differences"].as_array().unwrap();
    assert_eq!(differences.len(), 14);
    let host = differences
        .iter()
        .find(|d| d["path"] == "/Server/HostName")
        .unwrap();
    assert_eq!(host["change"], "added");
    assert_eq!(host["place"]["after"], "/Server/Version");

    // Not a home: exit 1, the error in JSON too.
    let missing = diff(
        &tree.home("none"),
        &tree.home("node1"),
        &["--format", "json"],
    );
    assert_eq!(missing.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_slice(&missing.stdout).unwrap();
    assert!(value["error"]
        .as_str()
        .unwrap()
        .contains("not a WSO2 Carbon home"));
}

/// The round trip of an upgrade on the sample homes: the quickstart
/// applied, captured against a pristine copy, and the captured recipe
/// applied to fresh copies: `diff` finds nothing between each node and
/// its copy, and a second apply writes nothing.
#[test]
fn capture_makes_the_configured_homes_again_from_pristine_ones() {
    let tree = Tree::new(&["pristine", "node1", "node2", "fresh1", "fresh2"]);
    let recipe = golden::workspace_root().join("examples/quickstart.toml");
    apply(
        &recipe,
        &[
            ("node1", &tree.home("node1")),
            ("node2", &tree.home("node2")),
        ],
        &[],
    );
    let out = bin()
        .arg("capture")
        .arg("--baseline")
        .arg(tree.home("pristine"))
        .arg(tree.home("node1"))
        .arg(tree.home("node2"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let captured = stdout(&out);
    golden::assert_golden("cli/capture-quickstart.toml", &tree.portable(&captured));
    assert!(
        stderr(&out).contains("table(s) and edit(s) from 2 home(s)"),
        "{}",
        stderr(&out)
    );
    let path = tree.home("captured.toml");
    std::fs::write(&path, &captured).unwrap();
    let fresh = [
        ("node1", tree.home("fresh1")),
        ("node2", tree.home("fresh2")),
    ];
    let homes: Vec<(&str, &Path)> = fresh.iter().map(|(n, p)| (*n, p.as_path())).collect();
    apply(&path, &homes, &[]);
    for (node, made) in &fresh {
        let out = diff(&tree.home(node), made, &[]);
        assert_eq!(out.status.code(), Some(0), "{node}: {}", stdout(&out));
    }
    let again = apply(&path, &homes, &[]);
    assert!(again.contains("Applied: 0 file(s)"), "{again}");
}

/// A secret found in a home is captured as an `${env:NAME}` reference the
/// recipe's header names, and printed nowhere; with the variable set, the
/// captured recipe makes the same home.
#[test]
fn capture_writes_secrets_as_environment_references() {
    let tree = Tree::new(&["pristine", "node1", "fresh1"]);
    let secret = "s3cret-Registry-pw";
    let recipe = tree.home("recipe.toml");
    std::fs::write(
        &recipe,
        "[[datasource]]\nname = \"REGISTRY_DB\"\njndi = \"jdbc/WSO2RegistryDB\"\n\
         url = \"jdbc:h2:./repository/database/REG_DB\"\nusername = \"reg\"\n\
         password = \"${env:REG_PW}\"\ndriver = \"org.h2.Driver\"\n\n[nodes.node1]\nhome = \"x\"\n",
    )
    .unwrap();
    apply(
        &recipe,
        &[("node1", &tree.home("node1"))],
        &[("REG_PW", secret)],
    );
    let out = bin()
        .arg("capture")
        .arg("--baseline")
        .arg(tree.home("pristine"))
        .arg(format!("--home=node1={}", tree.home("node1").display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let (captured, said) = (stdout(&out), stderr(&out));
    assert!(!captured.contains(secret) && !said.contains(secret));
    let name = captured
        .lines()
        .find_map(|l| l.strip_prefix("#   ").and_then(|l| l.split_once(':')))
        .map(|(name, _)| name.to_string())
        .unwrap_or_else(|| panic!("no variable named in the header:\n{captured}"));
    assert!(captured.contains(&format!("${{env:{name}}}")), "{captured}");
    let path = tree.home("captured.toml");
    std::fs::write(&path, &captured).unwrap();
    apply(
        &path,
        &[("node1", &tree.home("fresh1"))],
        &[(&name, secret)],
    );
    let out = diff(&tree.home("node1"), &tree.home("fresh1"), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

/// A Carbon 4.5+ home is compared by deployment.toml's keys.
#[test]
fn a_deployment_toml_home_is_compared_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = golden::workspace_root().join("fixtures/homes/carbon-4.5");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    golden::copy_tree(&fixture, &a);
    golden::copy_tree(&fixture, &b);
    let toml = b.join("repository/conf/deployment.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    assert!(text.contains("offset = 0"));
    std::fs::write(&toml, text.replace("offset = 0", "offset = 2")).unwrap();
    std::fs::write(
        &toml,
        text.replace("offset = 0", "offset = 2")
            .replace("type = \"h2\"", "type = \"^[\\\\S]{3}$\""),
    )
    .unwrap();
    // Values as TOML writes them, escaped once.
    let out = diff(&a, &b, &[]);
    let shown = stdout(&out);
    assert!(shown.contains("  server.offset: 0 -> 2\n"), "{shown}");
    assert!(
        shown.contains("  database.shared_db.type: \"h2\" -> '^[\\S]{3}$'\n"),
        "{shown}"
    );
    std::fs::write(&toml, text.replace("offset = 0", "offset = 2")).unwrap();
    let out = diff(&a, &b, &["--format=json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let differences = value["differences"].as_array().unwrap();
    assert_eq!(differences.len(), 1, "{differences:?}");
    assert_eq!(differences[0]["kind"], "toml");
    assert_eq!(differences[0]["key"], "server.offset");
    assert_eq!(differences[0]["before"], "0");
    assert_eq!(differences[0]["after"], "2");
}

/// A Carbon 4.5+ home configured by a recipe, captured against a pristine
/// copy into typed tables read from its deployment.toml, makes a fresh
/// copy equal; a home of the other model beside it is refused.
#[test]
fn a_deployment_toml_home_is_captured_into_typed_tables() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = golden::workspace_root().join("fixtures/homes/carbon-4.5");
    let [pristine, configured, fresh] = ["pristine", "configured", "fresh"].map(|n| {
        let home = dir.path().join(n);
        golden::copy_tree(&fixture, &home);
        home
    });
    let recipe = dir.path().join("r.toml");
    std::fs::write(
        &recipe,
        "[server]\nhostname = \"node1.example.com\"\noffset = 2\n\
         [clustering]\nmembership_scheme = \"wka\"\nlocal_member_host = \"10.0.0.1\"\n\
         local_member_port = 4001\nmembers = [\"10.0.0.1:4001\", \"10.0.0.2:4001\"]\n\
         parameters = { mcastPort = \"45564\" }\n[tomcat]\nhttps_proxy_port = 443\n\
         [user_store]\ntype = \"read_write_ldap\"\nmanager_properties = { ConnectionURL = \"ldap://l:389\" }\n\
         [[datasource]]\nname = \"WSO2_SHARED_DB\"\nurl = \"jdbc:mysql://db:3306/shared\"\n\
         username = \"shared\"\npassword = \"${env:PW}\"\ndriver = \"com.mysql.jdbc.Driver\"\n\
         max_active = 50\n[[datasource]]\nname = \"REPORTS_DB\"\nurl = \"jdbc:mysql://db:3306/r\"\n\
         username = \"r\"\npassword = \"${env:PW}\"\ndriver = \"com.mysql.jdbc.Driver\"\n\
         [nodes.n]\nhome = \"x\"\n",
    )
    .unwrap();
    apply(&recipe, &[("n", &configured)], &[("PW", "s3cret-shared")]);
    let out = bin()
        .arg("capture")
        .arg(format!("--baseline={}", pristine.display()))
        .arg(format!("--home=n={}", configured.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let captured = stdout(&out);
    assert!(
        !captured.contains("s3cret-shared") && !captured.contains("[[raw]]"),
        "{captured}"
    );
    for line in [
        "[clustering]\nmembership_scheme = \"wka\"\n",
        "parameters = { mcastPort = \"45564\" }\n",
        "[tomcat]\nhttps_proxy_port = 443\n",
        "password = \"${env:DATABASE_SHARED_DB_PASSWORD}\"\n",
    ] {
        assert!(captured.contains(line), "{line:?} in:\n{captured}");
    }
    let path = dir.path().join("captured.toml");
    std::fs::write(&path, &captured).unwrap();
    apply(
        &path,
        &[("n", &fresh)],
        &[
            ("DATABASE_SHARED_DB_PASSWORD", "s3cret-shared"),
            ("DATASOURCE_REPORTS_DB_PASSWORD", "s3cret-shared"),
        ],
    );
    let out = diff(&configured, &fresh, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // A 4.4 home against a 4.5 baseline: one model, or nothing.
    let old = dir.path().join("old");
    golden::copy_tree(
        &golden::workspace_root().join("fixtures/homes/carbon-4.4"),
        &old,
    );
    let out = bin()
        .arg("capture")
        .arg(format!("--baseline={}", pristine.display()))
        .arg(&old)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("capture homes, and a baseline, of one model"),
        "{}",
        stderr(&out)
    );
}

/// Without a baseline, capture writes the typed tables alone, every value
/// as the homes hold it: the quickstart's settings are all there, so its
/// captured recipe makes fresh copies equal too.
#[test]
fn capture_without_a_baseline_writes_the_typed_tables() {
    let tree = Tree::new(&["node1", "node2", "fresh1", "fresh2"]);
    let recipe = golden::workspace_root().join("examples/quickstart.toml");
    apply(
        &recipe,
        &[
            ("node1", &tree.home("node1")),
            ("node2", &tree.home("node2")),
        ],
        &[],
    );
    let out = bin()
        .arg("capture")
        .arg(tree.home("node1"))
        .arg(tree.home("node2"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let captured = stdout(&out);
    assert!(!captured.contains("[[raw]]"), "{captured}");
    for table in [
        "[server]",
        "[clustering]",
        "[[datasource]]",
        "[[registry.mount]]",
    ] {
        assert!(captured.contains(table), "{table} in:\n{captured}");
    }
    let path = tree.home("captured.toml");
    std::fs::write(&path, &captured).unwrap();
    let secrets: Vec<(String, String)> = captured
        .lines()
        .filter_map(|l| l.strip_prefix("#   ")?.split_once(':'))
        .map(|(name, _)| (name.to_string(), "wso2carbon".to_string()))
        .collect();
    let env: Vec<(&str, &str)> = secrets
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let fresh = [
        ("node1", tree.home("fresh1")),
        ("node2", tree.home("fresh2")),
    ];
    let homes: Vec<(&str, &Path)> = fresh.iter().map(|(n, p)| (*n, p.as_path())).collect();
    apply(&path, &homes, &env);
    for (node, made) in &fresh {
        let out = diff(&tree.home(node), made, &[]);
        assert_eq!(out.status.code(), Some(0), "{node}: {}", stdout(&out));
    }
}

/// A password inside a value (a JDBC URL's `user:password`) is a secret
/// too: `diff` masks it, and `capture` makes the URL a variable.
#[test]
fn a_password_inside_a_url_is_masked_in_diff_and_a_variable_in_capture() {
    let tree = Tree::new(&["pristine", "node1", "fresh1"]);
    let file = "repository/conf/datasources/master-datasources.xml";
    let path = tree.home("node1").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let url = "jdbc:h2:./repository/database/EXAMPLE_CARBON_DB;DB_CLOSE_ON_EXIT=FALSE";
    assert!(text.contains(url));
    let secret_url = "jdbc:mysql://admin:TopSecret99@db.example.com:3306/carbon";
    std::fs::write(&path, text.replace(url, secret_url)).unwrap();
    for format in ["text", "json"] {
        let out = diff(
            &tree.home("pristine"),
            &tree.home("node1"),
            &["--format", format],
        );
        assert_eq!(out.status.code(), Some(2));
        assert!(!stdout(&out).contains("TopSecret99"), "{}", stdout(&out));
    }
    let out = bin()
        .arg("capture")
        .arg("--baseline")
        .arg(tree.home("pristine"))
        .arg(format!("--home=node1={}", tree.home("node1").display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let captured = stdout(&out);
    assert!(!captured.contains("TopSecret99") && !stderr(&out).contains("TopSecret99"));
    assert!(
        captured.contains("url = \"${env:EXAMPLE_CARBON_DB_URL}\""),
        "{captured}"
    );
    let recipe = tree.home("captured.toml");
    std::fs::write(&recipe, &captured).unwrap();
    apply(
        &recipe,
        &[("node1", &tree.home("fresh1"))],
        &[("EXAMPLE_CARBON_DB_URL", secret_url)],
    );
    let out = diff(&tree.home("node1"), &tree.home("fresh1"), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

/// Siblings told apart only by what they hold (tomcat-users.xml's users)
/// may be told apart by a password: `diff` masks it in the paths it shows,
/// text and JSON, and `capture` leaves such an element for a person rather
/// than write a secret into the recipe, naming it masked.
#[test]
fn a_password_that_tells_elements_apart_is_masked_in_paths() {
    let tree = Tree::new(&["pristine", "node1"]);
    let users = |home: &str, admin: &str, roles: &str| {
        let folder = tree.home(home).join("repository/conf/tomcat");
        std::fs::create_dir_all(&folder).unwrap();
        let text = format!(
            "<tomcat-users>\n  <user username=\"admin\" password=\"{admin}\" roles=\"admin\"/>\n  \
             <user username=\"ops\" password=\"Ops-Pw-4711\" roles=\"{roles}\"/>\n</tomcat-users>\n"
        );
        std::fs::write(folder.join("tomcat-users.xml"), text).unwrap();
    };
    users("pristine", "Admin-Pw-0815", "ops");
    users("node1", "Admin-Pw-9999", "ops,audit");
    let out = diff(&tree.home("pristine"), &tree.home("node1"), &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        text.contains(
            "  - /tomcat-users/user[@username='ops' and @password='********' and @roles='ops']\n"
        ),
        "{text}"
    );
    let json = diff(
        &tree.home("pristine"),
        &tree.home("node1"),
        &["--format", "json"],
    );
    assert_eq!(json.status.code(), Some(2), "{}", stderr(&json));
    assert!(
        stdout(&json).contains(
            "\"path\": \"/tomcat-users/user[@username='ops' and @password='********' and \
             @roles='ops']\""
        ),
        "{}",
        stdout(&json)
    );
    let captured = bin()
        .arg("capture")
        .arg("--baseline")
        .arg(tree.home("pristine"))
        .arg(tree.home("node1"))
        .output()
        .unwrap();
    assert!(captured.status.success(), "{}", stderr(&captured));
    let recipe = stdout(&captured);
    assert!(
        recipe.contains(
            "#   - repository/conf/tomcat/tomcat-users.xml: an element removed at \
             /tomcat-users/user[@username='ops' and @password='********' and @roles='ops'] \
             (the path tells the element by a secret: make it by hand)\n"
        ),
        "{recipe}"
    );
    // Added users are inserted, their passwords read from the environment;
    // one that followed a user told apart by a password goes last.
    assert!(
        recipe.contains(
            "path = \"/tomcat-users\"\naction = \"insert\"\nplace = \"last_child\"\n\
             markup = '<user username=\"ops\" password=\"${env:OPS_AUDIT_PASSWORD}\" \
             roles=\"ops,audit\"/>'\n"
        ),
        "{recipe}"
    );
    for shown in [text, stdout(&json), recipe] {
        for secret in ["Admin-Pw-0815", "Admin-Pw-9999", "Ops-Pw-4711"] {
            assert!(!shown.contains(secret), "{secret} shown:\n{shown}");
        }
    }
}

/// Entries that share the name a typed table finds them by (two remote
/// instances with one `id`) are no table's: without a baseline only the
/// entry of its own name is captured, and with one the others become
/// `[[raw]]` edits, so that the captured recipe still makes the home again.
#[test]
fn entries_that_share_a_name_are_left_to_raw_edits() {
    let tree = Tree::new(&["pristine", "node1", "fresh1"]);
    let registry = tree.home("node1").join("repository/conf/registry.xml");
    let text = std::fs::read_to_string(&registry).unwrap();
    let instances = "    <remoteInstance url=\"https://a:9443/registry\"><id>gov</id><readOnly>false</readOnly></remoteInstance>\n    \
                     <remoteInstance url=\"https://b:9443/registry\"><id>gov</id><enableCache>true</enableCache></remoteInstance>\n    \
                     <remoteInstance url=\"https://c:9443/registry\"><id>own</id><dbConfig>wso2registry</dbConfig></remoteInstance>\n\
                     </wso2registry>";
    std::fs::write(&registry, text.replace("</wso2registry>", instances)).unwrap();
    let capture = |args: &[&Path]| {
        let out = bin().arg("capture").args(args).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let alone = capture(&[&tree.home("node1")]);
    assert_eq!(
        alone.matches("[[registry.remote_instance]]").count(),
        1,
        "{alone}"
    );
    assert!(alone.contains("id = \"own\""), "{alone}");
    assert!(!alone.contains("id = \"gov\""), "{alone}");
    let against = capture(&[
        Path::new("--baseline"),
        &tree.home("pristine"),
        &tree.home("node1"),
    ]);
    assert!(against.contains("<id>gov</id><readOnly>"), "{against}");
    let path = tree.home("captured.toml");
    std::fs::write(&path, &against).unwrap();
    apply(&path, &[("node1", &tree.home("fresh1"))], &[]);
    let out = diff(&tree.home("node1"), &tree.home("fresh1"), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

/// An entry is another's namesake whenever a path's test would find both
/// by its name: a `name` attribute in a namespace (`x:name`), or a second
/// `<name>` child. Neither entry of such a pair becomes a typed table.
#[test]
fn a_name_another_entry_answers_to_is_shared() {
    let tree = Tree::new(&["node1"]);
    let registry = tree.home("node1").join("repository/conf/registry.xml");
    let text = std::fs::read_to_string(&registry).unwrap();
    let configs = "    <dbConfig name=\"A\" xmlns:x=\"urn:x\"><dataSource>jdbc/A</dataSource></dbConfig>\n    \
                   <dbConfig x:name=\"A\" xmlns:x=\"urn:x\"><dataSource>jdbc/B</dataSource></dbConfig>\n    \
                   <dbConfig name=\"C\"><dataSource>jdbc/C</dataSource></dbConfig>\n\
                   </wso2registry>";
    std::fs::write(&registry, text.replace("</wso2registry>", configs)).unwrap();
    let out = bin()
        .arg("capture")
        .arg(tree.home("node1"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let captured = stdout(&out);
    assert!(captured.contains("data_source = \"jdbc/C\""), "{captured}");
    assert!(!captured.contains("jdbc/A"), "{captured}");
    assert!(!captured.contains("jdbc/B"), "{captured}");
}
