//! A Carbon 4.5+ home: the recipe's tables become deployment.toml keys,
//! with the file's comments and layout kept; settings no key carries, and
//! `[[raw]]` XML edits, are refused with the reason.

use super::{on_node1, recipe_file, stderr, stdout};

const RECIPE: &str = r#"[server]
hostname = "node1.example.com"
offset = 2

[clustering]
membership_scheme = "wka"
domain = "wso2.example"
local_member_host = "10.0.0.1"
local_member_port = 4001
members = ["10.0.0.1:4001", "10.0.0.2:4001"]
parameters = { mcastPort = "45564" }

[tomcat]
https_proxy_port = 443

[user_store]
type = "read_write_ldap"
manager_properties = { ConnectionURL = "ldap://ldap.example.com:389" }
data_source = "jdbc/SHARED_DB"

[[datasource]]
name = "WSO2_SHARED_DB"
url = "jdbc:mysql://db.example.com:3306/shared"
username = "shared"
password = "${env:SHARED_DB_PASSWORD}"
driver = "com.mysql.jdbc.Driver"
max_active = 50

[[datasource]]
name = "REPORTS_DB"
url = "$env{REPORTS_DB_URL}"
username = "reports"
password = "$secret{reports_db_password}"
driver = "com.mysql.jdbc.Driver"

[nodes.node1]
home = "x"
"#;

fn modern() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("modern");
    golden::copy_tree(
        &golden::workspace_root().join("fixtures/homes/carbon-4.5"),
        &home,
    );
    (dir, home)
}

#[test]
fn a_recipe_becomes_deployment_toml_keys_and_applies_once() {
    let (_home_dir, home) = modern();
    let (_dir, recipe) = recipe_file("r.toml", RECIPE);
    let env = [("SHARED_DB_PASSWORD", "s3cret-shared")];
    let plan = on_node1("plan", &recipe, &home).envs(env).output().unwrap();
    assert!(plan.status.success(), "{}", stderr(&plan));
    let shown = stdout(&plan).replace(&home.display().to_string(), "<home>");
    assert!(!shown.contains("s3cret-shared"));
    golden::assert_golden("cli/plan-deployment-toml.txt", &shown);
    let before = std::fs::read_to_string(home.join("repository/conf/deployment.toml")).unwrap();
    let apply = on_node1("apply", &recipe, &home)
        .envs(env)
        .output()
        .unwrap();
    assert!(apply.status.success(), "{}", stderr(&apply));
    let after = std::fs::read_to_string(home.join("repository/conf/deployment.toml")).unwrap();
    // WSO2's own placeholders are written as given, for the server to
    // resolve at start.
    assert!(
        after.contains("url = \"$env{REPORTS_DB_URL}\"\n"),
        "{after}"
    );
    assert!(
        after.contains("password = \"$secret{reports_db_password}\"\n"),
        "{after}"
    );
    // Every comment of the file is still there, in its place.
    for comment in before.lines().filter(|l| l.trim_start().starts_with('#')) {
        assert!(after.contains(comment), "{comment:?} lost:\n{after}");
    }
    let again = on_node1("apply", &recipe, &home)
        .envs(env)
        .output()
        .unwrap();
    assert!(
        stdout(&again).contains("Applied: 0 file(s)"),
        "{}",
        stdout(&again)
    );
    let check = on_node1("check", &recipe, &home)
        .envs(env)
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
    // Only deployment.toml was written.
    let written: Vec<_> = walkdir::WalkDir::new(&home)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file() && !e.path().starts_with(home.join(".carbon-patch")))
        .filter(|e| {
            let rel = e.path().strip_prefix(&home).unwrap();
            std::fs::read(e.path()).unwrap()
                != std::fs::read(
                    golden::workspace_root()
                        .join("fixtures/homes/carbon-4.5")
                        .join(rel),
                )
                .unwrap_or_default()
        })
        .map(|e| e.path().strip_prefix(&home).unwrap().to_path_buf())
        .collect();
    assert_eq!(
        written,
        [std::path::PathBuf::from("repository/conf/deployment.toml")]
    );
}

#[test]
fn what_no_key_carries_is_refused_with_the_reason() {
    for (settings, message) in [
        (
            "[[raw]]\nfile = \"repository/conf/carbon.xml\"\npath = \"/Server/HostName\"\naction = \"set_text\"\nvalue = \"x\"\n",
            "[[raw]] XML edits are refused on a Carbon 4.5+ home",
        ),
        (
            "[registry]\ncurrent_db_config = \"x\"\n",
            "[registry] current_db_config has no deployment.toml key on this product",
        ),
        (
            "[server]\nhostname = \"a\"\nmgt_hostname = \"b\"\n",
            "[server] mgt_hostname unlike hostname has no deployment.toml key",
        ),
        (
            "[clustering]\nmembership_scheme = \"wka\"\nproperties = { subDomain = \"mgt\" }\n",
            "[clustering] properties subDomain (a member property) has no deployment.toml key",
        ),
        (
            "[[datasource]]\nname = \"WSO2_SHARED_DB\"\njndi = \"jdbc/Other\"\n",
            "datasource WSO2_SHARED_DB jndi has no deployment.toml key",
        ),
    ] {
        let (_home_dir, home) = modern();
        let (_dir, recipe) = recipe_file("r.toml", format!("{settings}[nodes.node1]\nhome = \"x\"\n"));
        let out = on_node1("apply", &recipe, &home).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{settings}");
        assert!(stderr(&out).contains(message), "{settings}\n=> {}", stderr(&out));
        assert!(!home.join(".carbon-patch").exists());
    }
}
