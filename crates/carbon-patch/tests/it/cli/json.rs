//! `--format json`: the documented schema, findings in parts, and one whole
//! document even after an error.

use super::*;

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

/// A recipe's error comes apart too: its file, line, column and message as
/// fields, beside the message with its caret drawing.
#[test]
fn a_recipe_error_comes_apart_in_json() {
    let (_dir, recipe) = recipe_file(
        "r.toml",
        "[server]\noffest = 1\n[nodes.node1]\nhome = \"x\"\n",
    );
    let out = run(&["plan", recipe.to_str().unwrap(), "--format=json"]);
    assert_eq!(out.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(value["error"].as_str().unwrap().contains("^"), "{value}");
    let details = &value["error_details"][0];
    assert_eq!(details["severity"], "error");
    assert_eq!(details["file"], recipe.display().to_string());
    assert_eq!(
        (&details["line"], &details["column"]),
        (&2.into(), &1.into())
    );
    assert!(
        details["message"]
            .as_str()
            .unwrap()
            .starts_with("unknown field `offest`"),
        "{details}"
    );
}
