//! Secrets never shown: the recipe's, and those on disk, in every output.

use super::*;

#[test]
fn secrets_never_reach_the_output() {
    let h = homes();
    let (_dir, recipe) = recipe_file(
        "secret.toml",
        "[[datasource]]\nname = \"REG\"\njndi = \"jdbc/Reg\"\nurl = \"jdbc:h2:mem:reg\"\npassword = \"${env:CARBON_PATCH_TEST_SECRET}\"\n\
         [[datasource]]\nname = \"MSSQL\"\njndi = \"jdbc/Ms\"\n\
         url = \"jdbc:sqlserver://${env:CARBON_PATCH_TEST_HOST}:1433;password=${env:CARBON_PATCH_TEST_DB_PWD}\"\n\
         [deployment_synchronizer]\nsvn_password = \"${env:CARBON_PATCH_TEST_SECRET}\"\n[nodes.node1]\nhome = \"x\"\n",
    );
    for format in ["text", "json"] {
        let out = on_node1("plan", &recipe, &h.node1)
            .arg(format!("--format={format}"))
            .env("CARBON_PATCH_TEST_SECRET", "hunter2-very-secret")
            // In a URL, with characters the file holds escaped.
            .env("CARBON_PATCH_TEST_DB_PWD", "url&pass<word>")
            .env("CARBON_PATCH_TEST_HOST", "db01.example.com")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        for leak in [
            "hunter2-very-secret",
            "url&pass",
            "url&amp;pass",
            "pass&lt;word",
        ] {
            assert!(!text.contains(leak), "{format} leaks {leak:?}:\n{text}");
        }
        // A variable whose name says nothing secret stays readable.
        assert!(text.contains("db01.example.com"), "{format}:\n{text}");
        // The password already in the file is masked on both sides too.
        assert!(!text.contains(">password</password>"), "{format}");
        assert!(text.contains("********"), "{format}");
    }
}

/// A one-letter test password masked inside every word made `repository`
/// read `re********ository` in every path, and the masks spelt it out.
#[test]
fn a_short_secret_is_masked_where_it_stands_alone() {
    let h = homes();
    let text = plan_on_node1(
        "[[datasource]]\nname = \"REG\"\njndi = \"jdbc/Reg\"\n\
         url = \"jdbc:mysql://u:${env:CARBON_PATCH_TEST_PWD}@db/reg\"\n[nodes.node1]\nhome = \"x\"\n",
        &h.node1,
        &[],
        &[("CARBON_PATCH_TEST_PWD", "p")],
    );
    assert!(
        text.contains("warning: repository/conf/datasources/master-datasources.xml:30:9: datasource REG (jdbc/Reg) is not referenced"),
        "{text}"
    );
    assert!(text.contains("jdbc:mysql://u:********@db/reg"), "{text}");
    assert!(!text.contains("u:p@"), "{text}");
}

#[test]
fn a_secret_in_an_error_is_masked_too() {
    let h = homes();
    // A path built from a secret matches nothing: the error names the path.
    let (_dir, recipe) = recipe_file(
        "secret.toml",
        "[[raw]]\nfile = \"repository/conf/carbon.xml\"\npath = \"/Server/${env:CARBON_PATCH_TEST_TOKEN}\"\n\
         action = \"insert\"\nmarkup = \"<Token/>\"\n[nodes.node1]\nhome = \"x\"\n",
    );
    for command in ["plan", "apply"] {
        let out = on_node1(command, &recipe, &h.node1)
            .env("CARBON_PATCH_TEST_TOKEN", "t0ken-very-secret")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(
            err.contains("no element matches \"/Server/********\""),
            "{err}"
        );
        assert!(
            !err.contains("t0ken-very-secret"),
            "{command} leaks:\n{err}"
        );
    }
}

#[test]
fn inspect_reads_a_home_without_showing_passwords() {
    let out = run(&["inspect", "fixtures/homes/carbon-4.4"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("product:     WSO2 Example Server 4.4.0"),
        "{text}"
    );
    assert!(
        text.contains("clustering:  enabled=false scheme=multicast"),
        "{text}"
    );
    assert!(
        text.contains("offset:      0 (HTTP 9763, HTTPS 9443)"),
        "{text}"
    );
    assert!(text.contains("password=********"), "{text}");
    let json = run(&["inspect", "fixtures/homes/carbon-4.4", "--format=json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["clustering"]["members"][0], "127.0.0.1:4000");
    // Numbers and booleans as such; member properties and the deployment
    // synchronizer in the summary.
    assert_eq!(value["clustering"]["local_member_port"], 4000);
    assert_eq!(value["clustering"]["enabled"], false);
    assert_eq!(value["ports"][0]["port"], 9763);
    assert_eq!(value["clustering"]["properties"][1]["name"], "subDomain");
    assert_eq!(value["deployment_synchronizer"]["auto_commit"], false);
    let regenerated = run(&["inspect", "fixtures/homes/carbon-4.5"]);
    let text = stdout(&regenerated);
    assert!(text.contains("deployment.toml (Carbon 4.5+"), "{text}");
    // What is not known is a dash, not an empty field.
    assert!(text.contains("\nproduct:     -\n"), "{text}");
    assert!(text.contains("\noffset:      -\n"), "{text}");
}

#[test]
fn a_password_in_a_url_on_disk_is_masked_in_inspect_and_in_diffs() {
    let h = homes();
    replace_in(
        &h.node1,
        "repository/conf/datasources/master-datasources.xml",
        "jdbc:h2:./repository/database/STORE_DB",
        "jdbc:sqlserver://db:1433;user=sa;password=Secr3t-on-disk",
    );
    for format in ["text", "json"] {
        let out = run(&[
            "inspect",
            h.node1.to_str().unwrap(),
            &format!("--format={format}"),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(!text.contains("Secr3t"), "{format}:\n{text}");
        assert!(
            text.contains("user=sa;password=********"),
            "{format}:\n{text}"
        );
    }
    // A plan whose diff shows the URL as context masks it as well.
    let (_dir, recipe) = recipe_file(
        "r.toml",
        "[[datasource]]\nname = \"EXAMPLE_STORE_DB\"\nmax_active = 7\n[nodes.node1]\nhome = \"x\"\n",
    );
    let out = on_node1("plan", &recipe, &h.node1).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("password=********"), "{text}");
    assert!(!text.contains("Secr3t"), "{text}");
}

/// Tomcat's connector holds the keystore's password as an attribute,
/// `keystorePass`, a few lines below where `https_proxy_port` adds
/// `proxyPort`: the diff's context showed it.
#[test]
fn a_keystore_password_on_disk_is_masked_in_the_diff_around_it() {
    let h = homes();
    replace_in(
        &h.node1,
        "repository/conf/tomcat/catalina-server.xml",
        "SSLEnabled=\"true\" />",
        "SSLEnabled=\"true\"\n               keystoreFile=\"wso2carbon.jks\"\n               \
         keystorePass=\"Keystore-S3cret\" truststorePassword='Trust-S3cret' />",
    );
    for format in ["text", "json"] {
        let text = plan_on_node1(
            "[tomcat]\nhttps_proxy_port = 8443\n[nodes.node1]\nhome = \"x\"\n",
            &h.node1,
            &[&format!("--format={format}")],
            &[],
        );
        assert!(text.contains("proxyPort"), "{format}:\n{text}");
        assert!(!text.contains("S3cret"), "{format}:\n{text}");
        let masked = if format == "json" {
            "keystorePass=\\\"********\\\" truststorePassword='********'"
        } else {
            "keystorePass=\"********\" truststorePassword='********'"
        };
        assert!(text.contains(masked), "{format}:\n{text}");
    }
}

/// The names API Manager and Identity Server give their secrets
/// (`<clientSecret>`, `<ConsumerSecret>`), a property ending in `_password`
/// and Tomcat's `keystorePass`, on disk: masked in plan, check and inspect.
#[test]
fn api_manager_and_identity_server_secrets_on_disk_are_masked() {
    let h = homes();
    let (_dir, recipe) = recipe_file(
        "oauth.toml",
        "[[raw]]\nfile = \"repository/conf/carbon.xml\"\npath = \"/Server\"\naction = \"insert\"\n\
         markup = '<OAuth><clientSecret>S3cret-a</clientSecret><ConsumerSecret>S3cret-b</ConsumerSecret>\
         <Property name=\"connection_password\">S3cret-c</Property><Connector keystorePass=\"S3cret-d\"/></OAuth>'\n\
         [nodes.node1]\nhome = \"x\"\n",
    );
    for (command, exit) in [("plan", 0), ("check", 2)] {
        for format in ["text", "json"] {
            let out = on_node1(command, &recipe, &h.node1)
                .arg(format!("--format={format}"))
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(exit), "{}", stderr(&out));
            let text = stdout(&out);
            assert!(
                text.contains("<clientSecret>********</clientSecret>"),
                "{command} {format}:\n{text}"
            );
            assert!(!text.contains("S3cret"), "{command} {format}:\n{text}");
        }
    }
    replace_in(
        &h.node1,
        "repository/conf/datasources/master-datasources.xml",
        "jdbc:h2:./repository/database/STORE_DB",
        "jdbc:mysql://db/x?clientSecret=S3cret-e&amp;ConsumerSecret=S3cret-f&amp;\
         connection_password=S3cret-g&amp;keystorePass=S3cret-h",
    );
    for format in ["text", "json"] {
        let home = h.node1.to_str().unwrap();
        let out = run(&["inspect", home, &format!("--format={format}")]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.contains("clientSecret=********&ConsumerSecret=********"),
            "{format}:\n{text}"
        );
        assert!(!text.contains("S3cret"), "{format}:\n{text}");
    }
}

/// WSO2's documentation has a password holding `&` wrapped in a CDATA
/// section on a line of its own; carbon.xml ships commented-out password
/// elements. Both showed in a diff's context, and an uncommented one on the
/// removed line.
#[test]
fn a_password_on_disk_in_cdata_or_a_comment_is_masked_in_the_diff() {
    let h = homes();
    replace_in(
        &h.node1,
        "repository/conf/user-mgt.xml",
        "            <AdminRole>admin</AdminRole>\n",
        "            <AdminUser>\n                <UserName>admin</UserName>\n                \
         <Password>\n                    <![CDATA[Cdata&S3cret]]>\n                </Password>\n\
         \x20               <!-- <ConnectionPassword>Commented-S3cret</ConnectionPassword> -->\n\
         \x20           </AdminUser>\n            <AdminRole>admin</AdminRole>\n",
    );
    let recipe = "[user_store]\ndata_source = \"jdbc/UM\"\n\
                  [[datasource]]\nname = \"UM_DB\"\njndi = \"jdbc/UM\"\n\
                  url = \"jdbc:h2:./repository/database/UM\"\ndriver = \"org.h2.Driver\"\n\
                  [[raw]]\nfile = \"repository/conf/user-mgt.xml\"\npath = \"//AdminUser/ConnectionPassword\"\n\
                  action = \"uncomment\"\n\
                  [nodes.node1]\nhome = \"x\"\n";
    for format in ["text", "json"] {
        let text = plan_on_node1(recipe, &h.node1, &[&format!("--format={format}")], &[]);
        assert!(text.contains("jdbc/UM"), "{format}:\n{text}");
        assert!(!text.contains("S3cret"), "{format}:\n{text}");
        for masked in [
            "<![CDATA[********]]>",
            "-                <!-- <ConnectionPassword>********</ConnectionPassword> -->",
            "+                <ConnectionPassword>********</ConnectionPassword>",
        ] {
            assert!(text.contains(masked), "{format}: {masked}\n{text}");
        }
    }
}

/// A value given under a key that names a secret, in the tables of WSO2's
/// own names (Spark keys, clustering parameters and properties, user store
/// properties, a datasource's other configuration), is as secret as a
/// datasource's password; and so is a Spark password already on disk,
/// shown as context of the line the plan changes.
#[test]
fn secret_keyed_values_and_spark_passwords_on_disk_are_masked() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("das");
    golden::copy_tree(
        &golden::workspace_root().join("fixtures/homes/das-3.1"),
        &home,
    );
    replace_in(
        &home,
        "repository/conf/analytics/spark/spark-defaults.conf",
        "spark.master.port\t7077",
        "spark.ssl.trustStorePassword\tOnDisk-S3cret\r\nspark.master.port\t7077",
    );
    let recipe = "spark = { \"carbon.spark.master.count\" = \"2\", \
                  \"spark.ssl.keyStorePassword\" = \"Spark-S3cret\", \"spark.authenticate.secret\" = \"Auth-S3cret\" }\n\
                  clustering = { parameters = { groupPassword = \"Group-S3cret\" } }\n\
                  [user_store]\nproperties = { ConnectionPassword = \"Ldap-S3cret\", MaxUserNameListLength = \"100\" }\n\
                  [[datasource]]\nname = \"X_DB\"\njndi = \"jdbc/X\"\nurl = \"jdbc:h2:./x\"\n\
                  driver = \"org.h2.Driver\"\nconfiguration = { trustStorePassword = \"Trust-S3cret\" }\n\
                  [nodes.node1]\nhome = \"x\"\n";
    for format in ["text", "json"] {
        let text = plan_on_node1(recipe, &home, &[&format!("--format={format}")], &[]);
        assert!(!text.contains("S3cret"), "{format}:\n{text}");
        for shown in [
            "spark.ssl.trustStorePassword\t********",
            "+spark.ssl.keyStorePassword ********",
            "+spark.authenticate.secret ********",
            "<parameter name=\"groupPassword\">********</parameter>",
            "<Property name=\"ConnectionPassword\">********</Property>",
            "<trustStorePassword>********</trustStorePassword>",
            // A key that names no secret keeps its value in sight.
            "<Property name=\"MaxUserNameListLength\">100</Property>",
            "carbon.spark.master.count  2",
        ] {
            let shown = match format {
                "json" => serde_json::to_string(shown)
                    .unwrap()
                    .trim_matches('"')
                    .to_string(),
                _ => shown.to_string(),
            };
            assert!(text.contains(&shown), "{format}: {shown}\n{text}");
        }
    }
}

/// Diffing the masked texts showed a changed password as an unchanged line,
/// and a plan that changed nothing else read "+0 -0".
#[test]
fn a_changed_password_shows_as_a_changed_line_masked() {
    let h = homes();
    replace_in(
        &h.node1,
        "repository/conf/datasources/master-datasources.xml",
        " svns:secretAlias=\"Datasources.EXAMPLE.Password\"",
        "",
    );
    let text = plan_on_node1(
        "[[datasource]]\nname = \"EXAMPLE_CARBON_DB\"\npassword = \"${env:CARBON_PATCH_TEST_SECRET}\"\n\
         [nodes.node1]\nhome = \"x\"\n",
        &h.node1,
        &[],
        &[("CARBON_PATCH_TEST_SECRET", "a-new-db-secret")],
    );
    assert!(!text.contains("a-new-db-secret"), "{text}");
    let password = "<password>********</password>";
    assert!(
        text.contains(&format!("\n-{}{password}\n", " ".repeat(20))),
        "{text}"
    );
    assert!(
        text.contains(&format!("\n+{}{password}\n", " ".repeat(20))),
        "{text}"
    );
    assert!(text.contains("+1 -1 lines"), "{text}");
}
