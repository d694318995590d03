//! Control characters from recipes and homes never reach the terminal raw:
//! a node name, a file name, a line of a home's file or an error shows each
//! one escaped (`\u{1b}`, `\n`), in every text the binary prints. Only
//! line feeds that end lines, tabs, and carbon-patch's own colours (with
//! `--color=always`) are written as they are.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A node name that tries to colour the terminal and print a line of its own.
const EVIL_NODE: &str = "node\u{1b}[31m\nwrote x: y";
/// How it must show.
const EVIL_NODE_SHOWN: &str = "node\\u{1b}[31m\\nwrote x: y";

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carbon-patch"));
    cmd.env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .env_remove("CARBON_PATCH_FAIL_AFTER_WRITES");
    cmd
}

/// A copy of the sample home in a temporary folder (kept as long as the guard).
fn home() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    golden::copy_tree(
        &golden::workspace_root().join("fixtures/homes/carbon-4.4"),
        &home,
    );
    (dir, home)
}

/// `recipe` written beside `home` (its `home` key then reads `"home"`).
fn recipe(home: &Path, recipe: &str) -> PathBuf {
    let path = home.parent().unwrap().join("recipe.toml");
    std::fs::write(&path, recipe).unwrap();
    path
}

fn run(args: &[&str], recipe: &Path) -> Output {
    let (command, rest) = args.split_first().unwrap();
    bin().arg(command).arg(recipe).args(rest).output().unwrap()
}

/// Stdout and stderr as text, after checking that neither holds a control
/// character but line feeds and tabs (and, with `colors`, carbon-patch's own
/// colour sequences). A diff line of a CRLF file ends in `\r\n`, as the
/// file's line does.
fn shown(out: &Output, colors: bool) -> (String, String) {
    let text = |bytes: &[u8], stream: &str| {
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        let mut rest = text.replace("\r\n", "\n");
        if colors {
            for own in ["\u{1b}[31m", "\u{1b}[32m", "\u{1b}[36m", "\u{1b}[0m"] {
                rest = rest.replace(own, "");
            }
        }
        let bidirectional =
            |c: char| matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        let raw = rest
            .chars()
            .find(|&c| (c.is_control() && c != '\n' && c != '\t') || bidirectional(c));
        assert_eq!(raw, None, "a raw control character in {stream}:\n{text}");
        text
    };
    (text(&out.stdout, "stdout"), text(&out.stderr, "stderr"))
}

#[test]
fn a_node_name_shows_escaped_in_plans_applies_and_errors() {
    let (_dir, home) = home();
    let recipe = recipe(
        &home,
        &format!(
            "manual = [\"clear\\u001b[2J the screen\"]\n[server]\nhostname = \"node1.example.com\"\n\
             [nodes.\"{}\"]\nhome = \"home\"\n",
            EVIL_NODE.replace('\u{1b}', "\\u001b").replace('\n', "\\n")
        ),
    );
    let (stdout, _) = shown(&run(&["plan"], &recipe), false);
    let head = format!("== node {EVIL_NODE_SHOWN}: {}", home.display());
    assert!(stdout.starts_with(&head), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "\n--- {EVIL_NODE_SHOWN}: repository/conf/carbon.xml\n+++ {EVIL_NODE_SHOWN}: repository/conf/carbon.xml\n"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n  - clear\\u{1b}[2J the screen\n"),
        "{stdout}"
    );
    let (colored, _) = shown(&run(&["plan", "--color=always"], &recipe), true);
    assert!(colored.contains("\u{1b}[32m+"), "{colored}");

    let out = run(&["apply"], &recipe);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (stdout, _) = shown(&out, false);
    assert_eq!(
        stdout,
        format!(
            "wrote {EVIL_NODE_SHOWN}: repository/conf/carbon.xml\n\
             {EVIL_NODE_SHOWN}: warning: repository/conf/datasources/master-datasources.xml:22:9: \
             datasource EXAMPLE_STORE_DB (no JNDI name) is not referenced by any configuration file\n\
             Still to do by hand (not edits to a home):\n  - clear\\u{{1b}}[2J the screen\n\
             Applied: 1 file(s) on 1 node(s)\n"
        )
    );
    assert!(
        !stdout.lines().any(|l| l.starts_with("wrote x")),
        "{stdout}"
    );

    // An error about the node names it escaped too.
    std::fs::remove_file(home.join("repository/conf/carbon.xml")).unwrap();
    std::fs::remove_file(home.join("repository/conf/axis2/axis2.xml")).unwrap();
    let out = run(&["plan"], &recipe);
    assert_eq!(out.status.code(), Some(1));
    let (_, stderr) = shown(&out, false);
    assert!(
        stderr.starts_with(&format!(
            "carbon-patch: node {EVIL_NODE_SHOWN} ({}): {}: not a WSO2 Carbon home",
            home.display(),
            home.display()
        )),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn escape_sequences_in_a_homes_files_show_escaped_in_the_diff() {
    let (_dir, home) = home();
    let spark = home.join("repository/conf/analytics/spark/spark-defaults.conf");
    // A CRLF file: its own line endings show as they are; the lone carriage
    // return inside a line would put `fake` over the line before it.
    let text = std::fs::read_to_string(&spark).unwrap().replace(
        "carbon.spark.master.count  1\r\n",
        "# \u{1b}]0;owned\u{7}\u{1b}[2J\rfake\r\ncarbon.spark.master.count  1\r\n",
    );
    std::fs::write(&spark, text).unwrap();
    // XML holds no C0 control but the line breaks and tab, yet DEL and C1
    // (U+009B is a terminal's CSI) are allowed.
    let carbon = home.join("repository/conf/carbon.xml");
    let mut bytes = std::fs::read(&carbon).unwrap();
    let at = bytes
        .windows(13)
        .position(|w| w == b"<!--HostName>")
        .unwrap();
    // carbon.xml is ISO-8859-1: one byte each.
    bytes.splice(at..at, b"<!-- \x9b31m\x7f -->\n    ".iter().copied());
    std::fs::write(&carbon, bytes).unwrap();
    let recipe = recipe(
        &home,
        "[spark]\n\"carbon.spark.master.count\" = \"2\"\n[server]\nhostname = \"h.example.com\"\n\
         [nodes.node1]\nhome = \"home\"\n",
    );
    let out = run(&["plan"], &recipe);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (stdout, _) = shown(&out, false);
    assert!(
        stdout.contains(
            "\n # \\u{1b}]0;owned\\u{7}\\u{1b}[2J\\r\n fake\r\n-carbon.spark.master.count  1\r\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n     <!-- \\u{9b}31m\\u{7f} -->\n-    <!--HostName>"),
        "{stdout}"
    );
    let (colored, _) = shown(&run(&["plan", "--color=always"], &recipe), true);
    assert!(colored.contains("\\u{1b}]0;owned"), "{colored}");
    let (check, _) = shown(&run(&["check"], &recipe), false);
    assert!(check.contains("\\u{1b}[2J"), "{check}");
}

#[test]
fn a_file_name_with_control_characters_shows_escaped() {
    let (_dir, home) = home();
    // Escapes, a line feed and a right-to-left override.
    let name = "evil\u{1b}[31m\nwrote x\u{202e}lmx.x-datasources.xml";
    let shown_name = "evil\\u{1b}[31m\\nwrote x\\u{202e}lmx.x-datasources.xml";
    let datasources = home.join("repository/conf/datasources");
    std::fs::write(
        datasources.join(name),
        "<datasources-configuration>\n    <datasources>\n        <datasource>\n            \
         <name>EVIL_DB</name>\n            <definition type=\"RDBMS\">\n                \
         <configuration>\n                    <url>jdbc:h2:mem:evil</url>\n                \
         </configuration>\n            </definition>\n        </datasource>\n    </datasources>\n\
         </datasources-configuration>\n",
    )
    .unwrap();
    let recipe = recipe(
        &home,
        &format!(
            "[[datasource]]\nname = \"EVIL_DB\"\nfile = \"{}\"\nusername = \"u\"\n[nodes.node1]\nhome = \"home\"\n",
            name.replace('\u{1b}', "\\u001b")
                .replace('\n', "\\n")
                .replace('\u{202e}', "\\u202e")
        ),
    );
    let out = run(&["plan"], &recipe);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (stdout, _) = shown(&out, false);
    let rel = format!("repository/conf/datasources/{shown_name}");
    assert!(
        stdout.contains(&format!("\n--- node1: {rel}\n+++ node1: {rel}\n")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "\nwarning: {rel}:3:9: datasource EVIL_DB (no JNDI name) is not referenced by any configuration file\n"
        )),
        "{stdout}"
    );
    let out = run(&["apply"], &recipe);
    let (stdout, _) = shown(&out, false);
    assert_eq!(
        stdout,
        format!(
            "wrote node1: {rel}\n\
             node1: warning: {rel}:3:9: datasource EVIL_DB (no JNDI name) is not referenced by any \
             configuration file\n\
             node1: warning: repository/conf/datasources/master-datasources.xml:22:9: datasource \
             EXAMPLE_STORE_DB (no JNDI name) is not referenced by any configuration file\n\
             Applied: 1 file(s) on 1 node(s)\n"
        )
    );

    // inspect lists the file with each datasource.
    let out = bin().arg("inspect").arg(&home).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (stdout, _) = shown(&out, false);
    assert!(
        stdout.contains(&format!(
            "\n  EVIL_DB (-) jdbc:h2:mem:evil user=u password=-  [{rel}]\n"
        )),
        "{stdout}"
    );

    // A broken file is named escaped in the error.
    std::fs::write(datasources.join(name), "<datasources-configuration>").unwrap();
    let out = run(&["plan"], &recipe);
    assert_eq!(out.status.code(), Some(1));
    let (_, stderr) = shown(&out, false);
    assert!(
        stderr.contains(&format!("{}/{rel}:1:", home.display())),
        "{stderr}"
    );
    assert!(
        !stderr.lines().any(|l| l.starts_with("wrote x")),
        "{stderr}"
    );
}

#[test]
fn json_output_holds_the_text_exactly_escaped_as_json() {
    let (_dir, home) = home();
    let recipe = recipe(
        &home,
        &format!(
            "[server]\nhostname = \"node1.example.com\"\n[nodes.\"{}\"]\nhome = \"home\"\n",
            EVIL_NODE.replace('\u{1b}', "\\u001b").replace('\n', "\\n")
        ),
    );
    let out = run(&["plan", "--format=json"], &recipe);
    let (stdout, _) = shown(&out, false);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["nodes"][0]["name"], EVIL_NODE);
    assert!(stdout.contains("node\\u001b[31m\\nwrote x: y"), "{stdout}");

    // A right-to-left override in a home's value: escaped in JSON too
    // (`shown` refuses it raw), and read back as it is.
    let carbon_xml = home.join("repository/conf/carbon.xml");
    let text = std::fs::read(&carbon_xml).unwrap();
    let text = String::from_utf8_lossy(&text).replacen(
        "<Offset>0</Offset>",
        "<Offset>0</Offset><!-- \u{202e}gnp.exe -->",
        1,
    );
    std::fs::write(&carbon_xml, text).unwrap();
    let recipe = self::recipe(
        &home,
        "[server]\noffset = 3\n[nodes.node1]\nhome = \"home\"\n",
    );
    let out = run(&["plan", "--format=json"], &recipe);
    let (stdout, _) = shown(&out, false);
    assert!(stdout.contains("\\u202egnp.exe"), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let diff = report["nodes"][0]["files"][0]["diff"].as_str().unwrap();
    assert!(diff.contains("\u{202e}gnp.exe"), "{diff}");
}
