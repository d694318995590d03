//! The policy as one matrix: each kind of name, in each form it takes,
//! secret or not; then the recipe's own secrets.

use super::*;

/// Names of secrets, each in every form a file gives a name.
const SECRET_NAMES: &[&str] = &[
    "password",
    "DBPassword",
    "svn_PASSWD",
    "db_pwd",
    "keystorePass",
    "connection_password",
    "clientSecret",
    "ConsumerSecret",
    "client_secret",
    "accessToken",
    "Credential",
    "userCredentials",
    "secretKey",
    "clientSecrets",
    "Passwords",
];

/// Names that are no secret's, though some hold a secret's word.
const PLAIN_NAMES: &[&str] = &[
    "username",
    "passwordDigest",
    "PasswordJavaRegEx",
    "passing",
    "bypassed",
    "ConsumerKey",
    "KeyAlias",
    "SecretAlias",
    "TokenEndpoint",
    "EncryptPersistedTokens",
    "",
];

/// Each form a name takes on disk, with the value `v4lue` and what it
/// shows masked.
fn forms(name: &str) -> Vec<(String, String)> {
    [
        ("<{n}>v4lue</{n}>", "<{n}>********</{n}>"),
        ("<!-- <{n}>v4lue</{n}> -->", "<!-- <{n}>********</{n}> -->"),
        (
            "<x:{n}><![CDATA[v4lue]]></x:{n}>",
            "<x:{n}><![CDATA[********]]></x:{n}>",
        ),
        (
            "<Property name=\"{n}\">v4lue</Property>",
            "<Property name=\"{n}\">********</Property>",
        ),
        (
            "<property key=\"{n}\" value=\"v4lue\"/>",
            "<property key=\"{n}\" value=\"********\"/>",
        ),
        (
            "<Connector {n}=\"v4lue\"/>",
            "<Connector {n}=\"********\"/>",
        ),
        (
            "<url>jdbc:x://h/db?u=a&amp;{n}=v4lue</url>",
            "<url>jdbc:x://h/db?u=a&amp;{n}=********</url>",
        ),
        ("spark.ssl.{n}  v4lue\n", "spark.ssl.{n}  ********\n"),
    ]
    .iter()
    .map(|(text, masked)| (text.replace("{n}", name), masked.replace("{n}", name)))
    .collect()
}

#[test]
fn a_secrets_name_masks_its_value_in_every_form() {
    for name in SECRET_NAMES {
        assert!(is_secret_name(name.as_bytes()), "{name}");
        assert!(names_a_secret(&format!("spark.ssl.{name}")), "{name}");
        assert!(is_secret_key(name), "{name}");
        assert!(is_secret_variable(&name.to_uppercase()), "{name}");
        for (text, masked) in forms(name) {
            assert_eq!(mask(&text, &Secrets::default()), masked, "{name}");
        }
    }
}

#[test]
fn other_names_keep_their_value_in_every_form() {
    for name in PLAIN_NAMES.iter().filter(|n| !n.is_empty()) {
        assert!(!is_secret_name(name.as_bytes()), "{name}");
        assert!(!names_a_secret(&format!("spark.ssl.{name}")), "{name}");
        for (text, _) in forms(name) {
            assert_eq!(mask(&text, &Secrets::default()), text, "{name}");
        }
    }
    assert!(!is_secret_name(b""));
}

#[test]
fn names_a_person_chose_are_secret_on_any_hint() {
    for key in [
        " \"password\" ",
        "pasword",
        "passwrod",
        "vars.api_key",
        "client-secret",
        "PasswordDigest",
    ] {
        assert!(is_secret_key(key), "{key}");
    }
    for key in [
        "name",
        "url",
        "username",
        "keystore_file",
        "offset",
        "hostname",
    ] {
        assert!(!is_secret_key(key), "{key}");
    }
    for name in ["DB_PW", "API_KEY", "Svn_Pwd", "AUTH_TOKEN"] {
        assert!(is_secret_variable(name), "{name}");
    }
    for name in ["DB_HOST", "HOME", "USER", "PORT_OFFSET"] {
        assert!(!is_secret_variable(name), "{name}");
    }
}

#[test]
fn short_secrets_are_masked_where_they_stand_alone() {
    let secrets = Secrets::new(&["p".into(), "wso2".into()]);
    assert_eq!(
        mask(
            "repository/conf: jdbc:mysql://u:p@h/db wso2 org.wso2.carbon wso2carbon",
            &secrets
        ),
        "repository/conf: jdbc:mysql://u:********@h/db ******** org.********.carbon wso2carbon"
    );
    // Six characters and more: inside words too.
    assert_eq!(
        mask("x=s3cretSuffix", &Secrets::new(&["s3cret".into()])),
        "x=********Suffix"
    );
}

#[test]
fn recipe_secrets_are_masked_anywhere() {
    assert_eq!(
        mask(
            "url=jdbc:x?password=s3cret",
            &Secrets::new(&["s3cret".into()])
        ),
        "url=jdbc:x?password=********"
    );
    assert_eq!(
        mask("nothing here", &Secrets::new(&["".into()])),
        "nothing here"
    );
}

#[test]
fn recipe_secrets_are_masked_as_the_file_holds_them() {
    let secret = Secrets::new(&["s3cr&t<\"x".to_string()]);
    assert_eq!(
        mask("<url>jdbc:x?password=s3cr&amp;t&lt;\"x</url>", &secret),
        "<url>jdbc:x?password=********</url>"
    );
    assert_eq!(
        mask("<p v=\"s3cr&amp;t&lt;&quot;x\"/>", &secret),
        "<p v=\"********\"/>"
    );
}

#[test]
fn a_secret_inside_a_longer_one_leaves_none_of_it_showing() {
    let secrets = Secrets::new(&["pass".into(), "pass&x".into()]);
    assert_eq!(
        mask("<u>pass&amp;x</u> pass", &secrets),
        "<u>********</u> ********"
    );
}

#[test]
fn a_password_in_a_urls_user_information_is_masked() {
    let cases = [
        (
            "<SvnUrl>https://deployer:Hunter2@svn.example.org/repos/</SvnUrl>",
            "<SvnUrl>https://deployer:********@svn.example.org/repos/</SvnUrl>",
        ),
        (
            "jdbc:mysql://u:p@h:3306/db",
            "jdbc:mysql://u:********@h:3306/db",
        ),
        // No password, or no user information: as it is.
        (
            "https://deployer@svn/x https://h:8443/x",
            "https://deployer@svn/x https://h:8443/x",
        ),
    ];
    for (text, masked) in cases {
        assert_eq!(mask(text, &Secrets::default()), masked, "{text}");
    }
}

#[test]
fn a_password_in_an_oracle_url_is_masked() {
    let cases = [
        (
            "<url>jdbc:oracle:thin:scott/Tiger-S3cret@10.0.0.100:1521:orcl</url>",
            "<url>jdbc:oracle:thin:scott/********@10.0.0.100:1521:orcl</url>",
        ),
        (
            "<url>jdbc:oracle:oci:app/\"p@ss\"@db</url>",
            "<url>jdbc:oracle:oci:app/********@db</url>",
        ),
        (
            "jdbc:oracle:thin:u/p@//h:1521/svc jdbc:oracle:thin:v/q@h",
            "jdbc:oracle:thin:u/********@//h:1521/svc jdbc:oracle:thin:v/********@h",
        ),
        (
            "<url>jdbc:oracle:thin:scott/&quot;p@ss&quot;@db</url> x=\"jdbc:oracle:thin:u/\\\"a@b\\\"@h\"",
            "<url>jdbc:oracle:thin:scott/********@db</url> x=\"jdbc:oracle:thin:u/********@h\"",
        ),
        (
            "url=jdbc\\:oracle\\:thin\\:scott/tiger@db\nJDBC:ORACLE:THIN:SCOTT/TIGER@DB",
            "url=jdbc\\:oracle\\:thin\\:scott/********@db\nJDBC:ORACLE:THIN:SCOTT/********@DB",
        ),
        (
            "<url>jdbc:oracle:thin:scott/\"my pass\"@db</url>",
            "<url>jdbc:oracle:thin:scott/********@db</url>",
        ),
        (
            "jdbc:Oracle:thin:scott/Tiger1@db1 Jdbc:oracle:thin:s/T2@db2 jdbc:oracle\\:thin\\:s/T3@db3",
            "jdbc:Oracle:thin:scott/********@db1 Jdbc:oracle:thin:s/********@db2 jdbc:oracle\\:thin\\:s/********@db3",
        ),
        (
            "<url>jdbc:oracle:thin:scott/&#34;T4@S&#34;@db4</url><url>jdbc:oracle:thin:s/&#x22;T5@S&#x22;@db5</url>",
            "<url>jdbc:oracle:thin:scott/********@db4</url><url>jdbc:oracle:thin:s/********@db5</url>",
        ),
        (
            "<url>jdbc:oracle:thin:s/&#034;T6@S&#034;@d</url><url>jdbc:oracle:thin:s/\"p>ss@1\"@db</url>",
            "<url>jdbc:oracle:thin:s/********@d</url><url>jdbc:oracle:thin:s/********@db</url>",
        ),
        // A mention in prose is no URL; what follows it is left alone.
        (
            "<!-- a jdbc:oracle: URL goes here -->\n<url>jdbc:mysql://db/regdb?user=reg@x</url>",
            "<!-- a jdbc:oracle: URL goes here -->\n<url>jdbc:mysql://db/regdb?user=reg@x</url>",
        ),
        // No user, or no password: as it is.
        (
            "<url>jdbc:oracle:thin:@//db.example.org:1521/orcl</url>",
            "<url>jdbc:oracle:thin:@//db.example.org:1521/orcl</url>",
        ),
        (
            "<url>jdbc:oracle:thin:@db:1521/orcl</url> jdbc:oracle:thin:scott@db",
            "<url>jdbc:oracle:thin:@db:1521/orcl</url> jdbc:oracle:thin:scott@db",
        ),
    ];
    for (text, masked) in cases {
        assert_eq!(mask(text, &Secrets::default()), masked, "{text}");
    }
    // A line of many prefixes and no password (a planted file): masked as
    // it is, each prefix read only a short way (this test would take
    // minutes if each were read to the line's end).
    let planted = "jdbc:oracle:t:a/".repeat(64 * 1024);
    assert_eq!(mask(&planted, &Secrets::default()), planted);
}

#[test]
fn a_quoted_value_over_several_lines_keeps_its_lines() {
    let text = "<Connector keystorePass=\"first\n  second\" port=\"1\"/>";
    assert_eq!(
        mask(text, &Secrets::default()),
        "<Connector keystorePass=\"********\n  ********\" port=\"1\"/>"
    );
}
