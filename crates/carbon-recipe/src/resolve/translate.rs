//! A node's merged settings translated into its steps, one function per
//! recipe section. The steps come out in the order they run, which decides
//! what a plan shows (the golden diffs pin it): the server settings, then
//! clustering, Tomcat, the deployment synchronizer, mediation, datasources,
//! the registry, the user store, the event processor, Spark, `lib` and
//! `[[raw]]`. Every value is expanded here (`${env:…}`, `${var}`), and
//! every value the recipe itself calls a password is kept as a secret.

use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

use carbon_config::axis2::Member;
use carbon_config::datasources::Datasource as DsSpec;
use carbon_config::registry as reg;
use carbon_config::secrets::names_a_secret;
use carbon_config::validate::{Finding, Severity};

use super::{Env, Node, Recipe};
use crate::error::RecipeError;
use crate::model::*;
use crate::step::Step;

mod raw;

impl Recipe {
    /// Adds to `node` the steps (and secrets) of `settings`, node `name`'s
    /// merged settings.
    pub(super) fn translate(
        &self,
        name: &str,
        settings: &Settings,
        env: &dyn Env,
        node: &mut Node,
    ) -> Result<(), RecipeError> {
        let mut to = Translate {
            recipe: self,
            env,
            node,
            warnings: Default::default(),
            escaped: std::cell::Cell::new(true),
        };
        let s = settings;
        if let Some(server) = &s.server {
            to.server(server)?;
        }
        if let Some(clustering) = &s.clustering {
            to.clustering(name, clustering)?;
        }
        if let Some(tomcat) = &s.tomcat {
            to.tomcat(tomcat)?;
        }
        if let Some(sync) = &s.deployment_synchronizer {
            to.deployment_synchronizer(sync)?;
        }
        if let Some(v) = s
            .mediation
            .as_ref()
            .and_then(|m| m.load_from_registry.as_ref())
        {
            to.push(v.span(), Step::LoadFromRegistry(*v.get_ref()));
        }
        for datasource in &s.datasource {
            to.datasource(datasource)?;
        }
        if let Some(registry) = &s.registry {
            to.registry(registry)?;
        }
        if let Some(user_store) = &s.user_store {
            to.user_store(user_store)?;
        }
        if let Some(ds) = s.identity.as_ref().and_then(|i| i.data_source.as_ref()) {
            let jndi = to.x(ds)?;
            to.push(ds.span(), Step::IdentityDataSource(jndi));
        }
        if let Some(event_processor) = &s.event_processor {
            to.event_processor(event_processor)?;
        }
        if let Some(apim) = &s.apim {
            to.apim(apim)?;
        }
        // spark-defaults.conf is text: its values are written as they are.
        to.escaped.set(false);
        for (key, value) in s.spark.iter().flatten() {
            let value_text = to.x_keyed(key, value)?;
            to.push(value.span(), Step::Spark(key.clone(), value_text));
        }
        to.escaped.set(true);
        for jar in &s.lib {
            let path = PathBuf::from(to.x_unescaped(jar)?);
            let path = if path.is_relative() {
                self.path().parent().unwrap_or(Path::new(".")).join(path)
            } else {
                path
            };
            to.push(jar.span(), Step::Lib(path, self.owner()));
        }
        for raw in &s.raw {
            to.push(raw.path.span(), to.raw(raw)?);
        }
        let warnings = to.warnings.into_inner();
        to.node.warnings.extend(warnings);
        Ok(())
    }
}

/// One node's translation under way: the recipe (for expanding values and
/// pointing errors into it), the environment, and the node being filled.
struct Translate<'a> {
    recipe: &'a Recipe,
    env: &'a dyn Env,
    node: &'a mut Node,
    /// What the recipe should know about its own values (an entity
    /// reference that would be escaped again, a password written in it).
    warnings: std::cell::RefCell<Vec<Finding>>,
    /// Whether the values being expanded are written into XML by the
    /// engine, which escapes them: not Spark's text file, a path or markup.
    escaped: std::cell::Cell<bool>,
}

impl Translate<'_> {
    /// `text` expanded.
    fn x(&self, text: &Text) -> Result<String, RecipeError> {
        if self.escaped.get() {
            if let Some(entity) = entity_reference(text.get_ref()) {
                self.warn(
                    text.span(),
                    format!(
                        "`{entity}` is an XML entity reference, and carbon-patch escapes values \
                         itself: the file would get `&amp;{}`; write the character itself",
                        &entity[1..]
                    ),
                );
            }
        }
        self.recipe.expand(text, self.env)
    }

    /// `text` expanded, where the engine does not escape it (markup, a
    /// Spark value, a path).
    fn x_unescaped(&self, text: &Text) -> Result<String, RecipeError> {
        let was = self.escaped.replace(false);
        let value = self.x(text);
        self.escaped.set(was);
        value
    }

    /// `text` expanded into markup: an environment variable's value (a
    /// password, most often) is text there, escaped, so that `<` or `&` in
    /// it cannot break the markup or add to it.
    fn x_markup(&self, text: &Text) -> Result<String, RecipeError> {
        struct Escaped<'e>(&'e dyn Env);
        impl Env for Escaped<'_> {
            fn var(&self, name: &str) -> Option<String> {
                let value = self.0.var(name)?;
                Some(
                    value
                        .replace('&', "&amp;")
                        .replace('<', "&lt;")
                        .replace('>', "&gt;")
                        .replace('"', "&quot;")
                        .replace('\'', "&apos;"),
                )
            }
        }
        self.recipe.expand(text, &Escaped(self.env))
    }

    /// A warning about the recipe entry at `span`.
    fn warn(&self, span: Range<usize>, message: String) {
        let source = &self.recipe.text.source;
        self.warnings.borrow_mut().push(Finding {
            severity: Severity::Warning,
            file: self.recipe.path().to_path_buf(),
            at: Some(xmlsplice::TextPos::of_offset(source, span.start)),
            message,
        });
    }

    /// `text` expanded, when given.
    fn x_opt(&self, text: &Option<Text>) -> Result<Option<String>, RecipeError> {
        text.as_ref().map(|t| self.x(t)).transpose()
    }

    /// `text` expanded, and kept as a secret (masked in every output). One
    /// written in the recipe itself is a warning: whoever reads the recipe
    /// (a repository, a CI log) reads the password.
    fn x_secret(&mut self, text: &Text) -> Result<String, RecipeError> {
        let value = self.x(text)?;
        if !value.is_empty() {
            self.node.secrets.push(value.clone());
            // `${env:…}` is the recipe's reference; `$secret{…}`, `$env{…}`
            // and `$sys{…}` are WSO2's, resolved by the server.
            let wso2 = ["$secret{", "$env{", "$sys{"]
                .iter()
                .any(|p| text.get_ref().trim_start().starts_with(p));
            if !text.get_ref().contains("${") && !wso2 {
                self.warn(
                    text.span(),
                    "a password written in the recipe: take it from the environment \
                     (`${env:NAME}`), so that the recipe holds no secret"
                        .to_string(),
                );
            }
        }
        Ok(value)
    }

    /// The value the recipe gives `key` in a table of names WSO2 chose
    /// (Spark keys, clustering parameters and properties, a datasource's
    /// other configuration, user store properties), expanded; kept as a
    /// secret when the key names one ([`names_a_secret`]): a literal there
    /// is as secret as a datasource's password.
    fn x_keyed(&mut self, key: &str, text: &Text) -> Result<String, RecipeError> {
        if names_a_secret(key) {
            self.x_secret(text)
        } else {
            self.x(text)
        }
    }

    /// Adds `step`, asked for by the recipe text at `at` (a value's span,
    /// or `None` for a step the recipe only implies).
    fn push(&mut self, at: impl Into<Option<Range<usize>>>, step: Step) {
        self.node.steps.push(step);
        self.node.origins.push(at.into());
    }

    fn error(&self, span: std::ops::Range<usize>, message: impl Into<String>) -> RecipeError {
        self.recipe.error(span, message)
    }

    /// `[server]`.
    fn server(&mut self, server: &Server) -> Result<(), RecipeError> {
        if let Some(h) = &server.hostname {
            self.push(h.span(), Step::HostName(self.x(h)?));
        }
        if let Some(h) = &server.mgt_hostname {
            self.push(h.span(), Step::MgtHostName(self.x(h)?));
        }
        // After the host names: each uncomments an element, and the next
        // step on carbon.xml parses the file again to see it. With the
        // offset (which differs between the nodes on one machine) still
        // unset, those texts are the same on every node that shares its
        // host names, and a fleet parses them once (xmlsplice::TreeCache).
        if let Some(offset) = &server.offset {
            self.push(offset.span(), Step::Offset(*offset.get_ref()));
        }
        Ok(())
    }

    /// `[clustering]`, in axis2.xml. `name` is the node's, for wka members
    /// derived from the other nodes.
    fn clustering(&mut self, name: &str, c: &Clustering) -> Result<(), RecipeError> {
        match &c.enable {
            Some(on) => self.push(on.span(), Step::ClusteringEnabled(*on.get_ref())),
            None => self.push(None, Step::ClusteringEnabled(true)),
        }
        let parameter = |name: &str, value: String| Step::ClusteringParameter(name.into(), value);
        let scheme = self.x_opt(&c.membership_scheme)?;
        if let (Some(scheme), Some(t)) = (&scheme, &c.membership_scheme) {
            if !["wka", "multicast", "aws", "kubernetes"].contains(&scheme.as_str()) {
                return Err(self.error(
                    t.span(),
                    format!(
                        "unknown membership_scheme {scheme:?} (expected wka, multicast, aws or kubernetes)"
                    ),
                ));
            }
            self.push(t.span(), parameter("membershipScheme", scheme.clone()));
        }
        if let Some(d) = &c.domain {
            self.push(d.span(), parameter("domain", self.x(d)?));
        }
        if let Some(h) = &c.local_member_host {
            self.push(h.span(), parameter("localMemberHost", self.x(h)?));
        }
        if let Some(p) = &c.local_member_port {
            let port = *p.get_ref();
            if !(1..=65535).contains(&port) {
                return Err(self.error(
                    p.span(),
                    format!("local_member_port {port} is not from 1 to 65535"),
                ));
            }
            self.push(p.span(), parameter("localMemberPort", port.to_string()));
        }
        for (key, value) in &c.parameters {
            let step = parameter(key, self.x_keyed(key, value)?);
            self.push(value.span(), step);
        }
        // Derived members were asked for by `membership_scheme = "wka"`.
        let members = match (&c.members, &c.membership_scheme) {
            (Some(list), _) => Some((list.span(), self.members(list.get_ref())?)),
            (None, Some(t)) if scheme.as_deref() == Some("wka") => {
                Some((t.span(), self.recipe.derived_members(name, self.env)?))
            }
            (None, _) => None,
        };
        if let Some((at, members)) = members {
            self.push(at, Step::Members(members));
        }
        for (key, value) in &c.properties {
            if let Some(t) = c.comment_out_properties.iter().find(|t| t.get_ref() == key) {
                return Err(self.error(
                    t.span(),
                    format!("property {key} is both set (in `properties`) and commented out"),
                ));
            }
            let step = Step::MemberProperty(key.clone(), self.x_keyed(key, value)?);
            self.push(value.span(), step);
        }
        for t in &c.comment_out_properties {
            self.push(t.span(), Step::CommentOutMemberProperty(self.x(t)?));
        }
        Ok(())
    }

    /// `members`: each `host:port`, none twice.
    fn members(&self, list: &[Text]) -> Result<Vec<Member>, RecipeError> {
        let mut members = Vec::new();
        let mut seen = HashSet::new();
        for m in list {
            let member: Member = self
                .x(m)?
                .parse()
                .map_err(|e: String| self.error(m.span(), e))?;
            if !seen.insert(member.clone()) {
                return Err(self.error(m.span(), format!("member {member} is listed twice")));
            }
            members.push(member);
        }
        Ok(members)
    }

    /// `[tomcat]`: the proxy ports of the HTTP (9763) and HTTPS (9443) connectors.
    fn tomcat(&mut self, t: &Tomcat) -> Result<(), RecipeError> {
        for (port, value) in [(9763u16, &t.http_proxy_port), (9443, &t.https_proxy_port)] {
            let Some(v) = value else { continue };
            if !(1..=65535).contains(v.get_ref()) {
                return Err(self.error(v.span(), "a proxy port must be from 1 to 65535"));
            }
            self.push(
                v.span(),
                Step::ConnectorAttribute {
                    port,
                    name: "proxyPort".into(),
                    value: v.get_ref().to_string(),
                },
            );
        }
        Ok(())
    }

    /// `[apim]`, in api-manager.xml: each setting given, then the gateway
    /// environments.
    fn apim(&mut self, a: &Apim) -> Result<(), RecipeError> {
        let mut texts: Vec<(&'static str, &Option<Text>)> = Vec::new();
        let mut flags: Vec<(&'static str, &Option<Flag>)> = Vec::new();
        let mut ports: Vec<(&'static str, &Option<toml::Spanned<u32>>)> = Vec::new();
        if let Some(k) = &a.key_manager {
            texts.push(("key_manager.service_url", &k.service_url));
            texts.push(("key_manager.client_type", &k.client_type));
            flags.push(("key_manager.enable_thrift_server", &k.enable_thrift_server));
            ports.push(("key_manager.thrift_client_port", &k.thrift_client_port));
            texts.push(("key_manager.thrift_server_host", &k.thrift_server_host));
            ports.push(("key_manager.thrift_server_port", &k.thrift_server_port));
        }
        if let Some(m) = &a.auth_manager {
            texts.push(("auth_manager.service_url", &m.service_url));
        }
        if let Some(o) = &a.oauth_config {
            texts.push(("oauth_config.revoke_endpoint", &o.revoke_endpoint));
        }
        if let Some(t) = &a.throttling {
            flags.push((
                "throttling.enable_data_publishing",
                &t.enable_data_publishing,
            ));
            texts.push(("throttling.receiver_url", &t.receiver_url));
            texts.push(("throttling.auth_url", &t.auth_url));
            texts.push(("throttling.policy_deployer_url", &t.policy_deployer_url));
            flags.push((
                "throttling.enable_blacklist_condition",
                &t.enable_blacklist_condition,
            ));
            flags.push((
                "throttling.enable_decision_connection",
                &t.enable_decision_connection,
            ));
            texts.push(("throttling.decision_url", &t.decision_url));
        }
        if let Some(an) = &a.analytics {
            flags.push(("analytics.enable", &an.enable));
            texts.push(("analytics.receiver_url", &an.receiver_url));
            texts.push(("analytics.store_api_url", &an.store_api_url));
        }
        if let Some(d) = &a.devportal {
            texts.push(("devportal.url", &d.url));
        }
        if let Some(p) = &a.publisher {
            texts.push(("publisher.url", &p.url));
        }
        for (setting, value) in texts {
            if let Some(v) = value {
                let text = self.x(v)?;
                self.push(v.span(), Step::ApimSetting(setting, text));
            }
        }
        for (setting, value) in flags {
            if let Some(v) = value {
                self.push(
                    v.span(),
                    Step::ApimSetting(setting, v.get_ref().to_string()),
                );
            }
        }
        for (setting, value) in ports {
            if let Some(v) = value {
                if !(1..=65535).contains(v.get_ref()) {
                    return Err(self.error(v.span(), "a port must be from 1 to 65535"));
                }
                self.push(
                    v.span(),
                    Step::ApimSetting(setting, v.get_ref().to_string()),
                );
            }
        }
        let Some(gateway) = &a.gateway else {
            return Ok(());
        };
        let mut environments = Vec::new();
        let mut seen = HashSet::new();
        for e in &gateway.environment {
            let name = self.x(&e.name)?;
            if !seen.insert(name.clone()) {
                return Err(self.error(
                    e.name.span(),
                    format!("a second gateway environment named {name:?}"),
                ));
            }
            if let Some(kind) = &e.kind {
                if !["hybrid", "production", "sandbox"].contains(&kind.get_ref().as_str()) {
                    return Err(self.error(
                        kind.span(),
                        "an environment's type is hybrid, production or sandbox",
                    ));
                }
            }
            environments.push(carbon_config::api_manager::Environment {
                name,
                kind: self.x_opt(&e.kind)?,
                display_in_api_console: e.display_in_api_console.as_ref().map(|f| *f.get_ref()),
                description: self.x_opt(&e.description)?,
                service_url: self.x_opt(&e.service_url)?,
                username: self.x_opt(&e.username)?,
                password: e.password.as_ref().map(|p| self.x_secret(p)).transpose()?,
                http_endpoint: self.x_opt(&e.http_endpoint)?,
                https_endpoint: self.x_opt(&e.https_endpoint)?,
            });
        }
        let span = gateway
            .environment
            .first()
            .map(|e| e.name.span())
            .unwrap_or(0..0);
        self.push(span, Step::ApimEnvironments(environments));
        Ok(())
    }

    /// `[deployment_synchronizer]`, in carbon.xml.
    fn deployment_synchronizer(&mut self, d: &DeploymentSynchronizer) -> Result<(), RecipeError> {
        let flag = |me: &mut Self, name: &'static str, value: &Option<Flag>| {
            if let Some(v) = value {
                me.push(
                    v.span(),
                    Step::DeploymentSynchronizer(name, v.get_ref().to_string()),
                );
            }
        };
        flag(self, "Enabled", &d.enabled);
        flag(self, "AutoCommit", &d.auto_commit);
        flag(self, "AutoCheckout", &d.auto_checkout);
        for (name, value) in [
            ("RepositoryType", &d.repository_type),
            ("SvnUrl", &d.svn_url),
            ("SvnUser", &d.svn_user),
        ] {
            if let Some(v) = value {
                self.push(v.span(), Step::DeploymentSynchronizer(name, self.x(v)?));
            }
        }
        if let Some(v) = &d.svn_password {
            let password = self.x_secret(v)?;
            self.push(
                v.span(),
                Step::DeploymentSynchronizer("SvnPassword", password),
            );
        }
        flag(self, "SvnUrlAppendTenantId", &d.svn_url_append_tenant_id);
        Ok(())
    }

    /// One `[[datasource]]`: added or updated, commented out, or removed.
    fn datasource(&mut self, ds: &Datasource) -> Result<(), RecipeError> {
        let file = match &ds.file {
            Some(f) => {
                let f = self.x(f)?;
                if f.ends_with("-datasources.xml") {
                    f
                } else {
                    format!("{f}-datasources.xml")
                }
            }
            None => "master-datasources.xml".into(),
        };
        let file = format!("{}/{file}", carbon_config::files::DATASOURCES_DIR);
        let name = self.x(&ds.name)?;
        let state = self.x_opt(&ds.state)?.unwrap_or_else(|| "present".into());
        let has_fields = ds.url.is_some()
            || ds.jndi.is_some()
            || ds.password.is_some()
            || !ds.configuration.is_empty();
        match state.as_str() {
            "present" => {}
            "commented_out" | "absent" if has_fields => {
                return Err(self.error(
                    ds.name.span(),
                    format!("datasource {name} is to be {state}, so it takes no other settings"),
                ))
            }
            "commented_out" => {
                self.push(ds.name.span(), Step::CommentOutDatasource { file, name });
                return Ok(());
            }
            "absent" => {
                self.push(ds.name.span(), Step::RemoveDatasource { file, name });
                return Ok(());
            }
            other => {
                let t = ds.state.as_ref().expect("a state was given");
                return Err(self.error(
                    t.span(),
                    format!("unknown state {other:?} (expected present, commented_out or absent)"),
                ));
            }
        }
        let configuration = self.datasource_configuration(ds)?;
        let spec = DsSpec {
            name,
            description: self.x_opt(&ds.description)?,
            jndi: self.x_opt(&ds.jndi)?,
            definition_type: self.x_opt(&ds.definition_type)?,
            configuration,
        };
        self.push(ds.name.span(), Step::Datasource { file, spec });
        Ok(())
    }

    /// A datasource's `<configuration>` children, named as WSO2 names them,
    /// then the recipe's own `configuration` entries.
    fn datasource_configuration(
        &mut self,
        ds: &Datasource,
    ) -> Result<Vec<(String, String)>, RecipeError> {
        let number = |key: &str, v: Option<u32>| v.map(|v| (key.to_string(), v.to_string()));
        let flag = |key: &str, v: Option<bool>| v.map(|v| (key.to_string(), v.to_string()));
        let text = |me: &Self, key: &str, v: &Option<Text>| -> Result<_, RecipeError> {
            Ok(me.x_opt(v)?.map(|v| (key.to_string(), v)))
        };
        let mut configuration = vec![
            text(self, "url", &ds.url)?,
            text(self, "username", &ds.username)?,
        ];
        if let Some(v) = &ds.password {
            configuration.push(Some(("password".into(), self.x_secret(v)?)));
        }
        configuration.extend([
            text(self, "driverClassName", &ds.driver)?,
            number("maxActive", ds.max_active),
            number("maxWait", ds.max_wait),
            number("minIdle", ds.min_idle),
            flag("testOnBorrow", ds.test_on_borrow),
            text(self, "validationQuery", &ds.validation_query)?,
            number("validationInterval", ds.validation_interval),
            flag("defaultAutoCommit", ds.default_auto_commit),
        ]);
        let mut configuration: Vec<_> = configuration.into_iter().flatten().collect();
        for (key, value) in &ds.configuration {
            configuration.push((key.clone(), self.x_keyed(key, value)?));
        }
        Ok(configuration)
    }

    /// `[registry]`: dbConfigs, the current one, remote instances, mounts.
    fn registry(&mut self, r: &Registry) -> Result<(), RecipeError> {
        for db in &r.db_config {
            let name = self.x(&db.name)?;
            let config = match (&db.data_source, &db.jdbc) {
                (Some(ds), None) => reg::DbConfig::DataSource(self.x(ds)?),
                (None, Some(jdbc)) => reg::DbConfig::Jdbc(self.jdbc(jdbc.get_ref())?),
                _ => {
                    return Err(self.error(
                        db.name.span(),
                        format!("dbConfig {name} needs exactly one of `data_source` and `jdbc`"),
                    ))
                }
            };
            self.push(db.name.span(), Step::DbConfig(name, config));
        }
        if let Some(c) = &r.current_db_config {
            self.push(c.span(), Step::CurrentDbConfig(self.x(c)?));
        }
        for ri in &r.remote_instance {
            let instance = reg::RemoteInstance {
                url: self.x(&ri.url)?,
                id: self.x(&ri.id)?,
                db_config: self.x_opt(&ri.db_config)?,
                read_only: ri.read_only,
                enable_cache: ri.enable_cache,
                registry_root: self.x_opt(&ri.registry_root)?,
                cache_id: self.x_opt(&ri.cache_id)?,
            };
            self.push(ri.id.span(), Step::RemoteInstance(instance));
        }
        for m in &r.mount {
            let mount = reg::Mount {
                path: self.x(&m.path)?,
                overwrite: self.x_opt(&m.overwrite)?.unwrap_or_else(|| "true".into()),
                instance_id: self.x(&m.instance_id)?,
                target_path: self.x(&m.target_path)?,
            };
            self.push(m.path.span(), Step::Mount(mount));
        }
        Ok(())
    }

    /// `[user_store]`, in user-mgt.xml.
    fn user_store(&mut self, u: &UserStore) -> Result<(), RecipeError> {
        match (&u.data_source, &u.jdbc) {
            (Some(ds), Some(_)) => {
                return Err(self.error(
                    ds.span(),
                    "user_store takes `data_source` or `jdbc`, not both",
                ))
            }
            (Some(ds), None) => {
                self.push(ds.span(), Step::RealmDataSource(self.x(ds)?));
            }
            (None, Some(jdbc)) => {
                let step = Step::RealmJdbc(self.jdbc(jdbc.get_ref())?);
                self.push(jdbc.span(), step);
            }
            (None, None) => {}
        }
        if let Some(v) = &u.read_only {
            self.push(v.span(), Step::RealmReadOnly(*v.get_ref()));
        }
        for (key, value) in &u.properties {
            let step = Step::RealmProperty(key.clone(), self.x_keyed(key, value)?);
            self.push(value.span(), step);
        }
        // The primary manager first: its properties go into the one active.
        if let Some(kind) = &u.kind {
            let known = carbon_config::user_mgt::USER_STORE_MANAGERS;
            if !known.iter().any(|(k, _)| k == kind.get_ref()) {
                let kinds: Vec<&str> = known.iter().map(|(k, _)| *k).collect();
                return Err(self.error(
                    kind.span(),
                    format!("a user store type is one of {}", kinds.join(", ")),
                ));
            }
            self.push(kind.span(), Step::UserStoreManager(kind.get_ref().clone()));
        }
        for (key, value) in &u.manager_properties {
            let step = Step::UserStoreProperty(key.clone(), self.x_keyed(key, value)?);
            self.push(value.span(), step);
        }
        Ok(())
    }

    /// A `jdbc` table (of a dbConfig or the user store); its password is a secret.
    fn jdbc(&mut self, j: &Jdbc) -> Result<reg::Jdbc, RecipeError> {
        let password = self.x_secret(&j.password)?;
        Ok(reg::Jdbc {
            url: self.x(&j.url)?,
            user_name: self.x(&j.username)?,
            password,
            driver_name: self.x(&j.driver)?,
            max_active: j.max_active,
            max_wait: j.max_wait,
            min_idle: j.min_idle,
        })
    }

    /// `[event_processor]`: each mode's switches, and HA's event sync address.
    fn event_processor(&mut self, e: &EventProcessor) -> Result<(), RecipeError> {
        for (mode, settings) in [
            ("HA", &e.ha),
            ("Distributed", &e.distributed),
            ("SingleNode", &e.single_node),
        ] {
            let Some(m) = settings else { continue };
            if let Some(v) = &m.enable {
                let enable = *v.get_ref();
                self.push(v.span(), Step::EventMode { mode, enable });
            }
            if let Some(v) = &m.presenter {
                let enable = *v.get_ref();
                self.push(v.span(), Step::Presenter { mode, enable });
            }
            if let Some(v) = &m.persistence {
                let enable = *v.get_ref();
                self.push(v.span(), Step::Persistence { mode, enable });
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
                    self.push(
                        h.span(),
                        Step::EventSync {
                            host: self.x(h)?,
                            port: port.map(|p| p as u16),
                        },
                    );
                }
                (Some(h), _) => {
                    return Err(self.error(h.span(), "event_sync_host belongs to the HA mode only"))
                }
                (None, _) => {}
            }
        }
        Ok(())
    }
}

/// The first XML entity reference in `value` (`&amp;`, `&#38;`, `&#x26;`),
/// if it holds one.
fn entity_reference(value: &str) -> Option<&str> {
    let bytes = value.as_bytes();
    for (at, _) in value.match_indices('&') {
        let rest = &bytes[at + 1..];
        let name_len = match rest.first() {
            Some(b'#') => {
                let digits = &rest[1..];
                let hex = digits.first() == Some(&b'x');
                let body = if hex { &digits[1..] } else { digits };
                let len = body
                    .iter()
                    .take_while(|b| {
                        if hex {
                            b.is_ascii_hexdigit()
                        } else {
                            b.is_ascii_digit()
                        }
                    })
                    .count();
                (len > 0).then_some(1 + usize::from(hex) + len)
            }
            Some(b) if b.is_ascii_alphabetic() => Some(
                rest.iter()
                    .take_while(|b| b.is_ascii_alphanumeric())
                    .count(),
            ),
            _ => None,
        };
        if let Some(len) = name_len {
            if rest.get(len) == Some(&b';') {
                return Some(&value[at..at + 1 + len + 1]);
            }
        }
    }
    None
}
