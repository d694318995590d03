//! From a recipe to each node's steps: merge, expand, derive, check.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use carbon_config::axis2::Member;
use carbon_config::datasources::Datasource as DsSpec;
use carbon_config::raw::{RawAction, RawPlace};
use carbon_config::registry as reg;

use crate::error::{closest, RecipeError};
use crate::merge::Merge;
use crate::model::*;
use crate::step::Step;

/// A parsed recipe.
#[derive(Debug)]
pub struct Recipe {
    path: PathBuf,
    source: String,
    file: RecipeFile,
}

/// One node, resolved: where its home is and what to ensure there.
#[derive(Clone, Debug)]
pub struct Node {
    /// The node's name in the recipe.
    pub name: String,
    /// Its CARBON_HOME.
    pub home: PathBuf,
    /// What to ensure, in order.
    pub steps: Vec<Step>,
    /// Secret values in this node's settings (passwords), for masking output.
    pub secrets: Vec<String>,
    /// Steps that are not edits to a home, to do by hand.
    pub manual: Vec<String>,
}

/// Where `${env:NAME}` values come from (the process environment, or a map in tests).
pub trait Env {
    /// The value of `name`, if set.
    fn var(&self, name: &str) -> Option<String>;
}

/// Whether an environment variable's name says its value is secret: it
/// holds PASS, PWD, SECRET, TOKEN, CRED or KEY, in any case
/// (`DB_PASSWORD`, `svn_pwd`, `API_KEY`). Such a value is masked in output
/// wherever the recipe uses it, a password in a JDBC URL included; other
/// variables (hosts, ports, user names) stay readable in a plan.
fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_uppercase();
    ["PASS", "PWD", "SECRET", "TOKEN", "CRED", "KEY"]
        .iter()
        .any(|word| name.contains(word))
}

/// An environment that remembers the values of the secret variables read
/// through it ([`is_secret_name`]), for one node's resolution.
struct SecretsSeen<'e> {
    env: &'e dyn Env,
    seen: std::cell::RefCell<Vec<String>>,
}

impl<'e> SecretsSeen<'e> {
    fn new(env: &'e dyn Env) -> SecretsSeen<'e> {
        SecretsSeen {
            env,
            seen: std::cell::RefCell::default(),
        }
    }

    fn secrets(self) -> Vec<String> {
        self.seen.into_inner()
    }
}

impl Env for SecretsSeen<'_> {
    fn var(&self, name: &str) -> Option<String> {
        let value = self.env.var(name)?;
        if is_secret_name(name) && !value.is_empty() {
            self.seen.borrow_mut().push(value.clone());
        }
        Some(value)
    }
}

/// The process environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl Recipe {
    /// Reads and parses the recipe at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Recipe, RecipeError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .map_err(|e| RecipeError::whole(path, format!("cannot read the recipe: {e}")))?;
        let source = String::from_utf8(bytes).map_err(|e| {
            // Pointed at like any other mistake: the text before it is fine.
            // The text before it is unchanged in the lossy copy, and U+FFFD
            // (three bytes) stands where the caret goes.
            let valid = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes());
            RecipeError::at(
                path,
                &text,
                valid..valid + 3,
                "not UTF-8 (TOML is UTF-8 text)",
            )
        })?;
        Recipe::parse(path, source)
    }

    /// Parses `source`; `path` names it in messages and anchors relative homes.
    pub fn parse(path: impl AsRef<Path>, source: impl Into<String>) -> Result<Recipe, RecipeError> {
        let path = path.as_ref().to_path_buf();
        let source = source.into();
        let file: RecipeFile =
            toml::from_str(&source).map_err(|e| RecipeError::from_toml(&path, &source, &e))?;
        let recipe = Recipe { path, source, file };
        if recipe.file.nodes.is_empty() {
            return Err(RecipeError::whole(
                &recipe.path,
                "the recipe has no [nodes.NAME] table",
            ));
        }
        Ok(recipe)
    }

    /// The recipe file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The node names, in order.
    pub fn node_names(&self) -> Vec<&str> {
        self.file.nodes.keys().map(String::as_str).collect()
    }

    fn error(&self, span: std::ops::Range<usize>, message: impl Into<String>) -> RecipeError {
        RecipeError::at(&self.path, &self.source, span, message)
    }

    /// Checks that `name` is a node of the recipe ("did you mean" if close).
    pub fn check_node(&self, name: &str) -> Result<(), RecipeError> {
        if self.file.nodes.contains_key(name) {
            return Ok(());
        }
        let names = self.node_names();
        let hint = closest(name, &names)
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_default();
        Err(RecipeError::whole(
            &self.path,
            format!("no node named {name:?} (nodes: {}){hint}", names.join(", ")),
        ))
    }

    fn settings_of(&self, node: &str) -> Settings {
        let shared = self.file.settings();
        let own = self.file.nodes[node].get_ref().settings();
        shared.merge(own)
    }

    /// Expands `${env:NAME}` and `${var}` in a value.
    fn expand(&self, text: &Text, env: &dyn Env) -> Result<String, RecipeError> {
        self.expand_depth(text, env, 0)
    }

    fn expand_depth(
        &self,
        text: &Text,
        env: &dyn Env,
        depth: usize,
    ) -> Result<String, RecipeError> {
        let raw = text.get_ref();
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| self.error(text.span(), "`${` without a closing `}`"))?;
            let name = &after[..end];
            if let Some(var) = name.strip_prefix("env:") {
                let value = env.var(var).ok_or_else(|| {
                    self.error(
                        text.span(),
                        format!("environment variable {var} is not set"),
                    )
                })?;
                out.push_str(&value);
            } else {
                let value = self.file.vars.get(name).ok_or_else(|| {
                    let names: Vec<&str> = self.file.vars.keys().map(String::as_str).collect();
                    let hint = closest(name, &names)
                        .map(|c| format!("; did you mean `{c}`?"))
                        .unwrap_or_default();
                    self.error(text.span(), format!("no [vars] entry named {name:?}{hint}"))
                })?;
                if depth > 8 {
                    return Err(self.error(value.span(), "variables refer to each other in a loop"));
                }
                out.push_str(&self.expand_depth(value, env, depth + 1)?);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The home of node `name` as the recipe gives it (relative to the
    /// recipe's folder), without resolving its steps.
    pub fn home(&self, name: &str, env: &dyn Env) -> Result<PathBuf, RecipeError> {
        self.check_node(name)?;
        let table = &self.file.nodes[name];
        match &table.get_ref().home {
            Some(text) => {
                let h = PathBuf::from(self.expand(text, env)?);
                // A shell expands `~`; a recipe does not, and the path would
                // quietly name a folder `~` beside the recipe.
                if h.starts_with("~") {
                    return Err(self.error(
                        text.span(),
                        "`~` is not expanded in a recipe; write ${env:HOME}/… or an absolute path",
                    ));
                }
                Ok(if h.is_relative() {
                    self.path.parent().unwrap_or(Path::new(".")).join(h)
                } else {
                    h
                })
            }
            None => Err(self.error(
                table.span(),
                format!("node {name} has no `home` (give one, or --home {name}=PATH)"),
            )),
        }
    }

    /// Resolves node `name`: its home (`home` overrides the recipe's), and its steps.
    pub fn resolve(
        &self,
        name: &str,
        home: Option<&Path>,
        env: &dyn Env,
    ) -> Result<Node, RecipeError> {
        self.check_node(name)?;
        let home = match home {
            Some(h) => h.to_path_buf(),
            None => self.home(name, env)?,
        };
        let settings = self.settings_of(name);
        let mut node = Node {
            name: name.to_string(),
            home,
            steps: Vec::new(),
            secrets: Vec::new(),
            manual: Vec::new(),
        };
        let env = SecretsSeen::new(env);
        self.steps(name, &settings, &env, &mut node)?;
        for step in &settings.manual {
            node.manual.push(self.expand(step, &env)?);
        }
        for value in env.secrets() {
            if !node.secrets.contains(&value) {
                node.secrets.push(value);
            }
        }
        Ok(node)
    }

    fn steps(
        &self,
        name: &str,
        s: &Settings,
        env: &dyn Env,
        node: &mut Node,
    ) -> Result<(), RecipeError> {
        let x = |t: &Text| self.expand(t, env);
        let steps = &mut node.steps;
        let secret = |value: String, secrets: &mut Vec<String>| {
            if !value.is_empty() {
                secrets.push(value.clone());
            }
            value
        };

        if let Some(server) = &s.server {
            if let Some(h) = &server.hostname {
                steps.push(Step::HostName(x(h)?));
            }
            if let Some(h) = &server.mgt_hostname {
                steps.push(Step::MgtHostName(x(h)?));
            }
            // After the host names: each uncomments an element, and the next
            // step on carbon.xml parses the file again to see it. With the
            // offset (which differs between the nodes on one machine) still
            // unset, those texts are the same on every node that shares its
            // host names, and a fleet parses them once (xmlsplice::TreeCache).
            if let Some(offset) = &server.offset {
                steps.push(Step::Offset(*offset.get_ref()));
            }
        }

        if let Some(c) = &s.clustering {
            steps.push(Step::ClusteringEnabled(c.enable.unwrap_or(true)));
            let mut parameter = |name: &str, value: String| {
                steps.push(Step::ClusteringParameter(name.into(), value))
            };
            let scheme = c.membership_scheme.as_ref().map(&x).transpose()?;
            if let (Some(scheme), Some(t)) = (&scheme, &c.membership_scheme) {
                if !["wka", "multicast", "aws", "kubernetes"].contains(&scheme.as_str()) {
                    return Err(self.error(t.span(), format!(
                        "unknown membership_scheme {scheme:?} (expected wka, multicast, aws or kubernetes)"
                    )));
                }
                parameter("membershipScheme", scheme.clone());
            }
            if let Some(d) = &c.domain {
                parameter("domain", x(d)?);
            }
            if let Some(h) = &c.local_member_host {
                parameter("localMemberHost", x(h)?);
            }
            if let Some(p) = &c.local_member_port {
                let port = *p.get_ref();
                if !(1..=65535).contains(&port) {
                    return Err(self.error(
                        p.span(),
                        format!("local_member_port {port} is not from 1 to 65535"),
                    ));
                }
                parameter("localMemberPort", port.to_string());
            }
            for (key, value) in &c.parameters {
                parameter(key, x(value)?);
            }
            let members = match &c.members {
                Some(list) => {
                    let mut members = Vec::new();
                    let mut seen = std::collections::HashSet::new();
                    for m in list.get_ref() {
                        let text = x(m)?;
                        let member: Member =
                            text.parse().map_err(|e: String| self.error(m.span(), e))?;
                        if !seen.insert(member.clone()) {
                            return Err(
                                self.error(m.span(), format!("member {member} is listed twice"))
                            );
                        }
                        members.push(member);
                    }
                    Some(members)
                }
                None if scheme.as_deref() == Some("wka") => Some(self.derived_members(name, env)?),
                None => None,
            };
            if let Some(members) = members {
                steps.push(Step::Members(members));
            }
            for (key, value) in &c.properties {
                if let Some(t) = c.comment_out_properties.iter().find(|t| t.get_ref() == key) {
                    return Err(self.error(
                        t.span(),
                        format!("property {key} is both set (in `properties`) and commented out"),
                    ));
                }
                steps.push(Step::MemberProperty(key.clone(), x(value)?));
            }
            for t in &c.comment_out_properties {
                steps.push(Step::CommentOutMemberProperty(x(t)?));
            }
        }

        if let Some(t) = &s.tomcat {
            for (port, value) in [(9763u16, &t.http_proxy_port), (9443, &t.https_proxy_port)] {
                if let Some(v) = value {
                    if !(1..=65535).contains(v.get_ref()) {
                        return Err(self.error(v.span(), "a proxy port must be from 1 to 65535"));
                    }
                    steps.push(Step::ConnectorAttribute {
                        port,
                        name: "proxyPort".into(),
                        value: v.get_ref().to_string(),
                    });
                }
            }
        }

        if let Some(d) = &s.deployment_synchronizer {
            let mut field = |name: &'static str, value: String| {
                steps.push(Step::DeploymentSynchronizer(name, value))
            };
            if let Some(v) = d.enabled {
                field("Enabled", v.to_string());
            }
            if let Some(v) = d.auto_commit {
                field("AutoCommit", v.to_string());
            }
            if let Some(v) = d.auto_checkout {
                field("AutoCheckout", v.to_string());
            }
            if let Some(v) = &d.repository_type {
                field("RepositoryType", x(v)?);
            }
            if let Some(v) = &d.svn_url {
                field("SvnUrl", x(v)?);
            }
            if let Some(v) = &d.svn_user {
                field("SvnUser", x(v)?);
            }
            if let Some(v) = &d.svn_password {
                let value = secret(x(v)?, &mut node.secrets);
                field("SvnPassword", value);
            }
            if let Some(v) = d.svn_url_append_tenant_id {
                field("SvnUrlAppendTenantId", v.to_string());
            }
        }
        if let Some(m) = &s.mediation {
            if let Some(v) = m.load_from_registry {
                steps.push(Step::LoadFromRegistry(v));
            }
        }

        for ds in &s.datasource {
            let file = match &ds.file {
                Some(f) => {
                    let f = x(f)?;
                    if f.ends_with("-datasources.xml") {
                        f
                    } else {
                        format!("{f}-datasources.xml")
                    }
                }
                None => "master-datasources.xml".into(),
            };
            let file = format!("{}/{file}", carbon_config::files::DATASOURCES_DIR);
            let name = x(&ds.name)?;
            let state = ds
                .state
                .as_ref()
                .map(&x)
                .transpose()?
                .unwrap_or_else(|| "present".into());
            let has_fields = ds.url.is_some()
                || ds.jndi.is_some()
                || ds.password.is_some()
                || !ds.configuration.is_empty();
            match state.as_str() {
                "present" => {}
                "commented_out" | "absent" if has_fields => {
                    return Err(self.error(
                        ds.name.span(),
                        format!(
                            "datasource {name} is to be {state}, so it takes no other settings"
                        ),
                    ))
                }
                "commented_out" => {
                    steps.push(Step::CommentOutDatasource { file, name });
                    continue;
                }
                "absent" => {
                    steps.push(Step::RemoveDatasource { file, name });
                    continue;
                }
                other => {
                    let t = ds.state.as_ref().expect("a state was given");
                    return Err(self.error(
                        t.span(),
                        format!(
                            "unknown state {other:?} (expected present, commented_out or absent)"
                        ),
                    ));
                }
            }
            let mut configuration: Vec<(String, String)> = Vec::new();
            let mut put = |key: &str, value: String| configuration.push((key.into(), value));
            if let Some(v) = &ds.url {
                put("url", x(v)?);
            }
            if let Some(v) = &ds.username {
                put("username", x(v)?);
            }
            if let Some(v) = &ds.password {
                let value = secret(x(v)?, &mut node.secrets);
                put("password", value);
            }
            if let Some(v) = &ds.driver {
                put("driverClassName", x(v)?);
            }
            if let Some(v) = ds.max_active {
                put("maxActive", v.to_string());
            }
            if let Some(v) = ds.max_wait {
                put("maxWait", v.to_string());
            }
            if let Some(v) = ds.min_idle {
                put("minIdle", v.to_string());
            }
            if let Some(v) = ds.test_on_borrow {
                put("testOnBorrow", v.to_string());
            }
            if let Some(v) = &ds.validation_query {
                put("validationQuery", x(v)?);
            }
            if let Some(v) = ds.validation_interval {
                put("validationInterval", v.to_string());
            }
            if let Some(v) = ds.default_auto_commit {
                put("defaultAutoCommit", v.to_string());
            }
            for (key, value) in &ds.configuration {
                put(key, x(value)?);
            }
            steps.push(Step::Datasource {
                file,
                spec: DsSpec {
                    name,
                    description: ds.description.as_ref().map(&x).transpose()?,
                    jndi: ds.jndi.as_ref().map(&x).transpose()?,
                    definition_type: ds.definition_type.as_ref().map(&x).transpose()?,
                    configuration,
                },
            });
        }

        if let Some(r) = &s.registry {
            for db in &r.db_config {
                let name = x(&db.name)?;
                let config = match (&db.data_source, &db.jdbc) {
                    (Some(ds), None) => reg::DbConfig::DataSource(x(ds)?),
                    (None, Some(jdbc)) => {
                        reg::DbConfig::Jdbc(self.jdbc(jdbc.get_ref(), env, &mut node.secrets)?)
                    }
                    _ => {
                        return Err(self.error(
                            db.name.span(),
                            format!(
                                "dbConfig {name} needs exactly one of `data_source` and `jdbc`"
                            ),
                        ))
                    }
                };
                steps.push(Step::DbConfig(name, config));
            }
            if let Some(c) = &r.current_db_config {
                steps.push(Step::CurrentDbConfig(x(c)?));
            }
            for ri in &r.remote_instance {
                steps.push(Step::RemoteInstance(reg::RemoteInstance {
                    url: x(&ri.url)?,
                    id: x(&ri.id)?,
                    db_config: ri.db_config.as_ref().map(&x).transpose()?,
                    read_only: ri.read_only,
                    enable_cache: ri.enable_cache,
                    registry_root: ri.registry_root.as_ref().map(&x).transpose()?,
                    cache_id: ri.cache_id.as_ref().map(&x).transpose()?,
                }));
            }
            for m in &r.mount {
                steps.push(Step::Mount(reg::Mount {
                    path: x(&m.path)?,
                    overwrite: m
                        .overwrite
                        .as_ref()
                        .map(&x)
                        .transpose()?
                        .unwrap_or_else(|| "true".into()),
                    instance_id: x(&m.instance_id)?,
                    target_path: x(&m.target_path)?,
                }));
            }
        }

        if let Some(u) = &s.user_store {
            match (&u.data_source, &u.jdbc) {
                (Some(ds), Some(_)) => {
                    return Err(self.error(
                        ds.span(),
                        "user_store takes `data_source` or `jdbc`, not both",
                    ))
                }
                (Some(ds), None) => steps.push(Step::RealmDataSource(x(ds)?)),
                (None, Some(jdbc)) => steps.push(Step::RealmJdbc(self.jdbc(
                    jdbc.get_ref(),
                    env,
                    &mut node.secrets,
                )?)),
                (None, None) => {}
            }
            if let Some(v) = u.read_only {
                steps.push(Step::RealmReadOnly(v));
            }
            for (key, value) in &u.properties {
                steps.push(Step::RealmProperty(key.clone(), x(value)?));
            }
        }

        if let Some(e) = &s.event_processor {
            for (mode, settings) in [
                ("HA", &e.ha),
                ("Distributed", &e.distributed),
                ("SingleNode", &e.single_node),
            ] {
                let Some(m) = settings else { continue };
                if let Some(v) = m.enable {
                    steps.push(Step::EventMode { mode, enable: v });
                }
                if let Some(v) = m.presenter {
                    steps.push(Step::Presenter { mode, enable: v });
                }
                if let Some(v) = m.persistence {
                    steps.push(Step::Persistence { mode, enable: v });
                }
                match (&m.event_sync_host, mode) {
                    (Some(h), "HA") => {
                        let port = m.event_sync_port.as_ref().map(|p| *p.get_ref());
                        if let Some(p) = port.filter(|p| !(1..=65535).contains(p)) {
                            let t = m.event_sync_port.as_ref().expect("a port was given");
                            return Err(self.error(
                                t.span(),
                                format!("event_sync_port {p} is not from 1 to 65535"),
                            ));
                        }
                        steps.push(Step::EventSync {
                            host: x(h)?,
                            port: port.map(|p| p as u16),
                        });
                    }
                    (Some(h), _) => {
                        return Err(
                            self.error(h.span(), "event_sync_host belongs to the HA mode only")
                        )
                    }
                    (None, _) => {}
                }
            }
        }

        if let Some(spark) = &s.spark {
            for (key, value) in spark {
                steps.push(Step::Spark(key.clone(), x(value)?));
            }
        }

        for jar in &s.lib {
            let path = PathBuf::from(x(jar)?);
            let path = if path.is_relative() {
                self.path.parent().unwrap_or(Path::new(".")).join(path)
            } else {
                path
            };
            steps.push(Step::Lib(path));
        }

        for r in &s.raw {
            steps.push(self.raw(r, env)?);
        }
        Ok(())
    }

    fn jdbc(
        &self,
        j: &Jdbc,
        env: &dyn Env,
        secrets: &mut Vec<String>,
    ) -> Result<reg::Jdbc, RecipeError> {
        let password = self.expand(&j.password, env)?;
        if !password.is_empty() {
            secrets.push(password.clone());
        }
        Ok(reg::Jdbc {
            url: self.expand(&j.url, env)?,
            user_name: self.expand(&j.username, env)?,
            password,
            driver_name: self.expand(&j.driver, env)?,
            max_active: j.max_active,
            max_wait: j.max_wait,
            min_idle: j.min_idle,
        })
    }

    fn raw(&self, r: &Raw, env: &dyn Env) -> Result<Step, RecipeError> {
        let x = |t: &Text| self.expand(t, env);
        let need = |field: &Option<Text>, what: &str| -> Result<String, RecipeError> {
            match field {
                Some(t) => x(t),
                None => Err(self.error(
                    r.action.span(),
                    format!("action {} needs `{what}`", r.action.get_ref()),
                )),
            }
        };
        let action = match r.action.get_ref().as_str() {
            "set_attribute" => RawAction::SetAttribute {
                name: need(&r.attribute, "attribute")?,
                value: need(&r.value, "value")?,
            },
            "remove_attribute" => RawAction::RemoveAttribute {
                name: need(&r.attribute, "attribute")?,
            },
            "set_text" => RawAction::SetText(need(&r.value, "value")?),
            "insert" => {
                let place = match r.place.as_ref().map(&x).transpose()?.as_deref() {
                    None | Some("last_child") => RawPlace::LastChild,
                    Some("first_child") => RawPlace::FirstChild,
                    Some("before") => RawPlace::Before,
                    Some("after") => RawPlace::After,
                    Some(other) => {
                        let t = r.place.as_ref().expect("a place was given");
                        return Err(self.error(t.span(), format!(
                            "unknown place {other:?} (expected first_child, last_child, before or after)"
                        )));
                    }
                };
                let markup = need(&r.markup, "markup")?;
                // Checked here, where the recipe can point at it: found
                // only when applied, it was reported against the file it
                // was to go into, at the markup's own line and column.
                if let Err(e) = xmlsplice::Document::parse(markup.as_bytes()) {
                    let t = r.markup.as_ref().expect("a markup was given");
                    return Err(self.error(
                        t.span(),
                        format!("markup is not one well-formed XML element: {e}"),
                    ));
                }
                RawAction::Insert { place, markup }
            }
            "remove" => RawAction::Remove,
            "comment_out" => RawAction::CommentOut,
            "uncomment" => RawAction::Uncomment,
            other => {
                const ACTIONS: [&str; 7] = [
                    "set_attribute",
                    "remove_attribute",
                    "set_text",
                    "insert",
                    "remove",
                    "comment_out",
                    "uncomment",
                ];
                let hint = closest(other, &ACTIONS)
                    .map(|c| format!("; did you mean `{c}`?"))
                    .unwrap_or_default();
                return Err(self.error(
                    r.action.span(),
                    format!("unknown raw action {other:?}{hint}"),
                ));
            }
        };
        let path = x(&r.path)?;
        xmlsplice::Path::parse(&path).map_err(|e| self.error(r.path.span(), e.to_string()))?;
        Ok(Step::Raw {
            file: x(&r.file)?,
            path,
            action,
        })
    }

    /// wka members for `name`: every other node's local member host and port.
    fn derived_members(&self, name: &str, env: &dyn Env) -> Result<Vec<Member>, RecipeError> {
        let mut members = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for other in self.file.nodes.keys().filter(|n| *n != name) {
            let settings = self.settings_of(other);
            let clustering = settings.clustering.unwrap_or_default();
            let (Some(host), Some(port)) =
                (&clustering.local_member_host, &clustering.local_member_port)
            else {
                return Err(self.error(
                    self.file.nodes[other].span(),
                    format!(
                        "node {other} has no local_member_host and local_member_port, which node {name}'s \
                         wka members are derived from; set them, or give `members`"
                    ),
                ));
            };
            let text = format!("{}:{}", self.expand(host, env)?, port.get_ref());
            let member: Member = text
                .parse()
                .map_err(|e: String| self.error(host.span(), e))?;
            if seen.insert(member.clone()) {
                members.push(member);
            }
        }
        Ok(members)
    }
}
