//! `inspect`: what an operator reads to review a node before and after.
//! Passwords are never shown.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use carbon_config::validate::{validate, Finding};
use carbon_config::{files, CarbonHome, ConfigModel, Session};
use serde_json::{json, Value};
use xmlsplice::Document;

use crate::mask::Secrets;

/// A home, as read.
#[derive(Debug, Default)]
pub struct Report {
    home: PathBuf,
    product: Option<String>,
    version: Option<String>,
    model: String,
    clustering: Option<Value>,
    offset: Option<u32>,
    ports: Vec<(String, u32)>,
    host_name: Option<String>,
    mgt_host_name: Option<String>,
    datasources: Vec<Value>,
    db_configs: Vec<Value>,
    remote_instances: Vec<Value>,
    mounts: Vec<Value>,
    user_store_data_source: Option<String>,
    findings: Vec<Finding>,
}

/// The XML file `rel` of `home`, read through the home's root (no link
/// out of it, no FIFO); `None` when it does not exist.
fn open(home: &CarbonHome, rel: &str) -> Result<Option<Document>> {
    let Some(bytes) = home
        .root()
        .read(rel, carbon_config::DEFAULT_MAX_FILE_SIZE)?
    else {
        return Ok(None);
    };
    let path = home.path().join(rel);
    Ok(Some(
        Document::parse(bytes).map_err(|e| e.with_path(&path))?,
    ))
}

fn first_text(doc: &Document, path: &str) -> Option<String> {
    let el = doc.select(path).ok()?.into_iter().next()?;
    doc.element_text(el).map(|t| t.trim().to_string())
}

fn text_in(doc: &Document, el: xmlsplice::Element, path: &str) -> Option<String> {
    let found = doc.select_from(el, path).ok()?.into_iter().next()?;
    doc.element_text(found).map(|t| t.trim().to_string())
}

/// Reads `home`.
pub fn inspect(home: &Path) -> Result<Report> {
    let carbon_home = CarbonHome::open(home)?;
    let mut report = Report {
        home: home.to_path_buf(),
        product: carbon_home.product().map(String::from),
        version: carbon_home.version().map(String::from),
        model: match carbon_home.model() {
            ConfigModel::Xml => "xml (Carbon 4.x: repository/conf XML files)".into(),
            ConfigModel::DeploymentToml => {
                "deployment.toml (Carbon 4.5+: XML regenerated at start)".into()
            }
        },
        ..Report::default()
    };
    if carbon_home.model() == ConfigModel::DeploymentToml {
        return Ok(report);
    }
    if let Some(doc) = open(&carbon_home, files::AXIS2)? {
        if let Some(c) = doc.select_optional("clustering")? {
            let param =
                |name: &str| first_text(&doc, &format!("clustering/parameter[@name='{name}']"));
            let members: Vec<String> = doc
                .select("clustering/members/member")?
                .into_iter()
                .map(|m| {
                    format!(
                        "{}:{}",
                        text_in(&doc, m, "hostName").unwrap_or_default(),
                        text_in(&doc, m, "port").unwrap_or_default()
                    )
                })
                .collect();
            report.clustering = Some(json!({
                "enabled": doc.attribute(c, "enable") == Some("true"),
                "membership_scheme": param("membershipScheme"),
                "domain": param("domain"),
                "local_member_host": param("localMemberHost"),
                "local_member_port": param("localMemberPort"),
                "members": members,
            }));
        }
    }
    if let Some(doc) = open(&carbon_home, files::CARBON)? {
        report.offset = first_text(&doc, "Ports/Offset").and_then(|t| t.parse().ok());
        report.host_name = first_text(&doc, "HostName");
        report.mgt_host_name = first_text(&doc, "MgtHostName");
    }
    let offset = report.offset.unwrap_or(0);
    let connectors: Vec<u32> = match open(&carbon_home, files::CATALINA)? {
        Some(doc) => doc
            .select("//Connector")?
            .into_iter()
            .filter_map(|c| doc.attribute(c, "port")?.parse().ok())
            .collect(),
        None => vec![9763, 9443],
    };
    for port in connectors {
        let label = match port {
            9763 => "HTTP".to_string(),
            9443 => "HTTPS".to_string(),
            other => format!("connector {other}"),
        };
        report.ports.push((label, port + offset));
    }
    for rel in carbon_home.datasource_files() {
        let Some(doc) = open(&carbon_home, &rel.to_string_lossy())? else {
            continue;
        };
        for ds in doc.select("datasources/datasource")? {
            let has_password = doc
                .select_optional_from(ds, "definition/configuration/password")?
                .is_some();
            report.datasources.push(json!({
                "file": rel.display().to_string(),
                "name": text_in(&doc, ds, "name"),
                "jndi": text_in(&doc, ds, "jndiConfig/name"),
                "url": text_in(&doc, ds, "definition/configuration/url").map(masked_url),
                "username": text_in(&doc, ds, "definition/configuration/username"),
                "password": has_password.then_some(crate::mask::MASK),
            }));
        }
    }
    if let Some(doc) = open(&carbon_home, files::REGISTRY)? {
        for db in doc.select("dbConfig")? {
            report.db_configs.push(json!({
                "name": doc.attribute(db, "name"),
                "data_source": text_in(&doc, db, "dataSource"),
                "url": text_in(&doc, db, "url").map(masked_url),
                "current": first_text(&doc, "currentDBConfig").as_deref() == doc.attribute(db, "name"),
            }));
        }
        for r in doc.select("remoteInstance")? {
            report.remote_instances.push(json!({
                "id": text_in(&doc, r, "id"),
                "url": doc.attribute(r, "url").map(masked_url),
                "db_config": text_in(&doc, r, "dbConfig"),
                "read_only": text_in(&doc, r, "readOnly"),
            }));
        }
        for m in doc.select("mount")? {
            report.mounts.push(json!({
                "path": doc.attribute(m, "path"),
                "instance_id": text_in(&doc, m, "instanceId"),
                "target_path": text_in(&doc, m, "targetPath"),
            }));
        }
    }
    if let Some(doc) = open(&carbon_home, files::USER_MGT)? {
        report.user_store_data_source =
            first_text(&doc, "Realm/Configuration/Property[@name='dataSource']");
    }
    let session = Session::new(&carbon_home);
    // Masked once, here, so that the text, JSON's strings and its details
    // show the same thing (a password parameter quoted from a file; there is
    // no recipe, so no recipe secrets).
    report.findings = validate(&session)?
        .iter()
        .map(|f| crate::mask::finding(f, &Secrets::default()))
        .collect();
    Ok(report)
}

/// The report as JSON (docs/json.md).
pub fn json(r: &Report) -> Value {
    json!({
        "command": "inspect",
        "home": r.home.display().to_string(),
        "product": r.product,
        "version": r.version,
        "config_model": r.model,
        "clustering": r.clustering,
        "offset": r.offset,
        "ports": r.ports.iter().map(|(l, p)| json!({"name": l, "port": p})).collect::<Vec<_>>(),
        "host_name": r.host_name,
        "mgt_host_name": r.mgt_host_name,
        "datasources": r.datasources,
        "registry": {"db_configs": r.db_configs, "remote_instances": r.remote_instances, "mounts": r.mounts},
        "user_store_data_source": r.user_store_data_source,
        "findings": r.findings.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "finding_details": r.findings.iter()
            .map(|f| crate::render::finding_json(f, &Secrets::default()))
            .collect::<Vec<_>>(),
    })
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

/// An optional text of the report, as [`show`] shows it.
fn show_text(text: &Option<String>) -> String {
    text.as_deref()
        .map_or_else(|| "-".to_string(), |t| visible::line(t).into_owned())
}

/// The report as text: one line each, every text from the home escaped.
pub fn text(r: &Report) -> String {
    let mut out = String::new();
    let none = || "-".to_string();
    let _ = writeln!(out, "home:        {}", visible::path(&r.home));
    let product = show_text(&r.product);
    let _ = match &r.version {
        Some(version) => writeln!(out, "product:     {product} {}", visible::line(version)),
        None => writeln!(out, "product:     {product}"),
    };
    let _ = writeln!(out, "config:      {}", r.model);
    if let Some(c) = &r.clustering {
        let _ = writeln!(
            out,
            "clustering:  enabled={} scheme={} domain={} local member={}:{}",
            show(&c["enabled"]),
            show(&c["membership_scheme"]),
            show(&c["domain"]),
            show(&c["local_member_host"]),
            show(&c["local_member_port"])
        );
        let members: Vec<String> = c["members"]
            .as_array()
            .into_iter()
            .flatten()
            .map(show)
            .collect();
        let _ = writeln!(
            out,
            "members:     {}",
            if members.is_empty() {
                "-".into()
            } else {
                members.join(", ")
            }
        );
    }
    let ports: Vec<String> = r.ports.iter().map(|(l, p)| format!("{l} {p}")).collect();
    let offset = r.offset.map_or_else(none, |o| o.to_string());
    let _ = if ports.is_empty() {
        writeln!(out, "offset:      {offset}")
    } else {
        writeln!(out, "offset:      {offset} ({})", ports.join(", "))
    };
    let _ = writeln!(
        out,
        "host names:  {} / mgt {}",
        show_text(&r.host_name),
        show_text(&r.mgt_host_name)
    );
    let _ = writeln!(out, "datasources:");
    for d in &r.datasources {
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
    for d in &r.db_configs {
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
    for i in &r.remote_instances {
        let _ = writeln!(
            out,
            "  remoteInstance {} at {} via {} readOnly={}",
            show(&i["id"]),
            show(&i["url"]),
            show(&i["db_config"]),
            show(&i["read_only"])
        );
    }
    for m in &r.mounts {
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
        "user store:  dataSource {}",
        show_text(&r.user_store_data_source)
    );
    if r.findings.is_empty() {
        let _ = writeln!(out, "findings:    none");
    } else {
        let _ = writeln!(out, "findings:");
        for f in &r.findings {
            let _ = writeln!(out, "  {f}");
        }
    }
    out
}

/// A URL as shown: a password given in it (`;password=…`) masked.
fn masked_url(url: impl AsRef<str>) -> String {
    crate::mask::password_parameters(url.as_ref()).into_owned()
}
