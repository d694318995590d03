//! The built binary, end to end, on copies of the sample home.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carbon-patch"));
    cmd.current_dir(golden::workspace_root());
    cmd.env_remove("NO_COLOR")
        .env_remove("CARBON_PATCH_FAIL_AFTER_WRITES");
    cmd
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Two copies of the sample home, as node1 and node2.
struct Homes {
    _dir: tempfile::TempDir,
    node1: PathBuf,
    node2: PathBuf,
}

fn homes() -> Homes {
    let dir = tempfile::tempdir().unwrap();
    let fixture = golden::workspace_root().join("fixtures/homes/carbon-4.4");
    let copy = |name: &str| {
        let root = dir.path().join(name);
        golden::copy_tree(&fixture, &root);
        root
    };
    let (node1, node2) = (copy("node1"), copy("node2"));
    Homes {
        _dir: dir,
        node1,
        node2,
    }
}

fn home_args(h: &Homes, args: &mut Vec<String>) {
    args.push(format!("--home=node1={}", h.node1.display()));
    args.push(format!("--home=node2={}", h.node2.display()));
}

fn with_homes(h: &Homes, command: &str, extra: &[&str]) -> Output {
    let mut args = vec![command.to_string(), "examples/quickstart.toml".to_string()];
    home_args(h, &mut args);
    args.extend(extra.iter().map(|s| s.to_string()));
    bin().args(&args).output().unwrap()
}

/// `carbon-patch COMMAND RECIPE --home=node1=HOME`: a recipe the test wrote,
/// run on one copy of the sample home (add arguments or environment to it).
fn on_node1(command: &str, recipe: &Path, home: &Path) -> Command {
    let mut cmd = bin();
    cmd.arg(command)
        .arg(recipe)
        .arg(format!("--home=node1={}", home.display()));
    cmd
}

/// A recipe of the test's own, `text` written to `name` in a temporary
/// directory (kept as long as the returned guard).
fn recipe_file(name: &str, text: impl AsRef<[u8]>) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// The output of a successful `plan` of a recipe of the test's own (its
/// text) on one copy of the sample home, with `env` set.
fn plan_on_node1(recipe: &str, home: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let (_dir, path) = recipe_file("recipe.toml", recipe);
    let out = on_node1("plan", &path, home)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

/// Replaces `from` with `to` in the home's file `rel`, which must hold it
/// (else the test would go on against a file it did not change).
fn replace_in(home: &Path, rel: &str, from: &str, to: &str) {
    let path = home.join(rel);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{rel} holds no {from:?}");
    std::fs::write(&path, text.replace(from, to)).unwrap();
}

/// Every file under `root` with its bytes and modification time.
fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>, std::time::SystemTime)> {
    // The lock file stays between runs and names the last one's pid.
    let lock = root.join(".carbon-patch/lock");
    let mut files: Vec<_> = walkdir::WalkDir::new(root)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file() && e.path() != lock)
        .map(|e| {
            let meta = e.metadata().unwrap();
            (
                e.path().to_path_buf(),
                std::fs::read(e.path()).unwrap(),
                meta.modified().unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn plan_prints_the_golden_diff_and_writes_nothing() {
    let before = snapshot(&golden::workspace_root().join("fixtures/homes/carbon-4.4"));
    let out = run(&["plan", "examples/quickstart.toml", "--color=never"]);
    assert!(out.status.success(), "{}", stderr(&out));
    golden::assert_golden("cli/plan-quickstart.txt", &stdout(&out).replace('\r', "␍"));
    assert_eq!(
        snapshot(&golden::workspace_root().join("fixtures/homes/carbon-4.4")),
        before
    );
}

/// `--color=auto` reads the environment as other programs do: off through
/// a pipe, on with CLICOLOR_FORCE, and NO_COLOR turns it off even then.
#[test]
fn color_follows_no_color_and_clicolor_force() {
    let plan = |env: &[(&str, &str)]| {
        let out = bin()
            .args(["plan", "examples/quickstart.toml"])
            .env_remove("CLICOLOR_FORCE")
            .env_remove("CLICOLOR")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let green = "\u{1b}[32m+";
    assert!(!plan(&[]).contains('\u{1b}'));
    assert!(plan(&[("CLICOLOR_FORCE", "1")]).contains(green));
    assert!(!plan(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains('\u{1b}'));
}

#[test]
fn apply_then_check_passes_and_a_second_apply_writes_nothing() {
    let h = homes();
    let out = with_homes(&h, "check", &[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "drift before apply: {}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("drift: the homes differ from the recipe"));

    let out = with_homes(&h, "apply", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Applied: 8 file(s) on 2 node(s)"),
        "{}",
        stdout(&out)
    );

    let out = with_homes(&h, "check", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );

    let (one, two) = (snapshot(&h.node1), snapshot(&h.node2));
    let out = with_homes(&h, "apply", &[]);
    assert!(
        stdout(&out).contains("Applied: 0 file(s) on 2 node(s)"),
        "{}",
        stdout(&out)
    );
    assert_eq!(snapshot(&h.node1), one, "no file rewritten, mtimes kept");
    assert_eq!(snapshot(&h.node2), two);
}

/// A value holding line breaks (a secret from the environment, a raw text,
/// an attribute, the text of inserted markup) is written exactly as given,
/// and `check` reads it back as it is: in sync only when it is.
#[test]
fn values_with_line_breaks_are_written_as_given_and_read_back_exactly() {
    let h = homes();
    let (_dir, recipe) = recipe_file(
        "values.toml",
        "[[datasource]]\nname = \"NEW_DB\"\nurl = \"jdbc:mysql://h:3306/x\"\nusername = \"u\"\n\
         password = \"${env:CARBON_PATCH_TEST_DB_PASSWORD}\"\n\
         [[raw]]\nfile = \"repository/conf/carbon.xml\"\npath = \"/Server/Name\"\n\
         action = \"set_attribute\"\nattribute = \"note\"\nvalue = \"a\\nb\\tc\"\n\
         [[raw]]\nfile = \"repository/conf/carbon.xml\"\npath = \"/Server/Version\"\n\
         action = \"set_text\"\nvalue = \"4.4.0\\n\"\n\
         [[raw]]\nfile = \"repository/conf/carbon.xml\"\npath = \"/Server\"\n\
         action = \"insert\"\nmarkup = \"<Extra>\\n  line1\\n line2\\n</Extra>\"\n\
         [nodes.node1]\nhome = \"x\"\n",
    );
    let run = |command: &str| {
        on_node1(command, &recipe, &h.node1)
            .env("CARBON_PATCH_TEST_DB_PASSWORD", "sec\nret\n")
            .output()
            .unwrap()
    };
    let out = run("apply");
    assert!(out.status.success(), "{}", stderr(&out));
    let conf = h.node1.join("repository/conf");
    let datasources =
        std::fs::read_to_string(conf.join("datasources/master-datasources.xml")).unwrap();
    assert!(
        datasources.contains("\n                    <password>sec\nret\n</password>\n"),
        "{datasources}"
    );
    let carbon: String = std::fs::read(conf.join("carbon.xml"))
        .unwrap()
        .into_iter()
        .map(char::from)
        .collect();
    for written in [
        "<Name note=\"a&#10;b&#9;c\">Example Server</Name>",
        "<Version>4.4.0\n</Version>",
        "\n    <Extra>\n  line1\n line2\n</Extra>\n</Server>",
    ] {
        assert!(carbon.contains(written), "{written:?} in:\n{carbon}");
    }
    let out = run("check");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let before = snapshot(&h.node1);
    let out = run("apply");
    assert!(
        stdout(&out).contains("Applied: 0 file(s) on 1 node(s)"),
        "{}",
        stdout(&out)
    );
    assert_eq!(snapshot(&h.node1), before);
    // A file whose value differs only in its spaces is not in sync.
    // (carbon.xml is ISO-8859-1: its bytes, not a UTF-8 string.)
    let spaced = carbon.replace("  line1", "    line1");
    std::fs::write(
        conf.join("carbon.xml"),
        spaced.chars().map(|c| c as u8).collect::<Vec<u8>>(),
    )
    .unwrap();
    assert_eq!(run("check").status.code(), Some(2));
}

#[test]
fn a_failed_write_midway_restores_every_file() {
    let h = homes();
    let (one, two) = (snapshot(&h.node1), snapshot(&h.node2));
    let mut args = vec!["apply".to_string(), "examples/quickstart.toml".to_string()];
    home_args(&h, &mut args);
    let out = bin()
        .args(&args)
        .env("CARBON_PATCH_FAIL_AFTER_WRITES", "5")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("injected write failure"), "{err}");
    assert!(
        err.starts_with(
            "carbon-patch: nothing was changed: the 5 file(s) written before the failure were restored"
        ),
        "{err}"
    );
    let strip = |s: Vec<(PathBuf, Vec<u8>, std::time::SystemTime)>| -> Vec<(PathBuf, Vec<u8>)> {
        s.into_iter().map(|(p, b, _)| (p, b)).collect()
    };
    assert_eq!(strip(snapshot(&h.node1)), strip(one));
    assert_eq!(strip(snapshot(&h.node2)), strip(two));
}

/// A warning's `file:line:column` is where its element starts in the file
/// as the apply writes it, so an editor opened there after the apply lands
/// on it (the new side of the plan's diff).
#[test]
fn a_warning_points_at_its_element_in_the_file_as_written() {
    let h = homes();
    let out = with_homes(&h, "plan", &["--color=never"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let out = with_homes(&h, "apply", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut seen = 0;
    let mut node = &h.node1;
    for line in text.lines() {
        if line.starts_with("== node node2") {
            node = &h.node2;
        }
        let Some(rest) = line.strip_prefix("warning: ") else {
            continue;
        };
        let mut parts = rest.splitn(4, ':');
        let (file, row, column) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let written = std::fs::read_to_string(node.join(file)).unwrap();
        let row: usize = row.parse().unwrap_or_else(|_| panic!("no line in {line}"));
        let column: usize = column
            .parse()
            .unwrap_or_else(|_| panic!("no column in {line}"));
        let at: String = written
            .lines()
            .nth(row - 1)
            .unwrap()
            .chars()
            .skip(column - 1)
            .collect();
        let expected = if line.contains(" uses ") {
            "<driverClassName>"
        } else {
            "<datasource>"
        };
        assert!(
            at.starts_with(expected),
            "{line}: the file has {at:?} there"
        );
        seen += 1;
    }
    // Per node: the sample's unused store, and the recipe's MySQL datasource without its jar.
    assert_eq!(seen, 4, "{text}");
}

/// A plan that breaks a reference between files stops before anything is
/// written; its errors name the place in the file as the plan would write
/// it (where the new dbConfig is, not the line 14 of the home as it is).
#[test]
fn a_broken_reference_stops_the_apply_and_names_its_place() {
    let h = homes();
    let (_dir, recipe) = recipe_file(
        "broken.toml",
        "[registry]\n[[registry.db_config]]\nname = \"gov\"\ndata_source = \"jdbc/Missing\"\n\n\
         [nodes.node1]\nhome = \"x\"\n",
    );
    let before = snapshot(&h.node1);
    let out = on_node1("apply", &recipe, &h.node1).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "carbon-patch: nothing was written: node node1 ({}): 2 problem(s) found in the files as the plan would write them:\n  \
             error: repository/conf/registry.xml:14:9: dbConfig gov uses dataSource jdbc/Missing, which no active datasource defines\n  \
             warning: repository/conf/datasources/master-datasources.xml:22:9: datasource EXAMPLE_STORE_DB (no JNDI name) is not referenced by any configuration file\n",
            h.node1.display()
        )
    );
    assert_eq!(snapshot(&h.node1), before, "nothing written");
}

#[test]
fn backups_keep_the_originals() {
    let h = homes();
    let original = std::fs::read(h.node1.join("repository/conf/axis2/axis2.xml")).unwrap();
    let out = with_homes(&h, "apply", &["--backup", "--node", "node1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let backups: Vec<PathBuf> = std::fs::read_dir(h.node1.join(".carbon-patch/backups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(
        std::fs::read(backups[0].join("repository/conf/axis2/axis2.xml")).unwrap(),
        original
    );
    assert!(
        !h.node2.join(".carbon-patch").exists(),
        "--node node1 leaves node2 alone"
    );
}

#[test]
fn timings_go_to_stderr_phase_by_phase_and_leave_stdout_alone() {
    let h = homes();
    let out = with_homes(&h, "apply", &["--timings", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // stdout stays one JSON document, whatever goes to stderr.
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(json["command"], "apply");
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.first(), Some(&"timings (wall clock):"), "{err}");
    let phases: Vec<(&str, f64)> = lines[1..]
        .iter()
        .map(|line| {
            let (phase, ms) = line
                .trim()
                .rsplit_once("  ")
                .unwrap_or_else(|| panic!("{line:?}"));
            let ms = ms
                .trim()
                .strip_suffix(" ms")
                .unwrap_or_else(|| panic!("{line:?}"));
            (phase.trim(), ms.parse().unwrap())
        })
        .collect();
    let names: Vec<&str> = phases.iter().map(|(p, _)| *p).collect();
    assert_eq!(
        names,
        [
            "read the recipe",
            "lock, plan and stage every node",
            "commit: check the files are unchanged",
            "commit: write the journals",
            "commit: sync (staged files, journals)",
            "commit: rename the staged files",
            "commit: sync (renames)",
            "commit: remove the journals, kept originals and locks",
            "report",
            "total",
        ]
    );
    let (total, each) = phases.split_last().unwrap();
    let sum: f64 = each.iter().map(|(_, ms)| ms).sum();
    // Each figure, the total too, is rounded to 0.1 ms on its own.
    assert!((sum - total.1).abs() <= 0.05 * phases.len() as f64, "{err}");

    // Without the flag, nothing goes to stderr.
    let out = with_homes(&h, "apply", &[]);
    assert!(out.status.success());
    assert_eq!(stderr(&out), "");
}

#[test]
fn recipe_mistakes_exit_1_and_write_nothing() {
    let h = homes();
    let dir = tempfile::tempdir().unwrap();
    let recipe = dir.path().join("bad.toml");
    let before = snapshot(&h.node1);
    let cases: [(&str, &str); 4] = [
        ("[server]\noffest = 1\n[nodes.node1]\nhome = \"x\"\n", "did you mean `offset`?"),
        ("[clustering]\nlocal_member_host = \"10.0.0.5\"\nlocal_member_port = 4000\n[nodes.node1]\nhome = \"x\"\n[nodes.node2]\nhome = \"y\"\n", "nodes node1 and node2 would both listen for cluster members on 10.0.0.5:4000"),
        ("[server]\nhostname = \"${env:CARBON_PATCH_TEST_UNSET}\"\n[nodes.node1]\nhome = \"x\"\n", "environment variable CARBON_PATCH_TEST_UNSET is not set"),
        ("[[datasource]]\nname = \"X\"\njndi = \"jdbc/ExampleCarbonDB\"\nurl = \"jdbc:h2:mem:x\"\n[nodes.node1]\nhome = \"x\"\n", "JNDI name jdbc/ExampleCarbonDB is defined by 2 active datasources"),
    ];
    for (source, message) in cases {
        std::fs::write(&recipe, source).unwrap();
        let out = on_node1("apply", &recipe, &h.node1).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{source}");
        assert!(
            stderr(&out).contains(message),
            "{source}\n=> {}",
            stderr(&out)
        );
        assert_eq!(snapshot(&h.node1), before, "{source}");
        // A mistake in the recipe reads as `plan` shows it; one found in a
        // home says that no node was written.
        let in_recipe = !message.starts_with("JNDI");
        let recipe_first = format!("carbon-patch: {}:", recipe.display());
        assert_eq!(
            stderr(&out).starts_with(&recipe_first),
            in_recipe,
            "{}",
            stderr(&out)
        );
        assert_eq!(
            stderr(&out).starts_with("carbon-patch: nothing was written: node node1 ("),
            !in_recipe,
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn argument_errors_exit_1_so_that_2_always_means_drift() {
    for args in [
        vec!["plan"],
        vec!["plan", "examples/quickstart.toml", "--home", "node1"],
        vec!["plan", "examples/quickstart.toml", "--node", "node9"],
        vec![
            "plan",
            "examples/quickstart.toml",
            "--node",
            "node1",
            "--node",
            "node1",
        ],
        vec!["frobnicate"],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
    }
    let out = run(&[
        "apply",
        "examples/quickstart.toml",
        "--node=node1",
        "--node=node1",
    ]);
    assert_eq!(stderr(&out), "carbon-patch: --node node1 is given twice\n");
    let out = run(&["plan", "examples/quickstart.toml", "--node", "nod1"]);
    assert!(
        stderr(&out).contains("did you mean `node1`?"),
        "{}",
        stderr(&out)
    );
    let help = run(&["plan", "--help"]);
    assert!(help.status.success());
    assert!(stdout(&help).contains("Example:"));
    let completions = run(&["completions", "bash"]);
    assert!(completions.status.success() && stdout(&completions).contains("carbon-patch"));
}

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
fn an_error_in_a_home_shows_the_recipe_entry_that_asked_for_it() {
    let h = homes();
    let dir = tempfile::tempdir().unwrap();
    let recipe = dir.path().join("cluster.toml");
    let home = h.node1.display();
    let shown = recipe.display();
    // A datasources file the home does not have, in an entry whose line also
    // holds a password: the line is shown with the password masked.
    std::fs::write(
        &recipe,
        "[nodes.node1]\nhome = \"x\"\n\
         datasource = [{ name = \"X\", file = \"nosuch\", password = \"hunter22\" }]\n",
    )
    .unwrap();
    let out = on_node1("plan", &recipe, &h.node1).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "carbon-patch: node node1 ({home}): {home}/repository/conf/datasources/nosuch-datasources.xml: \
             no such file; this home's datasources files are: master-datasources.xml. \
             carbon-patch changes the files a product ships and creates none\n\
             {shown}:3:24: asked for here\n  |\n\
             3 | datasource = [{{ name = \"X\", file = \"nosuch\", password = ******** }}]\n  \
             |                        ^^^\n"
        )
    );
    // A [[raw]] path that matches nothing, among several entries: the
    // caret is on the one that failed, and apply says nothing was written.
    let raw = |path: &str| {
        format!("[[raw]]\nfile = \"repository/conf/carbon.xml\"\npath = \"{path}\"\naction = \"set_text\"\nvalue = \"1\"\n")
    };
    std::fs::write(
        &recipe,
        format!(
            "{}{}[nodes.node1]\nhome = \"x\"\n",
            raw("Name"),
            raw("Nope")
        ),
    )
    .unwrap();
    let before = snapshot(&h.node1);
    let out = on_node1("apply", &recipe, &h.node1).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "carbon-patch: nothing was written: node node1 ({home}): {home}/repository/conf/carbon.xml:"
        )),
        "{err}"
    );
    assert!(
        err.ends_with(&format!(
            ": no element matches \"Nope\"\n\
             {shown}:8:8: asked for here\n  |\n8 | path = \"Nope\"\n  |        ^^^^^^\n"
        )),
        "{err}"
    );
    assert_eq!(snapshot(&h.node1), before);
    // JSON's "error" is the same message, recipe lines and all.
    let out = on_node1("plan", &recipe, &h.node1)
        .arg("--format=json")
        .output()
        .unwrap();
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let err = stderr(&out);
    assert_eq!(
        Some(err.strip_prefix("carbon-patch: ").unwrap().trim_end()),
        value["error"].as_str()
    );
    assert!(err.contains("asked for here\n"), "{err}");
}

#[test]
fn json_follows_the_documented_schema() {
    let out = run(&["plan", "examples/quickstart.toml", "--format=json"]);
    assert!(out.status.success());
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["command"], "plan");
    assert_eq!(value["summary"]["nodes"], 2);
    let node = &value["nodes"][0];
    assert_eq!(node["name"], "node1");
    assert_eq!(node["changes"], true);
    let file = &node["files"][0];
    assert_eq!(file["path"], "repository/conf/axis2/axis2.xml");
    assert!(file["diff"]
        .as_str()
        .unwrap()
        .contains("+                enable=\"true\">"));
    assert!(node["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["changed"] == true));
    // Every key the output has is documented, at every level.
    let doc = std::fs::read_to_string(golden::workspace_root().join("docs/json.md")).unwrap();
    let objects = [
        &value,
        node,
        file,
        &node["outcomes"][0],
        &node["warning_details"][0],
        &value["summary"],
    ];
    for object in objects {
        for key in object.as_object().unwrap().keys() {
            assert!(
                doc.contains(&format!("\"{key}\":")),
                "docs/json.md does not document {key:?}"
            );
        }
    }
}

/// The one-line form of a finding (`warning: FILE:LINE:COLUMN: MESSAGE`)
/// rebuilt from its JSON parts.
fn one_line(finding: &serde_json::Value) -> String {
    let text = |key: &str| finding[key].as_str().unwrap().to_string();
    let at = match (finding["line"].as_u64(), finding["column"].as_u64()) {
        (Some(line), Some(column)) => format!(":{line}:{column}"),
        _ => String::new(),
    };
    format!(
        "{}: {}{at}: {}",
        text("severity"),
        text("file"),
        text("message")
    )
}

/// Each finding in `details` reads, rebuilt, as its one-line string in
/// `lines`: the same findings in the same order.
fn assert_details_match_lines(lines: &serde_json::Value, details: &serde_json::Value) {
    let (lines, details) = (lines.as_array().unwrap(), details.as_array().unwrap());
    assert_eq!(lines.len(), details.len());
    for (line, detail) in lines.iter().zip(details) {
        assert_eq!(line.as_str().unwrap(), one_line(detail));
    }
}

/// Scripts that point at a warning's file and line (a CI annotation) read
/// the parts, not the line: each finding in both forms, the same finding,
/// masked alike.
#[test]
fn json_findings_come_apart_into_file_line_column_and_message() {
    let h = homes();
    // A datasource nothing references, named from a secret variable.
    let json = plan_on_node1(
        "[[datasource]]\nname = \"${env:CARBON_PATCH_TEST_TOKEN}\"\njndi = \"jdbc/Spare\"\n\
         url = \"jdbc:h2:mem:spare\"\n[nodes.node1]\nhome = \"x\"\n",
        &h.node1,
        &["--format=json"],
        &[("CARBON_PATCH_TEST_TOKEN", "t0ken-very-secret")],
    );
    assert!(!json.contains("t0ken-very-secret"), "{json}");
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let node = &value["nodes"][0];
    assert_details_match_lines(&node["warnings"], &node["warning_details"]);
    let spare = node["warning_details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["message"].as_str().unwrap().contains("jdbc/Spare"))
        .expect("a warning about the datasource nothing references");
    assert_eq!(spare["severity"], "warning");
    assert_eq!(
        spare["file"],
        "repository/conf/datasources/master-datasources.xml"
    );
    assert!(spare["line"].as_u64().unwrap() > 1 && spare["column"].as_u64().unwrap() > 1);
    assert_eq!(
        spare["message"],
        "datasource ******** (jdbc/Spare) is not referenced by any configuration file"
    );

    // inspect's findings, likewise, masked in both forms and in the text: a
    // datasource nothing references, whose name quotes a password parameter.
    replace_in(
        &h.node1,
        "repository/conf/datasources/master-datasources.xml",
        "<name>EXAMPLE_STORE_DB</name>",
        "<name>STORE;password=S3cret-in-a-name</name>",
    );
    let home = h.node1.to_str().unwrap();
    let out = run(&["inspect", home, "--format=json"]);
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!value["finding_details"].as_array().unwrap().is_empty());
    assert_details_match_lines(&value["findings"], &value["finding_details"]);
    let findings = format!("{} {}", value["findings"], value["finding_details"]);
    assert!(
        findings.contains("datasource STORE;password=******** (no JNDI name)"),
        "{findings}"
    );
    assert!(!findings.contains("S3cret"), "{findings}");
    let text = stdout(&run(&["inspect", home]));
    let shown = &text[text.find("\nfindings:").expect("a findings section")..];
    assert!(shown.contains("STORE;password=********"), "{shown}");
    assert!(!shown.contains("S3cret"), "{shown}");
}

/// A plan that validation refuses: the findings that stopped it come apart
/// in `"error_details"` as the warnings do, masked as the message is.
#[test]
fn a_failed_validation_comes_apart_in_json_too() {
    let h = homes();
    let (_dir, recipe) = recipe_file(
        "refused.toml",
        "[user_store]\ndata_source = \"jdbc/${env:CARBON_PATCH_TEST_TOKEN}\"\n[nodes.node1]\nhome = \"x\"\n",
    );
    let before = snapshot(&h.node1);
    for command in ["plan", "apply"] {
        let out = on_node1(command, &recipe, &h.node1)
            .arg("--format=json")
            .env("CARBON_PATCH_TEST_TOKEN", "t0ken-very-secret")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let json = stdout(&out);
        assert!(!json.contains("t0ken-very-secret"), "{json}");
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let error = value["error"].as_str().unwrap();
        let details = value["error_details"].as_array().unwrap();
        // The message lists the same findings, one a line.
        for detail in details {
            assert!(
                error.contains(&format!("\n  {}", one_line(detail))),
                "{error}"
            );
        }
        let refused = &details[0];
        assert_eq!(refused["severity"], "error");
        assert_eq!(refused["file"], "repository/conf/user-mgt.xml");
        assert_eq!(
            refused["message"],
            "the user store uses dataSource jdbc/********, which no active datasource defines"
        );
    }
    assert_eq!(snapshot(&h.node1), before);
    // Other errors have no details.
    let out = run(&["plan", "no-such-recipe.toml", "--format=json"]);
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(value["error"].is_string() && value.get("error_details").is_none());
}

/// Scripts pipe `--format json` into jq: after an error stdout is still one
/// whole document, with the nodes shown before the error and `"error"`.
#[test]
fn json_after_an_error_is_a_whole_document_with_the_error() {
    let h = homes();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let node2 = format!("--home=node2={}", missing.display());
    let node1 = format!("--home=node1={}", h.node1.display());
    let parsed = |out: &Output| -> serde_json::Value {
        assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", stdout(out)))
    };
    let not_a_home = "not a WSO2 Carbon home";

    // node1 is planned and shown, node2's home does not exist.
    for command in ["plan", "check"] {
        let out = run(&[
            command,
            "examples/quickstart.toml",
            "--format=json",
            &node1,
            &node2,
        ]);
        let value = parsed(&out);
        assert_eq!(value["command"], command);
        assert_eq!(value["nodes"].as_array().unwrap().len(), 1);
        assert_eq!(value["nodes"][0]["name"], "node1");
        let error = value["error"].as_str().unwrap();
        assert!(error.contains(not_a_home), "{error}");
        assert!(stderr(&out).contains(error), "{}", stderr(&out));
        assert!(value.get("summary").is_none());
    }

    // apply shows nothing until everything is written, so nothing was.
    let before = snapshot(&h.node1);
    let out = run(&[
        "apply",
        "examples/quickstart.toml",
        "--format=json",
        &node1,
        &node2,
    ]);
    let value = parsed(&out);
    assert_eq!(value["nodes"], serde_json::json!([]));
    assert!(value["error"].as_str().unwrap().contains(not_a_home));
    assert_eq!(snapshot(&h.node1), before);

    // A recipe that does not load, and inspect.
    let out = run(&["plan", "no-such-recipe.toml", "--format=json"]);
    assert!(parsed(&out)["error"]
        .as_str()
        .unwrap()
        .contains("cannot read the recipe"));
    let out = run(&["inspect", missing.to_str().unwrap(), "--format=json"]);
    let value = parsed(&out);
    assert_eq!(value["command"], "inspect");
    assert!(value["error"].as_str().unwrap().contains(not_a_home));
}

/// A full disk under `> file` is named as standard output's, not taken for
/// a home's, and no command panics on it.
#[cfg(target_os = "linux")]
#[test]
fn a_full_standard_output_is_named_and_nothing_panics() {
    for args in [
        &["plan", "examples/quickstart.toml"][..],
        &["plan", "examples/quickstart.toml", "--format=json"],
        &["inspect", "fixtures/homes/carbon-4.4"],
        &["completions", "bash"],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = bin().args(args).stdout(full).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert_eq!(
            stderr(&out),
            "carbon-patch: cannot write to standard output: No space left on device (os error 28)\n",
            "{args:?}"
        );
    }
    // apply reports after everything is written: it says so.
    let h = homes();
    let mut args = vec!["apply".to_string(), "examples/quickstart.toml".to_string()];
    home_args(&h, &mut args);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = bin().args(&args).stdout(full).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("carbon-patch: applied: 8 file(s) on 2 node(s) were written, but not reported: cannot write to standard output"),
        "{}",
        stderr(&out)
    );
    assert!(with_homes(&h, "check", &[]).status.success());
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

#[test]
fn the_mb_guide_recipe_plans_against_the_sample_home() {
    let out = bin()
        .args(["plan", "examples/mb-two-nodes.toml", "--color=never"])
        .env("MB_DB_PASSWORD", "example-password")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains("example-password"));
    golden::assert_golden("cli/plan-mb-two-nodes.txt", &text.replace('\r', "␍"));
    // Without the password in the environment, the error names the variable.
    let out = bin()
        .args(["plan", "examples/mb-two-nodes.toml"])
        .env_remove("MB_DB_PASSWORD")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("environment variable MB_DB_PASSWORD is not set"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn every_example_plans_on_its_sample_homes_and_writes_nothing() {
    let fixtures = golden::workspace_root().join("fixtures/homes");
    let before = snapshot(&fixtures);
    let env = [
        ("MB_DB_PASSWORD", "pw-mb-example"),
        ("GREG_DB_PASSWORD", "pw-greg-example"),
        ("DAS_DB_PASSWORD", "pw-das-example"),
        ("ES_DB_PASSWORD", "pw-es-example"),
        ("ES_SVN_USER", "svnuser"),
        ("ES_SVN_PASSWORD", "pw-svn-example"),
        ("DSS_DB_PASSWORD", "pw-dss-example"),
    ];
    for recipe in [
        "mb-two-nodes",
        "greg-three-nodes",
        "das-distributed",
        "es-publisher-store",
        "dss-shared-registry",
        "quickstart",
    ] {
        let mut cmd = bin();
        cmd.args(["plan", &format!("examples/{recipe}.toml"), "--color=never"]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{recipe}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.contains("Summary:") && !text.contains("pw-"),
            "{recipe}"
        );
        if recipe != "quickstart" {
            assert!(text.contains("Still to do by hand"), "{recipe}");
        }
    }
    assert_eq!(snapshot(&fixtures), before);
}

/// Whether some process holds the `flock(2)` on the home's lock file.
#[allow(unsafe_code)] // flock through libc
fn lock_is_held(home: &Path) -> bool {
    let Ok(file) = std::fs::File::open(home.join(".carbon-patch/lock")) else {
        return false;
    };
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor this function owns, closed when `file` drops.
    let held = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) } != 0;
    held && std::io::Error::last_os_error().raw_os_error() == Some(libc::EWOULDBLOCK)
}

#[test]
#[allow(unsafe_code)] // flock through libc
fn a_held_lock_is_refused_and_a_released_one_taken() {
    let h = homes();
    let lock_dir = h.node1.join(".carbon-patch");
    std::fs::create_dir_all(&lock_dir).unwrap();
    // This test holds the lock, its file naming it as a holder's would.
    let lock = lock_dir.join("lock");
    let held = std::fs::File::create(&lock).unwrap();
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor `held` owns.
    assert_eq!(unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX) }, 0);
    std::fs::write(&lock, format!("{}\n", std::process::id())).unwrap();
    assert!(lock_is_held(&h.node1));
    let before = snapshot(&h.node1);
    let out = with_homes(&h, "apply", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "carbon-patch: nothing was written: node node1 ({home}): \
             another carbon-patch (pid {}) is applying to this home; run again when it has finished\n",
            std::process::id(),
            home = h.node1.display()
        )
    );
    assert_eq!(snapshot(&h.node1), before, "nothing written");
    // Released (as the kernel releases it when its holder dies), whatever
    // pid the file names, of a live process or of none: taken, and
    // released again when the apply exits.
    drop(held);
    for named in [
        format!("{}\n", std::process::id()),
        "999999999\n".to_string(),
    ] {
        std::fs::write(&lock, &named).unwrap();
        let out = with_homes(&h, "apply", &[]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(!lock_is_held(&h.node1));
        assert_ne!(
            std::fs::read_to_string(&lock).unwrap(),
            named,
            "names its last holder"
        );
    }
}

/// Applies racing for one home: one wins, the others say who holds the
/// lock (never "No such file", as a run reading a lock just released
/// could say), and the home
/// ends applied once. A race either way on each round: a regression shows
/// in some rounds, not necessarily all.
#[test]
fn racing_applies_on_one_home_name_the_holder_or_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let recipe = dir.path().join("race.toml");
    let home = dir.path().join("home");
    std::fs::write(
        &recipe,
        format!(
            "[server]\noffset = 7\n[nodes.a]\nhome = {:?}\n",
            home.display().to_string()
        ),
    )
    .unwrap();
    let fixture = golden::workspace_root().join("fixtures/homes/carbon-4.4");
    for round in 0..20 {
        if home.exists() {
            std::fs::remove_dir_all(&home).unwrap();
        }
        golden::copy_tree(&fixture, &home);
        // Not the first apply on this home: the winner then clears what
        // dead runs left, where an old race was.
        std::fs::create_dir_all(home.join(".carbon-patch")).unwrap();
        let runs: Vec<_> = (0..3)
            .map(|_| {
                bin()
                    .args(["apply", recipe.to_str().unwrap()])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for run in runs {
            let out = run.wait_with_output().unwrap();
            let err = stderr(&out);
            assert!(
                out.status.success()
                    || (err.contains("another carbon-patch (pid ")
                        && err.contains("is applying to this home")),
                "round {round}: {err}"
            );
        }
        let check = run(&["check", recipe.to_str().unwrap()]);
        assert!(check.status.success(), "round {round}: {}", stdout(&check));
    }
}

#[test]
fn nodes_sharing_a_home_are_not_applied() {
    let out = run(&["apply", "examples/quickstart.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nodes node1 and node2 share the home"),
        "{}",
        stderr(&out)
    );
    // Through a symbolic link, it is the same home.
    let h = homes();
    let link = h.node1.with_file_name("node1-link");
    std::os::unix::fs::symlink(&h.node1, &link).unwrap();
    let before = snapshot(&h.node1);
    let out = bin()
        .args(["apply", "examples/quickstart.toml"])
        .arg(format!("--home=node1={}", h.node1.display()))
        .arg(format!("--home=node2={}", link.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nodes node1 and node2 share the home"),
        "{}",
        stderr(&out)
    );
    assert_eq!(snapshot(&h.node1), before, "nothing written");
}

#[test]
fn files_over_the_size_limit_are_refused() {
    let out = run(&[
        "plan",
        "examples/quickstart.toml",
        "--max-file-size",
        "1000",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("bytes is over the 1000-byte limit for a file"),
        "{}",
        stderr(&out)
    );
}

/// Homes named by relative paths: a recipe's `home` is relative to the
/// recipe's folder, `--home` to the working directory. The staged files'
/// paths must come out relative to such a home too (the temporary files
/// report absolute paths; deriving one from the other once panicked).
#[test]
fn homes_given_as_relative_paths_are_applied() {
    let h = homes();
    let dir = h.node1.parent().unwrap();
    std::fs::create_dir(dir.join("recipes")).unwrap();
    let recipe = std::fs::read_to_string(golden::workspace_root().join("examples/quickstart.toml"))
        .unwrap()
        .replace("../fixtures/homes/carbon-4.4", "../node1");
    assert!(
        recipe.contains("\"../node1\""),
        "the example names its home"
    );
    std::fs::write(dir.join("recipes/cluster.toml"), recipe).unwrap();
    let apply = |command: &str| {
        bin()
            .current_dir(dir)
            .args([command, "recipes/cluster.toml", "--home", "node2=./node2"])
            .output()
            .unwrap()
    };
    let out = apply("apply");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Applied: 8 file(s) on 2 node(s)"),
        "{}",
        stdout(&out)
    );
    for home in [&h.node1, &h.node2] {
        let stage = home.join(".carbon-patch");
        let left: Vec<_> = std::fs::read_dir(&stage)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["lock"], "nothing staged is left in {stage:?}");
    }
    let out = apply("check");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

/// A home's malformed file is reported once, by file, line and column, and
/// stops the run before anything is written.
#[test]
fn a_malformed_file_is_named_once_with_its_line_and_column() {
    let h = homes();
    let carbon = h.node1.join("repository/conf/carbon.xml");
    // Bytes: the sample carbon.xml is ISO-8859-1, as shipped ones are.
    let bytes = std::fs::read(&carbon).unwrap();
    let offset: &[u8] = b"<Offset>0</Offset>";
    let at = bytes
        .windows(offset.len())
        .position(|w| w == offset)
        .expect("the sample home's offset")
        + "<Offset>0</".len();
    let mut broken = bytes[..at].to_vec();
    broken.extend_from_slice(b"Ofset>");
    broken.extend_from_slice(&bytes[at + "Offset>".len()..]);
    std::fs::write(&carbon, broken).unwrap();
    let before = snapshot(&h.node2);
    let out = with_homes(&h, "apply", &[]);
    assert_eq!(out.status.code(), Some(1));
    let before_tag = &bytes[..at - "</".len()];
    let line = before_tag.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before_tag
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    // The line holds ASCII only: its byte column is its character column.
    let column = before_tag.len() - line_start + 1;
    assert_eq!(
        stderr(&out),
        format!(
            "carbon-patch: nothing was written: node node1 ({home}): {file}:{line}:{column}: \
             malformed XML: expected 'Offset' tag, not 'Ofset'\n",
            home = h.node1.display(),
            file = carbon.display(),
        )
    );
    assert_eq!(snapshot(&h.node2), before, "nothing written");
}

/// A file the apply creates (a copied driver) gets the permissions any new
/// file gets under the caller's umask, not a temporary file's 0600: a server
/// running as another user must be able to read it.
#[test]
fn a_new_file_gets_the_permissions_of_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let h = homes();
    let dir = h.node1.parent().unwrap();
    std::fs::write(dir.join("driver.jar"), b"PK\x03\x04 not a real jar").unwrap();
    std::fs::write(
        dir.join("drivers.toml"),
        format!(
            "lib = [\"driver.jar\"]\n[nodes.node1]\nhome = {:?}\n",
            h.node1.display().to_string()
        ),
    )
    .unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg("umask 027 && exec \"$0\" apply drivers.toml")
        .arg(env!("CARGO_BIN_EXE_carbon-patch"))
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let jar = h.node1.join("repository/components/lib/driver.jar");
    let mode = std::fs::metadata(&jar).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640, "{mode:o}");
}

/// Nodes are planned, shown and written in the order the recipe lists
/// them (not sorted: `node10` would come before `node2`).
#[test]
fn nodes_are_shown_in_the_recipes_order() {
    let h = homes();
    let (_dir, recipe) = recipe_file(
        "order.toml",
        format!(
            "[server]\nhostname = \"10.0.0.1\"\n\
             [nodes.node2]\nhome = \"{}\"\nserver = {{ offset = 2 }}\n\
             [nodes.node10]\nhome = \"{}\"\nserver = {{ offset = 10 }}\n",
            h.node2.display(),
            h.node1.display()
        ),
    );
    let recipe = recipe.to_str().unwrap();
    let plan = stdout(&run(&["plan", recipe]));
    let headers: Vec<&str> = plan
        .lines()
        .filter(|l| l.starts_with("== node "))
        .map(|l| l.split_whitespace().nth(2).unwrap())
        .collect();
    assert_eq!(headers, ["node2:", "node10:"], "{plan}");
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&run(&["plan", recipe, "--format=json"]))).unwrap();
    let names: Vec<&str> = json["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["node2", "node10"]);
    let applied = stdout(&run(&["apply", recipe]));
    let written: Vec<&str> = applied
        .lines()
        .filter_map(|l| l.strip_prefix("wrote "))
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(written, ["node2", "node10"], "{applied}");
}

/// The example under each command's `--help` runs as written, with its
/// `/opt/...` homes replaced by copies of the sample home.
#[test]
fn the_help_examples_run() {
    // Each is run twice: plan and check only look (check finds the drift
    // both times); apply writes, then finds nothing left to do.
    for (command, codes) in [("plan", [0, 0]), ("apply", [0, 0]), ("check", [2, 2])] {
        let help = stdout(&run(&[command, "--help"]));
        let example = help
            .lines()
            .skip_while(|l| !l.starts_with("Example"))
            .nth(1)
            .unwrap_or_else(|| panic!("{command} --help has an example: {help}"));
        let line = example.trim().split(';').next().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let fixture = golden::workspace_root().join("fixtures/homes/carbon-4.4");
        let args: Vec<String> = line
            .split_whitespace()
            .skip(1) // the program
            .map(|arg| match arg.split_once("/opt/") {
                Some((before, path)) => {
                    let home = dir.path().join(path);
                    golden::copy_tree(&fixture, &home);
                    format!("{before}{}", home.display())
                }
                None => arg.to_string(),
            })
            .collect();
        for expected in codes {
            let out = bin().args(&args).output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(expected),
                "{line}\n{}{}",
                stdout(&out),
                stderr(&out)
            );
        }
    }
}
