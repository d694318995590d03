//! The built binary, end to end, on copies of the sample home.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod deployment_toml;
mod json;
mod locks;
mod masking;
mod restore;
mod upgrades;

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carbon-patch"));
    cmd.current_dir(golden::workspace_root());
    cmd.env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
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

/// A user who goes straight to `apply` reads what `plan` would have shown
/// besides the diffs: the warnings, and the steps left to do by hand.
#[test]
fn apply_shows_the_warnings_and_the_manual_steps() {
    let h = homes();
    let (_dir, recipe) = recipe_file(
        "r.toml",
        "manual = [\"Create the database\"]\n[server]\noffset = 2\n[nodes.node1]\nhome = \"x\"\n",
    );
    let out = on_node1("apply", &recipe, &h.node1).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let wrote = text
        .find("wrote node1: repository/conf/carbon.xml")
        .expect(&text);
    let warning = text
        .find("node1: warning: repository/conf/datasources/master-datasources.xml:")
        .expect(&text);
    let manual = text
        .find("Still to do by hand (not edits to a home):\n  - Create the database\n")
        .expect(&text);
    assert!(wrote < warning && warning < manual, "{text}");
    assert!(
        text.ends_with("Applied: 1 file(s) on 1 node(s)\n"),
        "{text}"
    );
}

/// A refused apply writes nothing, its own folder included: not in the
/// home whose plan failed validation, not in the one beside a missing home,
/// not in a Carbon 4.5+ home.
#[test]
fn a_refused_apply_creates_nothing_in_any_home() {
    let h = homes();
    let own_folder = |home: &Path| home.join(".carbon-patch").exists();
    // The other node's home is missing.
    let (_dir, recipe) = recipe_file(
        "r.toml",
        "[server]\noffset = 2\n[nodes.node1]\nhome = \"x\"\n[nodes.node2]\nhome = \"/nonexistent/home\"\n",
    );
    let out = on_node1("apply", &recipe, &h.node1).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(!own_folder(&h.node1), "{}", stderr(&out));
    // Validation refuses the plan.
    let (_dir, recipe) = recipe_file(
        "r.toml",
        "[user_store]\ndata_source = \"jdbc/Undefined\"\n[nodes.node1]\nhome = \"x\"\n",
    );
    let out = on_node1("apply", &recipe, &h.node1).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("nothing was written"),
        "{}",
        stderr(&out)
    );
    assert!(!own_folder(&h.node1));
    // A Carbon 4.5+ home.
    let dir = tempfile::tempdir().unwrap();
    let modern = dir.path().join("modern");
    golden::copy_tree(
        &golden::workspace_root().join("fixtures/homes/carbon-4.5"),
        &modern,
    );
    let (_dir, recipe) = recipe_file(
        "r.toml",
        "[registry]\ncurrent_db_config = \"x\"\n[nodes.node1]\nhome = \"x\"\n",
    );
    let out = on_node1("apply", &recipe, &modern).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(!own_folder(&modern), "{}", stderr(&out));
    // A home with nothing to change is left as it was too; one written
    // keeps its lock.
    let (_dir, recipe) = recipe_file(
        "r.toml",
        "[server]\noffset = 2\n[nodes.node1]\nhome = \"x\"\n",
    );
    assert!(on_node1("apply", &recipe, &h.node1)
        .status()
        .unwrap()
        .success());
    assert!(h.node1.join(".carbon-patch/lock").is_file());
    let untouched = &h.node2;
    let (_dir, recipe) = recipe_file(
        "r.toml",
        "[server]\noffset = 0\n[nodes.node1]\nhome = \"x\"\n",
    );
    assert!(on_node1("apply", &recipe, untouched)
        .status()
        .unwrap()
        .success());
    assert!(!own_folder(untouched));
}

/// A run refused after a node was staged takes away what it made there:
/// node1's driver and the folders made for it are staged before node2's plan
/// fails, and all of them go again.
#[test]
fn a_refused_apply_leaves_no_folder_it_made() {
    let h = homes();
    let own_folder = |home: &Path| home.join(".carbon-patch").exists();
    let lib = h.node1.join("repository/components/lib");
    std::fs::remove_dir_all(h.node1.join("repository/components")).unwrap();
    let carbon_xml = h.node2.join("repository/conf/carbon.xml");
    let kept = std::fs::read(&carbon_xml).unwrap();
    std::fs::write(&carbon_xml, "<Server>").unwrap();
    let dir = h.node1.parent().unwrap();
    std::fs::write(dir.join("driver.jar"), b"PK\x03\x04").unwrap();
    let recipe = dir.join("drivers.toml");
    std::fs::write(
        &recipe,
        format!(
            "lib = [\"driver.jar\"]\n[server]\noffset = 2\n\
             [nodes.node1]\nhome = {:?}\n[nodes.node2]\nhome = {:?}\n",
            h.node1, h.node2
        ),
    )
    .unwrap();
    let out = bin()
        .args(["apply", "-j", "1"])
        .arg(&recipe)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("nothing was written"),
        "{}",
        stderr(&out)
    );
    assert!(!h.node1.join("repository/components").exists());
    assert!(!own_folder(&h.node1));
    std::fs::write(&carbon_xml, kept).unwrap();
    assert!(bin().arg("apply").arg(&recipe).status().unwrap().success());
    assert!(lib.join("driver.jar").is_file());
}

/// Another holder of `home`'s lock (carbon-patch locks the home's folder)
/// for `seconds`, once it holds it: util-linux `flock`, to wait for.
fn held_for(home: &Path, seconds: f32) -> std::process::Child {
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready");
    let holder = Command::new("flock")
        .arg(home)
        .arg("-c")
        .arg(format!("touch {} && sleep {seconds}", ready.display()))
        .spawn()
        .unwrap();
    while !ready.exists() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    holder
}

/// `--wait` lets an apply on a home another run holds go on once it is
/// free; without it the apply is refused at once.
#[test]
fn apply_waits_for_a_held_home_when_told() {
    let h = homes();
    let (_dir, recipe) = recipe_file(
        "r.toml",
        "[server]\noffset = 2\n[nodes.node1]\nhome = \"x\"\n",
    );
    let mut holder = held_for(&h.node1, 1.0);
    let out = on_node1("apply", &recipe, &h.node1).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is writing to this home; run again when it has finished"),
        "{}",
        stderr(&out)
    );
    let out = on_node1("apply", &recipe, &h.node1)
        .args(["--wait", "1m"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(holder.wait().unwrap().success());
    let out = on_node1("apply", &recipe, &h.node1)
        .args(["--wait", "soon"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("\"soon\" is not a duration such as 30s or 5m"),
        "{}",
        stderr(&out)
    );
}

/// A recipe says what it is for; a home of another product or version is
/// refused before anything is planned, by plan, check and apply alike.
#[test]
fn a_recipe_for_another_product_is_refused() {
    let h = homes();
    let before = snapshot(&h.node1);
    let (_dir, recipe) = recipe_file(
        "r.toml",
        "product = \"WSO2 Message Broker\"\nversions = \"3.2.0\"\n[server]\noffset = 2\n[nodes.node1]\nhome = \"x\"\n",
    );
    for command in ["plan", "check", "apply"] {
        let out = on_node1(command, &recipe, &h.node1).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{command}");
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "node node1 ({}): the recipe is for WSO2 Message Broker 3.2.0, and the home is \
                 WSO2 Example Server 4.4.0 (bin/version.txt)",
                h.node1.display()
            )),
            "{command}: {err}"
        );
        assert!(
            stdout(&out).is_empty() || command != "plan",
            "nothing planned"
        );
    }
    assert_eq!(snapshot(&h.node1), before, "nothing written");
    // The Message Broker example, pointed at a Data Services home.
    let out = run(&[
        "plan",
        "examples/mb-two-nodes.toml",
        "--node=node1",
        "--home=node1=fixtures/homes/dss-3.5",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(
            "the recipe is for WSO2 Message Broker 3.2.0, and the home is WSO2 Data Services \
             Server 3.5.1 (bin/version.txt)"
        ),
        "{}",
        stderr(&out)
    );
    // The product in any case, and a version by its prefix.
    let (_dir, recipe) = recipe_file(
        "r.toml",
        "product = \"wso2 example server\"\nversions = \"4.2.0, 4.4.*\"\n[nodes.node1]\nhome = \"x\"\n",
    );
    let out = on_node1("plan", &recipe, &h.node1).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Nodes of one machine must not share ports, counting what each home
/// says where the recipe says nothing: two homes at `<Offset>0` and
/// `localMemberPort` 4000 clash as surely as a recipe that sets both.
#[test]
fn port_clashes_count_the_values_the_homes_keep() {
    let h = homes();
    let run = |recipe: &str| {
        let (_dir, path) = recipe_file("r.toml", recipe);
        let mut args = vec!["plan".to_string(), path.display().to_string()];
        home_args(&h, &mut args);
        bin().args(&args).output().unwrap()
    };
    // Members given, no local_member_port: both homes keep 4000.
    let out = run(
        "[clustering]\nmembership_scheme = \"wka\"\nlocal_member_host = \"10.0.0.5\"\n\
         members = [\"10.0.0.5:4000\"]\n[nodes.node1]\nhome = \"a\"\nserver = { offset = 1 }\n\
         [nodes.node2]\nhome = \"b\"\nserver = { offset = 2 }\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(
            "nodes node1 and node2 would both listen for cluster members on 10.0.0.5:4000 \
             (from its home's axis2.xml and its home's axis2.xml)"
        ),
        "{}",
        stderr(&out)
    );
    // Ports given, no offset: both homes keep <Offset>0.
    let out = run(
        "[clustering]\nlocal_member_host = \"10.0.0.5\"\n[nodes.node1]\nhome = \"a\"\n\
         clustering = { local_member_port = 4000 }\n[nodes.node2]\nhome = \"b\"\n\
         clustering = { local_member_port = 4001 }\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(
            "with the same port offset 0 (from its home's carbon.xml and its home's carbon.xml)"
        ),
        "{}",
        stderr(&out)
    );
    // Each value set apart, the recipe's or the home's: planned.
    let out = run(
        "[clustering]\nlocal_member_host = \"10.0.0.5\"\n[nodes.node1]\nhome = \"a\"\n\
         clustering = { local_member_port = 4001 }\nserver = { offset = 1 }\n\
         [nodes.node2]\nhome = \"b\"\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

/// A `[[raw]]` insert with a `key` updates what it inserted when the recipe
/// changes it (a gateway environment's URL), instead of inserting another.
#[test]
fn a_keyed_raw_insert_updates_its_element_on_the_next_apply() {
    let h = homes();
    let recipe = |url: &str| {
        format!(
            "[[raw]]\nfile = \"repository/conf/carbon.xml\"\npath = \"/Server\"\naction = \"insert\"\n\
             key = \"Name\"\nmarkup = '<Environment><Name>Production</Name><ServerURL>{url}</ServerURL></Environment>'\n\
             [nodes.node1]\nhome = \"x\"\n"
        )
    };
    for url in ["https://gw1/", "https://gw2/", "https://gw2/"] {
        let (_dir, path) = recipe_file("r.toml", recipe(url));
        let out = on_node1("apply", &path, &h.node1).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let carbon = std::fs::read(h.node1.join("repository/conf/carbon.xml")).unwrap();
    let carbon = String::from_utf8_lossy(&carbon);
    assert_eq!(carbon.matches("<Environment>").count(), 1, "{carbon}");
    assert!(carbon.contains("<ServerURL>https://gw2/</ServerURL>"));
    // A key that is no name is refused at its line.
    let (_dir, path) = recipe_file(
        "r.toml",
        recipe("x").replace("key = \"Name\"", "key = \"a b\""),
    );
    let out = on_node1("plan", &path, &h.node1).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("key: "), "{}", stderr(&out));
}

/// What the recipe should know about its own values: an entity reference
/// copied from WSO2's docs (escaped again, it would reach the file as
/// `&amp;amp;`), and a password written in the recipe. Each is a warning at
/// its place in the recipe; markup, where entities belong, is not.
#[test]
fn values_that_would_go_wrong_are_warned_about_at_their_line() {
    let h = homes();
    let (_dir, recipe) = recipe_file(
        "r.toml",
        "[[datasource]]\nname = \"NEW_DB\"\n\
         url = \"jdbc:mysql://h:3306/db?autoReconnect=true&amp;useSSL=false\"\n\
         username = \"u\"\npassword = \"literal-s3cret\"\n\
         [[raw]]\nfile = \"repository/conf/carbon.xml\"\npath = \"/Server\"\naction = \"insert\"\n\
         markup = '<Note>a &amp; b</Note>'\n[nodes.node1]\nhome = \"x\"\n",
    );
    let out = on_node1("plan", &recipe, &h.node1).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let shown = recipe.display();
    assert!(
        text.contains(&format!(
            "warning: {shown}:3:7: `&amp;` is an XML entity reference, and carbon-patch escapes \
             values itself: the file would get `&amp;amp;`; write the character itself"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "warning: {shown}:5:12: a password written in the recipe: take it from the \
             environment (`${{env:NAME}}`), so that the recipe holds no secret"
        )),
        "{text}"
    );
    assert!(!text.contains("literal-s3cret"), "{text}");
    assert_eq!(
        text.matches("entity reference").count(),
        1,
        "not the markup's: {text}"
    );
}

/// A validation error names the recipe entry behind it, where one is
/// plain: the user store's data source that no datasource defines.
#[test]
fn a_validation_error_names_the_recipe_entry_behind_it() {
    let h = homes();
    let (_dir, recipe) = recipe_file(
        "r.toml",
        "[user_store]\ndata_source = \"jdbc/Undefined\"\n[nodes.node1]\nhome = \"x\"\n",
    );
    let out = on_node1("plan", &recipe, &h.node1).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("jdbc/Undefined"), "{err}");
    assert!(
        err.contains(&format!("(asked for at {}:2:15)", recipe.display())),
        "{err}"
    );
}

#[test]
fn a_failed_write_midway_restores_every_file() {
    if !crate::common::hooks("a_failed_write_midway_restores_every_file") {
        return;
    }
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
             error: repository/conf/registry.xml:14:9: dbConfig gov uses dataSource jdbc/Missing, which no active datasource defines \
             (asked for at {}:3:8)\n  \
             warning: repository/conf/datasources/master-datasources.xml:22:9: datasource EXAMPLE_STORE_DB (no JNDI name) is not referenced by any configuration file\n",
            h.node1.display(),
            recipe.display()
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

/// The examples give each node a sample home of its own (`plan` refuses
/// shared homes as `apply` does): copies of a base home, which must stay
/// identical to it, byte for byte, so that every node plans alike.
#[test]
fn the_sample_homes_copies_are_identical_to_their_base() {
    let homes = golden::workspace_root().join("fixtures/homes");
    let tree = |root: &Path| -> Vec<(PathBuf, Vec<u8>)> {
        let mut files: Vec<_> = walkdir::WalkDir::new(root)
            .into_iter()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let rel = e.path().strip_prefix(root).unwrap().to_path_buf();
                (rel, std::fs::read(e.path()).unwrap())
            })
            .collect();
        files.sort();
        files
    };
    let mut copies = 0;
    for entry in std::fs::read_dir(&homes).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let Some((base, n)) = name.rsplit_once('-') else {
            continue;
        };
        if n.parse::<u8>().is_err() {
            continue;
        }
        copies += 1;
        assert!(
            tree(&homes.join(&name)) == tree(&homes.join(base)),
            "fixtures/homes/{name} differs from fixtures/homes/{base}"
        );
    }
    assert_eq!(copies, 21, "the copies the examples use");
}
