//! `inspect`: a home's summary ([`carbon_config::summary`]) as text or JSON.
//! Passwords are never shown.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use carbon_config::secrets::Secrets;
use carbon_config::summary::Summary;
use carbon_config::CarbonHome;
use serde_json::{json, Value};

/// A home, as read.
#[derive(Debug)]
pub struct Report {
    home: PathBuf,
    summary: Summary,
}

/// Reads `home`.
pub fn inspect(home: &Path) -> Result<Report> {
    let summary = Summary::read(&CarbonHome::open(home)?)?;
    Ok(Report {
        home: home.to_path_buf(),
        summary,
    })
}

/// The report as JSON (docs/json.md).
pub fn json(r: &Report) -> Value {
    let mut value = json!({
        "command": "inspect",
        "home": r.home.display().to_string(),
    });
    let summary = serde_json::to_value(&r.summary).expect("a summary is plain data");
    value
        .as_object_mut()
        .expect("an object")
        .extend(summary.as_object().expect("an object").clone());
    let findings = &r.summary.findings;
    value["findings"] = findings.iter().map(ToString::to_string).collect();
    value["finding_details"] = findings
        .iter()
        .map(|f| crate::render::finding_json(f, &Secrets::default()))
        .collect();
    value
}

/// A value of the report as text, control characters escaped ([`visible`]):
/// what a home's files hold is shown, never obeyed by the terminal.
fn show(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => visible::line(s).into_owned(),
        other => other.to_string(),
    }
}

/// The report as text: one line each, every text from the home escaped.
pub fn text(r: &Report) -> String {
    let v = serde_json::to_value(&r.summary).expect("a summary is plain data");
    let mut out = String::new();
    let _ = writeln!(out, "home:        {}", visible::path(&r.home));
    let _ = match &v["version"] {
        Value::Null => writeln!(out, "product:     {}", show(&v["product"])),
        version => writeln!(
            out,
            "product:     {} {}",
            show(&v["product"]),
            show(version)
        ),
    };
    let _ = writeln!(out, "config:      {}", show(&v["config_model"]));
    let c = &v["clustering"];
    if !c.is_null() {
        let _ = writeln!(
            out,
            "clustering:  enabled={} scheme={} domain={} local member={}:{}",
            show(&c["enabled"]),
            show(&c["membership_scheme"]),
            show(&c["domain"]),
            show(&c["local_member_host"]),
            show(&c["local_member_port"])
        );
        let members: Vec<String> = list(&c["members"]).map(show).collect();
        let members = if members.is_empty() {
            "-".into()
        } else {
            members.join(", ")
        };
        let _ = writeln!(out, "members:     {members}");
        let properties: Vec<String> = list(&c["properties"])
            .map(|p| format!("{}={}", show(&p["name"]), show(&p["value"])))
            .collect();
        if !properties.is_empty() {
            let _ = writeln!(out, "properties:  {}", properties.join(", "));
        }
    }
    let ports: Vec<String> = list(&v["ports"])
        .map(|p| match &p["proxy_port"] {
            Value::Null => format!("{} {}", show(&p["name"]), show(&p["port"])),
            proxy => format!(
                "{} {} (proxy {})",
                show(&p["name"]),
                show(&p["port"]),
                show(proxy)
            ),
        })
        .collect();
    let offset = show(&v["offset"]);
    let _ = if ports.is_empty() {
        writeln!(out, "offset:      {offset}")
    } else {
        writeln!(out, "offset:      {offset} ({})", ports.join(", "))
    };
    let _ = writeln!(
        out,
        "host names:  {} / mgt {}",
        show(&v["host_name"]),
        show(&v["mgt_host_name"])
    );
    let sync = &v["deployment_synchronizer"];
    if !sync.is_null() {
        let _ = writeln!(
            out,
            "deployment synchronizer: enabled={} autoCommit={} autoCheckout={} type={} url={} user={}",
            show(&sync["enabled"]),
            show(&sync["auto_commit"]),
            show(&sync["auto_checkout"]),
            show(&sync["repository_type"]),
            show(&sync["svn_url"]),
            show(&sync["svn_user"])
        );
    }
    let _ = writeln!(out, "datasources:");
    for d in list(&v["datasources"]) {
        let _ = writeln!(
            out,
            "  {} ({}) {} user={} password={}  [{}]",
            show(&d["name"]),
            show(&d["jndi"]),
            show(&d["url"]),
            show(&d["username"]),
            show(&d["password"]),
            show(&d["file"])
        );
    }
    let _ = writeln!(out, "registry:");
    let registry = &v["registry"];
    for d in list(&registry["db_configs"]) {
        let source = if d["data_source"].is_null() {
            show(&d["url"])
        } else {
            show(&d["data_source"])
        };
        let current = if d["current"] == json!(true) {
            " (current)"
        } else {
            ""
        };
        let _ = writeln!(out, "  dbConfig {} -> {source}{current}", show(&d["name"]));
    }
    for i in list(&registry["remote_instances"]) {
        let _ = writeln!(
            out,
            "  remoteInstance {} at {} via {} readOnly={}",
            show(&i["id"]),
            show(&i["url"]),
            show(&i["db_config"]),
            show(&i["read_only"])
        );
    }
    for m in list(&registry["mounts"]) {
        let _ = writeln!(
            out,
            "  mount {} -> {}:{}",
            show(&m["path"]),
            show(&m["instance_id"]),
            show(&m["target_path"])
        );
    }
    let _ = writeln!(
        out,
        "user store:  dataSource {}, manager {}",
        show(&v["user_store_data_source"]),
        show(&v["user_store_manager"])
    );
    let findings = &r.summary.findings;
    if findings.is_empty() {
        let _ = writeln!(out, "findings:    none");
    } else {
        let _ = writeln!(out, "findings:");
        for f in findings {
            let _ = writeln!(out, "  {f}");
        }
    }
    out
}

/// The items of a JSON array (none for anything else).
fn list(v: &Value) -> impl Iterator<Item = &Value> {
    v.as_array().into_iter().flatten()
}
