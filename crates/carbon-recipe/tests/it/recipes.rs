//! Recipes: what they resolve to, and every mistake they can hold, with the
//! message that points at it.

use std::collections::BTreeMap;
use std::path::Path;

use carbon_config::axis2::Member;
use carbon_config::{CarbonHome, Session};
use carbon_recipe::{Recipe, Step};

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn member(s: &str) -> Member {
    s.parse().unwrap()
}

/// The error `source` gives, parsing and resolving every node.
fn error(source: &str) -> String {
    let recipe = match Recipe::parse("cluster.toml", source) {
        Ok(r) => r,
        Err(e) => return e.to_string(),
    };
    for name in recipe.node_names() {
        if let Err(e) = recipe.resolve(name, None, &env(&[])) {
            return e.to_string();
        }
    }
    panic!("no error in:\n{source}");
}

const TWO_NODES: &str = r#"
[vars]
db = "10.0.0.100"

[server]
hostname = "10.100.7.118"

[clustering]
membership_scheme = "wka"
domain = "wso2.mb.domain"
local_member_host = "10.100.7.118"
properties = { subDomain = "mgt" }

[[datasource]]
name = "REGISTRY_DB"
jndi = "jdbc/WSO2RegistryDB"
url = "jdbc:mysql://${db}:3306/regdb"
password = "${env:REGISTRY_DB_PASSWORD}"

[nodes.node1]
home = "../homes/node1"
server = { offset = 0 }
clustering = { local_member_port = 4000 }

[nodes.node2]
home = "/opt/mb2"
server = { offset = 3, hostname = "10.100.7.119" }
clustering = { local_member_port = 4003, properties = { subDomain = "worker" } }
[[nodes.node2.datasource]]
name = "REGISTRY_DB"
jndi = "jdbc/Node2Registry"
"#;

#[test]
fn node_values_override_shared_ones_and_wka_members_are_derived() {
    let recipe = Recipe::parse("recipes/cluster.toml", TWO_NODES).unwrap();
    assert_eq!(recipe.node_names(), ["node1", "node2"]);
    let env = env(&[("REGISTRY_DB_PASSWORD", "s3cret")]);
    let node1 = recipe.resolve("node1", None, &env).unwrap();
    assert_eq!(
        node1.home,
        Path::new("recipes/../homes/node1"),
        "relative to the recipe"
    );
    assert!(node1.steps.contains(&Step::Offset(0)));
    assert!(node1.steps.contains(&Step::HostName("10.100.7.118".into())));
    // The offset comes after the host names, so that the texts carbon.xml is
    // parsed again in between are the same on nodes sharing host names.
    let at = |wanted: fn(&Step) -> bool| node1.steps.iter().position(wanted).unwrap();
    assert!(at(|s| matches!(s, Step::HostName(_))) < at(|s| matches!(s, Step::Offset(_))));
    assert!(node1
        .steps
        .contains(&Step::Members(vec![member("10.100.7.118:4003")])));
    assert!(node1
        .steps
        .contains(&Step::MemberProperty("subDomain".into(), "mgt".into())));
    assert_eq!(node1.secrets, ["s3cret"]);
    let datasource = node1.steps.iter().find_map(|s| match s {
        Step::Datasource { spec, .. } => Some(spec.clone()),
        _ => None,
    });
    assert_eq!(
        datasource.unwrap().configuration,
        [
            (
                "url".to_string(),
                "jdbc:mysql://10.0.0.100:3306/regdb".to_string()
            ),
            ("password".to_string(), "s3cret".to_string())
        ]
    );

    let node2 = recipe
        .resolve("node2", Some(Path::new("/srv/mb2")), &env)
        .unwrap();
    assert_eq!(node2.home, Path::new("/srv/mb2"), "--home wins");
    assert!(node2.steps.contains(&Step::Offset(3)));
    assert!(node2.steps.contains(&Step::HostName("10.100.7.119".into())));
    assert!(node2
        .steps
        .contains(&Step::Members(vec![member("10.100.7.118:4000")])));
    assert!(node2
        .steps
        .contains(&Step::MemberProperty("subDomain".into(), "worker".into())));
    // A node's datasource of the same name replaces the shared one whole.
    let jndi = node2.steps.iter().find_map(|s| match s {
        Step::Datasource { spec, .. } => spec.jndi.clone(),
        _ => None,
    });
    assert_eq!(jndi.as_deref(), Some("jdbc/Node2Registry"));
    assert!(node2.secrets.is_empty());
}

#[test]
fn nodes_members_and_keys_keep_the_recipes_order() {
    let source = r#"
[clustering]
membership_scheme = "wka"
local_member_host = "10.0.0.1"
properties = { subDomain = "mgt", zone = "b", area = "a" }
parameters = { maxRetries = "5", AWSRegion = "eu" }

[[datasource]]
name = "REGISTRY_DB"
jndi = "jdbc/Reg"
configuration = { testOnBorrow = "true", maxIdle = "4" }

[nodes.node2]
home = "/opt/2"
clustering = { local_member_port = 4002, properties = { area = "z", added = "n" } }
[nodes.node10]
home = "/opt/10"
clustering = { local_member_port = 4010 }
[nodes.node1]
home = "/opt/1"
clustering = { local_member_port = 4001 }
"#;
    let recipe = Recipe::parse("cluster.toml", source).unwrap();
    assert_eq!(recipe.node_names(), ["node2", "node10", "node1"]);
    let node2 = recipe.resolve("node2", None, &env(&[])).unwrap();
    // Derived members: the other nodes, as the recipe lists them.
    assert!(node2.steps.contains(&Step::Members(vec![
        member("10.0.0.1:4010"),
        member("10.0.0.1:4001")
    ])));
    let properties: Vec<(&str, &str)> = node2
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::MemberProperty(k, v) => Some((k.as_str(), v.as_str())),
            _ => None,
        })
        .collect();
    // A node's value replaces the shared one where it stood; its own keys follow.
    assert_eq!(
        properties,
        [
            ("subDomain", "mgt"),
            ("zone", "b"),
            ("area", "z"),
            ("added", "n")
        ]
    );
    let parameters: Vec<&str> = node2
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::ClusteringParameter(k, _) => Some(k.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        parameters[parameters.len() - 2..],
        ["maxRetries", "AWSRegion"]
    );
    let configuration = node2.steps.iter().find_map(|s| match s {
        Step::Datasource { spec, .. } => Some(spec.configuration.clone()),
        _ => None,
    });
    let keys: Vec<String> = configuration.unwrap().into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["testOnBorrow", "maxIdle"]);
}

#[test]
fn secret_environment_values_are_secrets_wherever_the_recipe_uses_them() {
    let recipe = Recipe::parse(
        "cluster.toml",
        r#"
[vars]
sql_login = "user=regadmin;password=${env:MSSQL_PWD}"

[[datasource]]
name = "REGISTRY_DB"
url = "jdbc:sqlserver://${env:DB_HOST}:1433;${sql_login}"
username = "${env:DB_USER}"

[[raw]]
file = "repository/conf/carbon.xml"
path = "/Server"
action = "insert"
markup = "<Token>${env:Api_Token}</Token>"

[[raw]]
file = "repository/conf/carbon.xml"
path = "/Server"
action = "insert"
markup = "<Login>${env:DB_USER}/${env:db_pw}</Login>"

[nodes.node1]
home = "h"
"#,
    )
    .unwrap();
    let env = env(&[
        ("MSSQL_PWD", "s3cret"),
        ("DB_HOST", "db01"),
        ("DB_USER", "regadmin"),
        ("Api_Token", "t0ken"),
        ("db_pw", "pw-value"),
        ("UNUSED_PASSWORD", "never-read"),
    ]);
    let node = recipe.resolve("node1", None, &env).unwrap();
    // Through a [vars] entry or directly, in a URL or in raw markup: a
    // variable whose name says it is secret. Hosts and user names stay
    // readable, and a variable the node never reads is not collected.
    assert_eq!(node.secrets, ["s3cret", "t0ken", "pw-value"]);
}

#[test]
fn values_of_keys_that_name_a_secret_are_secrets_in_every_table_of_wso2_names() {
    let recipe = Recipe::parse(
        "cluster.toml",
        r#"
spark = { "spark.ssl.keyStorePassword" = "spark-pw", "spark.authenticate.secret" = "spark-secret", "spark.ui.port" = "4040" }
clustering = { parameters = { groupPassword = "group-pw", groupName = "wso2" }, properties = { keyPass = "member-pw" } }

[user_store]
properties = { ConnectionPassword = "ldap-pw", ConnectionName = "uid=admin", PasswordDigest = "SHA-256" }

[[datasource]]
name = "X_DB"
configuration = { trustStorePassword = "trust-pw", maxIdle = "8" }

[nodes.node1]
home = "h"
"#,
    )
    .unwrap();
    let node = recipe.resolve("node1", None, &env(&[])).unwrap();
    let mut secrets = node.secrets.clone();
    secrets.sort();
    assert_eq!(
        secrets,
        [
            "group-pw",
            "ldap-pw",
            "member-pw",
            "spark-pw",
            "spark-secret",
            "trust-pw"
        ]
    );
}

#[test]
fn an_explicit_member_list_wins() {
    let recipe = Recipe::parse(
        "c.toml",
        "[clustering]\nmembership_scheme = \"wka\"\nmembers = [\"10.0.0.5:4000\"]\n[nodes.a]\nhome = \"/a\"\n",
    )
    .unwrap();
    let node = recipe.resolve("a", None, &env(&[])).unwrap();
    assert!(node
        .steps
        .contains(&Step::Members(vec![member("10.0.0.5:4000")])));
}

#[test]
fn unknown_keys_point_at_themselves_and_suggest() {
    assert_eq!(
        error("[server]\noffest = 3\n[nodes.a]\nhome = \"/a\"\n"),
        "cluster.toml:2:1: unknown field `offest`, expected one of `offset`, `hostname`, `mgt_hostname`; did you mean `offset`?\n  |\n2 | offest = 3\n  | ^^^^^^"
    );
    let first = error("[clustering]\nmembership_schema = \"wka\"\n[nodes.a]\nhome = \"/a\"\n");
    assert!(
        first.starts_with("cluster.toml:2:1: unknown field `membership_schema`"),
        "{first}"
    );
    assert!(
        first.contains("; did you mean `membership_scheme`?"),
        "{first}"
    );
    assert!(
        error("[sever]\noffset = 1\n[nodes.a]\nhome = \"/a\"\n").contains("did you mean `server`?")
    );
}

/// A key written in the wrong table (a node's `offset` beside its `home`)
/// is not a typo: the error says which table has it.
#[test]
fn a_key_in_the_wrong_table_is_sent_to_its_own() {
    let first_line = |source: &str| error(source).lines().next().unwrap().to_string();
    assert!(
        first_line("[nodes.a]\nhome = \"/a\"\noffset = 1\n").ends_with(
            "`manual`; `offset` is a key of [server]: in a node, `server = { offset = … }`"
        )
    );
    assert!(
        first_line("local_member_port = 4000\n[nodes.a]\nhome = \"/a\"\n")
            .ends_with("`manual`; `local_member_port` is a key of [clustering]")
    );
    assert!(
        first_line("[clustering]\noffset = 1\n[nodes.a]\nhome = \"/a\"\n")
            .ends_with("`comment_out_properties`; `offset` is a key of [server]")
    );
    assert!(first_line("[nodes.a]\nhome = \"/a\"\nurl = \"jdbc:h2:x\"\n").ends_with(
        "; `url` is a key of [[datasource]] or [registry.db_config.jdbc] or [[registry.remote_instance]] or [user_store.jdbc] or [apim.devportal] or [apim.publisher]"
    ));
    // A key no table has gets no hint.
    assert!(first_line("[nodes.a]\nhome = \"/a\"\nfoo = 1\n").ends_with("`raw`, `manual`"));
}

#[test]
fn wrong_types_and_values_point_at_the_value() {
    assert_eq!(
        error("[server]\noffset = \"three\"\n[nodes.a]\nhome = \"/a\"\n"),
        "cluster.toml:2:10: invalid type: string \"three\", expected a whole number from 0 to 4294967295\n  |\n2 | offset = \"three\"\n  |          ^^^^^^^"
    );
    error_starts_with(
        "[server]\n[nodes.a]\nhome = \"/a\"\nclustering = \"on\"\n",
        "cluster.toml:4:14: invalid type: string \"on\", expected a table\n",
    );
    let err = error("[clustering]\nmembers = \"h:1\"\n[nodes.a]\nhome = \"/a\"\n");
    assert!(err.contains("expected an array\n"), "{err}");
    assert_eq!(
        error("[clustering]\nmembership_scheme = \"zookeeper\"\n[nodes.a]\nhome = \"/a\"\n")
            .lines()
            .next()
            .unwrap(),
        "cluster.toml:2:21: unknown membership_scheme \"zookeeper\" (expected wka, multicast, aws or kubernetes)"
    );
    error_starts_with(
        "[clustering]\nmembers = [\"10.0.0.1\"]\n[nodes.a]\nhome = \"/a\"\n",
        "cluster.toml:2:12: member \"10.0.0.1\" is not host:port",
    );
    error_starts_with(
        "[clustering]\nmembers = [\"h:1\", \"h:1\"]\n[nodes.a]\nhome = \"/a\"\n",
        "cluster.toml:2:19: member h:1 is listed twice",
    );
}

/// A recipe's last table: one node, so that what comes before it is what
/// a case tests.
const ONE_NODE: &str = "[nodes.a]\nhome = \"/a\"\n";

/// Asserts that `source` fails with an error that starts with `expected`.
fn error_starts_with(source: &str, expected: &str) {
    let err = error(source);
    assert!(err.starts_with(expected), "{source}:\n{err}");
}

/// Each `(recipe, expected)`, with [`ONE_NODE`] after it, fails with an
/// error that starts with `expected`.
fn each_error_starts_with(cases: &[(&str, &str)]) {
    for (recipe, expected) in cases {
        error_starts_with(&format!("{recipe}{ONE_NODE}"), expected);
    }
}

/// `[x]` for `[[x]]` and back is TOML's commonest slip; serde's words for
/// it name the first field's type ("expected a whole number" for
/// `[[server]]`), so the error says which brackets to write instead.
#[test]
fn a_table_in_the_wrong_brackets_says_which_to_write() {
    let cases = [
        (
            "[[server]]\noffset = 1\n",
            "cluster.toml:1:1: `[[server]]` starts a table in an array of tables, but `server` is one table: write `[server]`\n  |\n1 | [[server]]\n  | ^^^^^^^^^^",
        ),
        (
            "[[clustering]]\nenable = true\n",
            "cluster.toml:1:1: `[[clustering]]` starts a table in an array of tables, but `clustering` is one table: write `[clustering]`",
        ),
        (
            "[[vars]]\nhost = \"h\"\n",
            "cluster.toml:1:1: `[[vars]]` starts a table in an array of tables, but `vars` is one table: write `[vars]`",
        ),
        (
            "[datasource]\nname = \"X\"\n",
            "cluster.toml:1:1: `[datasource]` makes one table, but `datasource` is an array of tables: write `[[datasource]]` before each of them",
        ),
        (
            "[registry]\n[registry.mount]\npath = \"/_system/config\"\n",
            "cluster.toml:2:1: `[registry.mount]` makes one table, but `registry.mount` is an array of tables: write `[[registry.mount]]` before each of them",
        ),
        (
            "[registry]\nmount = { path = \"/_system/config\" }\n",
            "cluster.toml:2:9: `mount` is an array of tables, and `{ … }` is one table: write `mount = [{ … }]`",
        ),
        (
            "[[lib]]\npath = \"mysql.jar\"\n",
            "cluster.toml:1:1: `[[lib]]` starts a table in an array of tables, but `lib` is a list of strings: write `lib = [\"…\", \"…\"]` in its table",
        ),
    ];
    each_error_starts_with(&cases);
    // Under a node, the key is the node's.
    error_starts_with(
        "[nodes.a]\nhome = \"/a\"\n[[nodes.a.server]]\noffset = 1\n",
        "cluster.toml:3:1: `[[nodes.a.server]]` starts a table in an array of tables, but `nodes.a.server` is one table: write `[nodes.a.server]`",
    );
    // A type error elsewhere keeps serde's words.
    error_starts_with(
        "[clustering]\nproperties = [\"a\"]\n[nodes.a]\nhome = \"/a\"\n",
        "cluster.toml:2:14: invalid type: sequence, expected a table\n",
    );
}

/// WSO2's names hold dots (Spark keys, Hazelcast parameters, member
/// properties); written bare, TOML reads them as tables inside tables, and
/// serde's words were "invalid type: map, expected a string".
#[test]
fn a_dotted_name_left_unquoted_is_told_to_be_quoted() {
    let cases = [
        (
            "[spark]\ncarbon.spark.master.count = \"2\"\n",
            "cluster.toml:2:1: `carbon.spark.master.count` is a dotted key, which TOML reads as tables inside tables; quote a name that holds dots: `\"carbon.spark.master.count\" = …`\n  |\n2 | carbon.spark.master.count = \"2\"\n  | ^^^^^^",
        ),
        (
            "[clustering.parameters]\nhazelcast.max.no.heartbeat.seconds = \"600\"\n",
            "cluster.toml:2:1: `hazelcast.max.no.heartbeat.seconds` is a dotted key",
        ),
        (
            "[clustering]\nproperties = { port . mapping.80 = \"9763\" }\n",
            "cluster.toml:2:16: `port.mapping.80` is a dotted key, which TOML reads as tables inside tables; quote a name that holds dots: `\"port.mapping.80\" = …`",
        ),
        (
            "[[datasource]]\nname = \"X\"\nconfiguration = { jdbc.interceptors = \"x\" }\n",
            "cluster.toml:3:19: `jdbc.interceptors` is a dotted key",
        ),
    ];
    each_error_starts_with(&cases);
    // Quoted, the name is one key.
    let recipe = format!("[spark]\n\"carbon.spark.master.count\" = \"2\"\n{ONE_NODE}");
    assert!(carbon_recipe::Recipe::parse("cluster.toml", recipe).is_ok());
    // A table given where a string belongs keeps serde's words.
    error_starts_with(
        &format!("[spark]\nkey = {{ a = \"b\" }}\n{ONE_NODE}"),
        "cluster.toml:2:7: invalid type: map, expected a string\n",
    );
}

/// The mistakes people make typing a password are the ones that make TOML
/// errors; the error must say where and what without showing the password.
#[test]
fn errors_on_a_password_line_do_not_show_the_password() {
    let datasource =
        "[[datasource]]\nname = \"WSO2_USER_DB\"\nurl = \"jdbc:h2:x\"\nusername = \"u\"\n";
    let home = "\n[nodes.a]\nhome = \"/a\"\n";
    let cases = [
        // A number left unquoted: serde quotes the value in its message.
        (
            "password = 31415926",
            "cluster.toml:5:12: invalid type: integer `********`, expected a string\n  |\n5 | password = ********\n  |            ^^^^^^^^",
        ),
        // A backslash that is not an escape: the caret points inside the value.
        (
            "password = \"pi\\31415926\"",
            "cluster.toml:5:16: missing escaped value, expected `b`, `e`, `f`, `n`, `r`, `\\`, `\"`, `x`, `u`, `U`\n  |\n5 | password = ********\n  |            ^^^^^^^^",
        ),
        // A string left open.
        ("password = \"31415926", "5 | password = ********\n"),
        // A misspelt key: the caret is on the key, the value still hidden.
        (
            "pasword = \"31415926\"",
            "5 | pasword = ********\n  | ^^^^^^^",
        ),
    ];
    for (line, shown) in cases {
        let err = error(&format!("{datasource}{line}{home}"));
        assert!(!err.contains("31415926"), "{line}:\n{err}");
        assert!(
            err.contains(shown),
            "{line}:\n{err}\nexpected to contain:\n{shown}"
        );
    }
    // Where a password comes from is not a secret: an unset variable is shown.
    let err = error(&format!(
        "{datasource}password = \"${{env:DB_PASSWORD}}\"{home}"
    ));
    assert!(
        err.ends_with("5 | password = \"${env:DB_PASSWORD}\"\n  |            ^^^^^^^^^^^^^^^^^^^^"),
        "{err}"
    );
    // In an inline table the other values stay readable, and the caret is
    // under the same text after the mask.
    let err = error(&format!(
        "datasource = [{{ name = \"a\", url = \"u\", username = \"u\", password = \"31415926\", max_active = \"many\" }}]{home}"
    ));
    assert!(!err.contains("31415926"), "{err}");
    let shown = "1 | datasource = [{ name = \"a\", url = \"u\", username = \"u\", password = ********, max_active = \"many\" }]\n  |                                                                                          ^^^^^^";
    assert!(err.ends_with(shown), "{err}");
}

#[test]
fn a_recipe_that_is_not_utf8_is_pointed_at() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.toml");
    let cases: [(&[u8], &str); 2] = [
        (
            b"[server]\nhostname = \"h\xe9\"\n[nodes.a]\nhome = \"/a\"\n",
            ":2:14: not UTF-8 (TOML is UTF-8 text)\n  |\n2 | hostname = \"h\u{fffd}\"\n  |              ^",
        ),
        // A password in Latin-1 is still a password.
        (
            b"[server]\n[nodes.a]\nhome = \"/a\"\n[[nodes.a.datasource]]\npassword = \"\xe9t\xe9\"\n",
            ":5:13: not UTF-8 (TOML is UTF-8 text)\n  |\n5 | password = ********\n  |            ^^^^^^^^",
        ),
    ];
    for (bytes, shown) in cases {
        std::fs::write(&path, bytes).unwrap();
        let err = Recipe::load(&path).unwrap_err().to_string();
        assert_eq!(err, format!("{}{shown}", path.display()));
    }
}

/// Carbon hands Hazelcast `hostName:port`: an IPv6 member needs brackets.
/// A derived member gets them; a given one without them is refused.
#[test]
fn ipv6_members_are_bracketed() {
    let recipe = Recipe::parse(
        "cluster.toml",
        "[clustering]\nmembership_scheme = \"wka\"\nlocal_member_port = 4000\n\
         [nodes.a]\nhome = \"/a\"\nclustering = { local_member_host = \"fe80::1\" }\n\
         [nodes.b]\nhome = \"/b\"\nclustering = { local_member_host = \"fe80::2\" }\n",
    )
    .unwrap();
    let a = recipe.resolve("a", None, &env(&[])).unwrap();
    assert!(a
        .steps
        .contains(&Step::Members(vec![member("[fe80::2]:4000")])));
    error_starts_with(
        "[clustering]\nmembers = [\"fe80::1:4000\"]\n[nodes.a]\nhome = \"/a\"\n",
        "cluster.toml:2:12: member \"fe80::1:4000\": write an IPv6 address in brackets, [fe80::1]:4000",
    );
}

#[test]
fn unset_variables_are_named() {
    error_starts_with(
        "[server]\nhostname = \"${env:NODE_HOST}\"\n[nodes.a]\nhome = \"/a\"\n",
        "cluster.toml:2:12: environment variable NODE_HOST is not set",
    );
    error_starts_with(
        "[vars]\nhost = \"x\"\n[server]\nhostname = \"${hots}\"\n[nodes.a]\nhome = \"/a\"\n",
        "cluster.toml:4:12: no [vars] entry named \"hots\"; did you mean `host`?",
    );
    error_starts_with(
        "[vars]\na = \"${b}\"\nb = \"${a}\"\n[server]\nhostname = \"${a}\"\n[nodes.a]\nhome = \"/a\"\n",
        "cluster.toml:3:5: variables refer to each other in a loop: a -> b -> a\n",
    );
    // A long chain is no loop.
    let chain: String = (0..12)
        .map(|i| format!("v{i} = \"${{v{}}}\"\n", i + 1))
        .collect();
    let source = format!(
        "[vars]\n{chain}v12 = \"deep\"\n[server]\nhostname = \"${{v0}}\"\n[nodes.a]\nhome = \"/a\"\n"
    );
    let recipe = Recipe::parse("cluster.toml", source).unwrap();
    let node = recipe.resolve("a", None, &env(&[])).unwrap();
    assert_eq!(node.steps, vec![Step::HostName("deep".into())]);
}

/// `[vars]` that refer to one another through a chain of `n` variables,
/// each but the last `${next}`, the last `last`, used by the host name.
fn chained_vars(n: usize, last: &str) -> String {
    let chain: String = (0..n - 1)
        .map(|i| format!("v{i} = \"${{v{}}}\"\n", i + 1))
        .collect();
    format!(
        "[vars]\n{chain}v{} = \"{last}\"\n[server]\nhostname = \"${{v0}}\"\n[nodes.a]\nhome = \"/a\"\n",
        n - 1
    )
}

/// Variables may nest 32 deep: a longer chain is refused where it passes
/// the limit, however long it is (20,000 would overflow the stack of an
/// expansion without one).
#[test]
fn variables_nest_at_most_32_deep() {
    let recipe = Recipe::parse("cluster.toml", chained_vars(32, "deep")).unwrap();
    let node = recipe.resolve("a", None, &env(&[])).unwrap();
    assert_eq!(node.steps, vec![Step::HostName("deep".into())]);
    let too_deep = |n: usize| error(&chained_vars(n, "deep"));
    let names: Vec<String> = (0..=32).map(|i| format!("v{i}")).collect();
    let expected = format!(
        "cluster.toml:33:7: variables nest more than 32 deep: {}\n",
        names.join(" -> ")
    );
    assert!(too_deep(33).starts_with(&expected), "{}", too_deep(33));
    assert!(too_deep(20_000).starts_with(&expected));
}

/// A value may expand to 1 MiB at most: 26 lines that each double the one
/// before would make 64 MiB, and more lines twice as much each.
#[test]
fn a_value_expands_to_one_mebibyte_at_most() {
    let doubling = |first: &str, lines: usize| {
        let vars: String = (1..lines)
            .map(|i| format!("d{i} = \"${{d{}}}${{d{}}}\"\n", i - 1, i - 1))
            .collect();
        format!(
            "[vars]\nd0 = \"{first}\"\n{vars}[server]\nhostname = \"${{d{}}}\"\n[nodes.a]\nhome = \"/a\"\n",
            lines - 1
        )
    };
    // d20 holds 2^20 `x`: 1 MiB exactly, allowed; d21 is twice that.
    let err = error(&doubling("x", 26));
    assert!(
        err.starts_with(
            "cluster.toml:23:7: the value of d21 is over 1 MiB (1048576 bytes) once expanded, \
             more than a value may hold\n"
        ),
        "{err}"
    );
    // Each variable is expanded once per value, however often it is used:
    // 2^25 uses of an empty one cost no more than 26.
    let recipe = Recipe::parse(
        "cluster.toml",
        doubling("", 26).replace("hostname", "mgt_hostname"),
    )
    .unwrap();
    assert!(recipe.resolve("a", None, &env(&[])).is_ok());
    // An environment variable counts as what it expands to.
    let big = "e".repeat((1 << 20) + 1);
    let recipe = Recipe::parse(
        "cluster.toml",
        "[server]\nhostname = \"${env:BIG}\"\n[nodes.a]\nhome = \"/a\"\n",
    )
    .unwrap();
    let err = recipe
        .resolve("a", None, &env(&[("BIG", &big)]))
        .unwrap_err();
    assert!(
        err.to_string().starts_with(
            "cluster.toml:2:12: this value is over 1 MiB (1048576 bytes) once expanded, \
             more than a value may hold\n"
        ),
        "{err}"
    );
}

/// A recipe error shows control characters escaped, in its message and in
/// the line it quotes, with the caret still under the offending text: an
/// escape sequence in a recipe never reaches the terminal.
#[test]
fn control_characters_in_a_recipe_error_show_escaped() {
    // A node name with an escape sequence and a line break, named in a message.
    let source = "[nodes.\"a\\u001b[31m\\nwrote x\"]\n\n";
    assert_eq!(
        error(source),
        "cluster.toml:1:1: node a\\u{1b}[31m\\nwrote x has no `home` (give one, or --home a\\u{1b}[31m\\nwrote x=PATH)\n  \
         |\n1 | [nodes.\"a\\u001b[31m\\nwrote x\"]\n  | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^"
    );
    // A raw escape character in the recipe itself (TOML refuses it), quoted.
    assert_eq!(
        error("[server]\nhostname = \"h\u{1b}[2J\"\n"),
        "cluster.toml:2:14: invalid basic string, expected non-double-quote visible characters, `\\`\n  |\n\
         2 | hostname = \"h\\u{1b}[2J\"\n  |              ^^^^^^"
    );
}

#[test]
fn contradictions_are_errors() {
    let cases = [
        (
            "[clustering]\nproperties = { subDomain = \"mgt\" }\ncomment_out_properties = [\"subDomain\"]\n",
            "property subDomain is both set (in `properties`) and commented out",
        ),
        (
            "[[datasource]]\nname = \"X\"\nstate = \"absent\"\nurl = \"jdbc:x\"\n",
            "datasource X is to be absent, so it takes no other settings",
        ),
        (
            "[[registry.db_config]]\nname = \"r\"\ndata_source = \"jdbc/A\"\njdbc = { url = \"u\", username = \"u\", password = \"p\", driver = \"d\" }\n",
            "dbConfig r needs exactly one of `data_source` and `jdbc`",
        ),
        (
            "[event_processor.distributed]\nevent_sync_host = \"h\"\n",
            "event_sync_host belongs to the HA mode only",
        ),
        (
            "[[raw]]\nfile = \"repository/conf/carbon.xml\"\npath = \"Ports/Offset\"\naction = \"set_txt\"\n",
            "unknown raw action \"set_txt\"; did you mean `set_text`?",
        ),
        (
            "[user_store]\ndata_source = \"jdbc/A\"\njdbc = { url = \"u\", username = \"u\", password = \"p\", driver = \"d\" }\n",
            "user_store takes `data_source` or `jdbc`, not both",
        ),
        (
            "[[raw]]\nfile = \"repository/conf/carbon.xml\"\npath = \"Ports\"\naction = \"insert\"\nmarkup = \"<Extra>1</Extra\"\n",
            "cluster.toml:5:10: markup is not well-formed XML elements: 1:16: malformed XML: ",
        ),
    ];
    for (settings, message) in cases {
        let err = error(&format!("{settings}[nodes.a]\nhome = \"/a\"\n"));
        assert!(err.contains(message), "{settings}\n=> {err}");
    }
}

/// A `[[raw]]` attribute name goes into the file as it is: one that is not
/// an XML name (markup, say) is refused where the recipe writes it.
#[test]
fn a_raw_attribute_name_must_be_an_xml_name() {
    let raw = |action: &str, attribute: &str| {
        let value = if action == "set_attribute" {
            "value = \"v\"\n"
        } else {
            ""
        };
        error(&format!(
            "[[raw]]\nfile = \"repository/conf/carbon.xml\"\npath = \"/Server/Name\"\n\
             action = \"{action}\"\nattribute = '{attribute}'\n{value}[nodes.a]\nhome = \"/a\"\n"
        ))
    };
    assert_eq!(
        raw("set_attribute", r#"x="1"/><Evil/><a y"#),
        "cluster.toml:5:13: invalid XML name \"x=\\\"1\\\"/><Evil/><a y\": '=' cannot be part of a name\n  \
         |\n5 | attribute = 'x=\"1\"/><Evil/><a y'\n  |             ^^^^^^^^^^^^^^^^^^^^"
    );
    assert!(
        raw("remove_attribute", "a b").starts_with(
            "cluster.toml:5:13: invalid XML name \"a b\": ' ' cannot be part of a name\n"
        ),
        "{}",
        raw("remove_attribute", "a b")
    );
}

/// The guides give each node of one machine its own port offset and member
/// port; a recipe that does not would plan cleanly and the second server to
/// start would fail to bind.
#[test]
fn nodes_of_one_machine_need_their_own_ports() {
    let clashes = |source: &str| {
        let recipe = Recipe::parse("cluster.toml", source).unwrap();
        recipe
            .refuse_port_clashes(&env(&[("HOST_B", "10.0.0.5")]))
            .err()
            .map(|e| e.to_string())
    };
    // One shared member port on one shared host: the caret is on that port.
    assert_eq!(
        clashes("[clustering]\nlocal_member_host = \"10.0.0.5\"\nlocal_member_port = 4000\n[nodes.a]\nhome = \"/a\"\n[nodes.b]\nhome = \"/b\"\n").as_deref(),
        Some("cluster.toml:3:21: nodes a and b would both listen for cluster members on 10.0.0.5:4000; give each node of one machine its own local_member_port\n  |\n3 | local_member_port = 4000\n  |                     ^^^^")
    );
    // The same offset, the host reached through the environment.
    let two = |a: &str, b: &str| {
        format!("[clustering]\nlocal_member_host = \"${{env:HOST_B}}\"\n[nodes.a]\nhome = \"/a\"\n{a}\n[nodes.b]\nhome = \"/b\"\n{b}\n")
    };
    let err = clashes(&two("server = { offset = 1 }", "server = { offset = 1 }")).unwrap();
    assert!(
        err.starts_with("cluster.toml:8:21: nodes a and b are on one machine (local_member_host 10.0.0.5) with the same port offset 1, so their ports would clash; give each its own server.offset\n"),
        "{err}"
    );
    // Their own offsets and ports: no clash; nor when the offset is the
    // home's (not in the recipe).
    assert_eq!(
        clashes(&two("server = { offset = 1 }", "server = { offset = 2 }")),
        None
    );
    assert_eq!(clashes(&two("server = { offset = 1 }", "")), None);
    // Other machines, a loopback host, a host not known to this command.
    for recipe in [
        "[server]\noffset = 0\n[clustering]\nlocal_member_port = 4000\n[nodes.a]\nhome = \"/a\"\nclustering = { local_member_host = \"10.0.0.1\" }\n[nodes.b]\nhome = \"/b\"\nclustering = { local_member_host = \"10.0.0.2\" }\n",
        "[server]\noffset = 0\n[clustering]\nlocal_member_host = \"127.0.0.1\"\nlocal_member_port = 4000\n[nodes.a]\nhome = \"/a\"\n[nodes.b]\nhome = \"/b\"\n",
        "[server]\noffset = 0\n[clustering]\nlocal_member_host = \"${env:UNSET_HOST}\"\nlocal_member_port = 4000\n[nodes.a]\nhome = \"/a\"\n[nodes.b]\nhome = \"/b\"\n",
    ] {
        assert_eq!(clashes(recipe), None, "{recipe}");
    }
}

#[test]
fn nodes_need_a_home_and_wka_needs_member_addresses() {
    assert!(error("[nodes.a]\nserver = { offset = 1 }\n")
        .contains("node a has no `home` (give one, or --home a=PATH)"));
    // A shell's `~` would quietly be a folder named `~` beside the recipe.
    let recipe = Recipe::parse("c.toml", "[nodes.a]\nhome = \"~/wso2mb\"\n").unwrap();
    assert_eq!(
        recipe.home("a", &env(&[])).unwrap_err().to_string(),
        "c.toml:2:8: `~` is not expanded in a recipe; write ${env:HOME}/… or an absolute path\n  |\n2 | home = \"~/wso2mb\"\n  |        ^^^^^^^^^^"
    );
    let err = error("[clustering]\nmembership_scheme = \"wka\"\n[nodes.a]\nhome = \"/a\"\n[nodes.b]\nhome = \"/b\"\n");
    assert!(
        err.contains("node b has no local_member_host and local_member_port, which"),
        "{err}"
    );
    // Only what is missing is named.
    let err = error(
        "[clustering]\nmembership_scheme = \"wka\"\nlocal_member_host = \"10.0.0.1\"\n\
         [nodes.a]\nhome = \"/a\"\nclustering = { local_member_port = 4000 }\n\
         [nodes.b]\nhome = \"/b\"\n",
    );
    assert!(
        err.contains("node b has no local_member_port, which"),
        "{err}"
    );
    assert_eq!(
        error("[server]\noffset = 1\n"),
        "cluster.toml: the recipe has no [nodes.NAME] table"
    );
    let recipe = Recipe::parse("c.toml", "[nodes.node1]\nhome = \"/a\"\n").unwrap();
    assert_eq!(
        recipe.check_node("node3").unwrap_err().to_string(),
        "c.toml: no node named \"node3\" (nodes: node1); did you mean `node1`?"
    );
    // A name that differs in case only is named first, and why.
    let recipe = Recipe::parse(
        "c.toml",
        "[nodes.node1]\nhome = \"/a\"\n[nodes.node2]\nhome = \"/b\"\n",
    )
    .unwrap();
    assert_eq!(
        recipe.check_node("NODE2").unwrap_err().to_string(),
        "c.toml: no node named \"NODE2\" (nodes: node1, node2); did you mean `node2`? (node names are case-sensitive)"
    );
}

#[test]
fn a_recipe_applies_to_a_home_and_a_second_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = golden::workspace_root().join("fixtures/homes/carbon-4.4");
    let home_dir = dir.path().join("node1");
    golden::copy_tree(&fixture, &home_dir);
    let recipe_path = dir.path().join("cluster.toml");
    std::fs::write(&recipe_path, TWO_NODES.replace("../homes/node1", "node1")).unwrap();
    let recipe = Recipe::load(&recipe_path).unwrap();
    let env = env(&[("REGISTRY_DB_PASSWORD", "s3cret")]);
    let run = |write: bool| -> (usize, usize) {
        let node = recipe.resolve("node1", None, &env).unwrap();
        let home = CarbonHome::open(&node.home).unwrap();
        let mut session = Session::new(&home);
        let mut changed = 0;
        for step in &node.steps {
            changed += step
                .apply(&mut session)
                .unwrap()
                .iter()
                .filter(|o| o.changed)
                .count();
        }
        let changes = session.changes().unwrap();
        if write {
            for c in &changes {
                std::fs::write(node.home.join(&c.path), &c.after).unwrap();
            }
        }
        (changed, changes.len())
    };
    let (changed, files) = run(true);
    assert!(
        changed >= 8 && files == 3,
        "{changed} outcomes changed, {files} files"
    );
    assert_eq!(run(false), (0, 0), "a second run changes nothing");
}

#[test]
fn each_step_knows_the_recipe_entry_that_asked_for_it() {
    let source = r#"[server]
offset = 1
[clustering]
membership_scheme = "wka"
local_member_host = "10.0.0.1"
[[datasource]]
name = "WSO2_CARBON_DB"
url = "jdbc:h2:x"
[[raw]]
file = "repository/conf/carbon.xml"
path = "Server/Name"
action = "set_text"
value = "x"
[nodes.a]
home = "/a"
server = { offset = 3 }
clustering = { local_member_port = 4000 }
[nodes.b]
home = "/b"
clustering = { local_member_port = 4001 }
"#;
    let recipe = Recipe::parse("cluster.toml", source).unwrap();
    let node = recipe.resolve("a", None, &env(&[])).unwrap();
    let asked: Vec<(&Step, Option<(usize, usize)>)> = node
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| (step, node.asked_at(i).map(|p| p.line_column())))
        .collect();
    let param = |n: &str, v: &str| Step::ClusteringParameter(n.into(), v.into());
    let expected = [
        // The node's own value, not the shared one it overrides.
        (Step::Offset(3), Some((16, 21))),
        // Implied by the [clustering] table, which has no place of its own.
        (Step::ClusteringEnabled(true), None),
        (param("membershipScheme", "wka"), Some((4, 21))),
        (param("localMemberHost", "10.0.0.1"), Some((5, 21))),
        (param("localMemberPort", "4000"), Some((17, 36))),
        // Derived from the other nodes because the scheme is wka.
        (Step::Members(vec![member("10.0.0.1:4001")]), Some((4, 21))),
    ];
    for (i, (step, place)) in expected.iter().enumerate() {
        assert_eq!((asked[i].0, asked[i].1), (step, *place), "step {i}");
    }
    assert!(matches!(asked[6], (Step::Datasource { .. }, Some((7, 8)))));
    assert!(matches!(asked[7], (Step::Raw { .. }, Some((11, 8)))));
    assert_eq!(asked.len(), 8);
    assert!(node.asked_at(8).is_none());
    assert_eq!(
        node.asked_at(7).unwrap().to_string(),
        "cluster.toml:11:8: asked for here\n   |\n11 | path = \"Server/Name\"\n   |        ^^^^^^^^^^^^^"
    );
}

/// `$${` writes a literal `${` (WSO2's own placeholders), anywhere a
/// reference may stand, beside references that are expanded.
#[test]
fn a_doubled_dollar_writes_a_literal_placeholder() {
    let recipe = Recipe::parse(
        "r.toml",
        "[vars]\nip = \"10.0.0.1\"\n[server]\nhostname = \"$${carbon.local.ip}\"\n\
         mgt_hostname = \"${ip}/$${x}/$$${ip}\"\n[nodes.a]\nhome = \"/h\"\n",
    )
    .unwrap();
    let node = recipe.resolve("a", None, &env(&[])).unwrap();
    assert!(node
        .steps
        .contains(&Step::HostName("${carbon.local.ip}".into())));
    assert!(node
        .steps
        .contains(&Step::MgtHostName("10.0.0.1/${x}/$${ip}".into())));
}

/// Each raw action takes only its own keys: one it would ignore is an error
/// at its line, naming the key and the action (Ansible refuses
/// contradictory parameters too).
#[test]
fn a_raw_key_that_does_not_apply_to_its_action_is_an_error() {
    let raw = |keys: &str| {
        error(&format!(
            "[[raw]]\nfile = \"repository/conf/carbon.xml\"\npath = \"/Server/A\"\n{keys}\n[nodes.a]\nhome = \"/a\"\n"
        ))
    };
    let err = raw("action = \"remove\"\nattribute = \"subjective\"");
    assert!(
        err.contains("`attribute` does not apply to action remove (it takes no key of its own)"),
        "{err}"
    );
    let err = raw("action = \"insert\"\nmarkup = \"<B/>\"\nvalue = \"x\"");
    assert!(
        err.contains("`value` does not apply to action insert (it takes `markup`, `place`, `key`)"),
        "{err}"
    );
    let err = raw("action = \"remove\"\nmatch = \"some\"");
    assert!(
        err.contains("unknown match \"some\" (expected one or all)"),
        "{err}"
    );
    let err = raw("action = \"set_text\"\nvalue = \"x\"\nif_missing = \"ignore\"");
    assert!(
        err.contains("unknown if_missing \"ignore\" (expected error or skip)"),
        "{err}"
    );
    // A misspelled action is named as such, whatever keys come with it.
    let err = raw("action = \"set_atribute\"\nattribute = \"x\"\nvalue = \"1\"");
    assert!(
        err.contains("unknown raw action \"set_atribute\"; did you mean `set_attribute`?"),
        "{err}"
    );
    let err = raw("action = \"ensure\"\nif_missing = \"skip\"");
    assert!(
        err.contains("`if_missing` does not apply to action ensure (it creates what is missing)"),
        "{err}"
    );
    let err = raw("action = \"remove\"\nif_missing = \"skip\"");
    assert!(
        err.contains("`if_missing` does not apply to action remove"),
        "{err}"
    );
}

/// Markup may use a prefix the file binds where it goes (WSO2's
/// secure-vault `svns:`): checked there, not refused in the recipe.
#[test]
fn raw_markup_may_use_a_prefix_the_file_binds() {
    let recipe = "[[raw]]\nfile = \"repository/conf/carbon.xml\"\npath = \"/Server\"\n\
                  action = \"insert\"\nmarkup = '<Password svns:secretAlias=\"A.B\">x</Password>'\n\
                  [nodes.a]\nhome = \"/a\"\n";
    let parsed = Recipe::parse("cluster.toml", recipe).unwrap();
    parsed.resolve("a", None, &env(&[])).unwrap();
}

/// What a raw edit could only get wrong when applied is refused at the
/// recipe's line: markup that is a document, a position joined with
/// `and`, a last step of `ensure` read loosely, and a text `ensure` would
/// not find again.
#[test]
fn raw_edits_that_cannot_do_what_they_say_are_refused_in_the_recipe() {
    let raw = |keys: &str| {
        error(&format!(
            "[[raw]]\nfile = \"repository/conf/carbon.xml\"\n{keys}\n[nodes.a]\nhome = \"/a\"\n"
        ))
    };
    for (keys, message) in [
        (
            "path = \"/Server\"\naction = \"insert\"\nmarkup = \"<?xml version='1.0'?>\\n<A/>\"",
            "cluster.toml:5:10: markup holds an XML declaration or a DOCTYPE",
        ),
        (
            "path = \"/Server\"\naction = \"insert\"\nkey = \"@name\"\nmarkup = \"<A name='1'/><A name='2'/>\"",
            "markup holds 2 elements; a key identifies one element",
        ),
        (
            "path = \"/Server/A[text()='x' and 2]\"\naction = \"remove\"",
            "a position cannot be joined with 'and'",
        ),
        (
            "path = \"/Server/Name/text()!='x'\"\naction = \"ensure\"",
            "at column 20: expected ='value' or the end, found \"!='x'\"",
        ),
        (
            "path = \"/Server/A/@b='x' and @c='y'\"\naction = \"ensure\"",
            "expected one value quoted with ' or \" and nothing after it",
        ),
        (
            "path = \"/Server/Owner[Name=' Bob ']\"\naction = \"ensure\"",
            "texts are compared trimmed",
        ),
        (
            "path = \"/Server\"\naction = \"set_attribute\"\nattribute = \"{http://www.w3.org/2000/xmlns/}n\"\nvalue = \"urn:n\"",
            "a namespace declaration is not an attribute to set or remove",
        ),
        (
            "path = \"/Server\"\naction = \"remove_attribute\"\nattribute = \"xmlns:n\"",
            "a namespace declaration is not an attribute to set or remove",
        ),
        (
            "path = \"/Server/@xmlns\"\naction = \"remove\"",
            "a namespace declaration is not an attribute to remove",
        ),
        (
            "path = \"/s:Server\"\naction = \"remove\"\nnamespaces = { xmlns = \"urn:x\" }",
            "namespaces: the prefix \"xmlns\" is XML's own",
        ),
        (
            "path = \"/Server\"\naction = \"insert\"\nmarkup = \"<!-- why -->\\n<A/>\"",
            "markup holds \"<!-- why -->\" outside its elements",
        ),
        (
            "path = \"/Server\"\naction = \"insert\"\nmarkup = \"<A/> and text\"",
            "markup holds \"and text\" outside its elements",
        ),
        (
            "path = \"/s:Server/s:Ports[@a=1]\"\naction = \"remove\"\nnamespaces = { s = \"http://wso2.org/projects/carbon/carbon.xml\" }",
            "invalid path \"/s:Server/s:Ports[@a=1]\" at column 22: a value must be quoted",
        ),
    ] {
        let err = raw(keys);
        assert!(err.contains(message), "{keys}\n=> {err}");
    }
}

/// `namespaces` binds the prefixes a path and an attribute use, as
/// Ansible's xml module takes them; `remove` of XPath's `…/@name` removes
/// that attribute. A prefix left unbound is an error at the path.
#[test]
fn raw_prefixes_are_bound_in_namespaces() {
    let raw = |keys: &str| {
        format!(
            "[[raw]]\nfile = \"repository/conf/ansible.xml\"\n{keys}\n\
             namespaces = {{ bus = \"http://test.business\", attr = \"urn:attr\" }}\n\
             [nodes.a]\nhome = \"/a\"\n"
        )
    };
    let steps = |source: &str| {
        let recipe = Recipe::parse("r.toml", source).unwrap();
        recipe.resolve("a", None, &env(&[])).unwrap().steps
    };
    let remove = steps(&raw(
        "path = \"/bus:business/rating/@attr:subjective\"\naction = \"remove\"",
    ));
    let [Step::Raw { path, action, .. }] = remove.as_slice() else {
        panic!("{remove:?}")
    };
    assert_eq!(path, "/{http://test.business}business/rating");
    assert_eq!(
        *action,
        carbon_config::raw::RawAction::RemoveAttribute {
            name: "{urn:attr}subjective".into()
        }
    );
    let set = steps(&raw(
        "path = \"/bus:business/rating\"\naction = \"set_attribute\"\n\
         attribute = \"attr:subjective\"\nvalue = \"false\"",
    ));
    let [Step::Raw { action, .. }] = set.as_slice() else {
        panic!("{set:?}")
    };
    assert_eq!(
        *action,
        carbon_config::raw::RawAction::SetAttribute {
            name: "{urn:attr}subjective".into(),
            value: "false".into()
        }
    );
    let err = error(&raw(
        "path = \"/bus:business/rat:rating\"\naction = \"remove\"",
    ));
    assert!(
        err.contains("at column 15: the prefix \"rat\" is not bound to a namespace (bind it in the edit's `namespaces`)"),
        "{err}"
    );
    let err = error(
        "[[raw]]\nfile = \"repository/conf/a.xml\"\npath = \"/a:b\"\naction = \"remove\"\n\
         namespaces = { \"a:b\" = \"urn:x\" }\n[nodes.a]\nhome = \"/a\"\n",
    );
    assert!(err.contains("\"a:b\" is not a prefix"), "{err}");
}

/// An environment variable in `[[raw]]` markup is text there: its `<`, `&`
/// and quotes are escaped, so that a password cannot break the markup.
#[test]
fn environment_values_in_raw_markup_are_escaped() {
    let recipe = "[[raw]]\nfile = \"repository/conf/carbon.xml\"\npath = \"/Server\"\n\
                  action = \"insert\"\nmarkup = \"<Password>${env:PW}</Password>\"\n\
                  [nodes.a]\nhome = \"/a\"\n";
    let parsed = Recipe::parse("cluster.toml", recipe).unwrap();
    let node = parsed
        .resolve("a", None, &env(&[("PW", "a<b&c\"d")]))
        .unwrap();
    let markup = node.steps.iter().find_map(|s| match s {
        Step::Raw {
            action: carbon_config::raw::RawAction::Insert { markup, .. },
            ..
        } => Some(markup.clone()),
        _ => None,
    });
    assert_eq!(
        markup.as_deref(),
        Some("<Password>a&lt;b&amp;c&quot;d</Password>")
    );
}
