//! The recipe file, as written: every section and key, with the spans of
//! the values that later checks may need to point at.
//!
//! Key names follow WSO2's own deployment.toml (Carbon 4.5+) where one
//! exists (`[server] offset`, `hostname`, `mgt_hostname`;
//! `[clustering] membership_scheme`, `local_member_host`, ...), so people who
//! know newer products feel at home. Unknown keys are errors, so a typo
//! never silently does nothing.

use serde::Deserialize;
use toml::Spanned;

/// A table of the recipe by key, in the order the recipe writes it: nodes
/// are planned and shown, and new elements and keys are added, in that
/// order (a sorted map put `node10` before `node2`).
pub type Map<V> = indexmap::IndexMap<String, V>;

/// A string value with its place in the recipe.
pub type Text = Spanned<String>;

/// A switch that becomes a step, with its place in the recipe (shown when
/// carrying the step out fails).
pub type Flag = Spanned<bool>;

/// `[server]`: carbon.xml host names and port offset.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// `<Ports><Offset>`.
    pub offset: Option<Spanned<u32>>,
    /// `<HostName>`.
    pub hostname: Option<Text>,
    /// `<MgtHostName>`.
    pub mgt_hostname: Option<Text>,
}

/// `[clustering]`: axis2.xml Hazelcast clustering.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clustering {
    /// `enable` on `<clustering>`; true when the section sets anything else.
    pub enable: Option<Flag>,
    /// `membershipScheme`: wka, multicast, aws or kubernetes.
    pub membership_scheme: Option<Text>,
    /// `domain`.
    pub domain: Option<Text>,
    /// `localMemberHost`.
    pub local_member_host: Option<Text>,
    /// `localMemberPort`.
    pub local_member_port: Option<Spanned<u32>>,
    /// The well-known members, `host:port` (IPv6: `[fe80::1]:4000`); with wka and none given, the
    /// other nodes of the recipe.
    pub members: Option<Spanned<Vec<Text>>>,
    /// Any other clustering `<parameter>` by its axis2.xml name.
    #[serde(default)]
    pub parameters: Map<Text>,
    /// Member properties (`subDomain = "mgt"`).
    #[serde(default)]
    pub properties: Map<Text>,
    /// Member properties to comment out.
    #[serde(default)]
    pub comment_out_properties: Vec<Text>,
}

/// `[[datasource]]`: a datasource in a `*-datasources.xml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Datasource {
    /// The datasource's `<name>`.
    pub name: Text,
    /// Which file: `master` (the default), `analytics`, `social`, ... or a
    /// full `*-datasources.xml` name.
    pub file: Option<Text>,
    /// present (the default), commented_out or absent.
    pub state: Option<Text>,
    /// `<description>`.
    pub description: Option<Text>,
    /// `<jndiConfig><name>`.
    pub jndi: Option<Text>,
    /// `<definition type>`.
    pub definition_type: Option<Text>,
    /// `url`.
    pub url: Option<Text>,
    /// `username`.
    pub username: Option<Text>,
    /// `password`: use `${env:NAME}`.
    pub password: Option<Text>,
    /// `driverClassName`.
    pub driver: Option<Text>,
    /// `maxActive`.
    pub max_active: Option<u32>,
    /// `maxWait`.
    pub max_wait: Option<u32>,
    /// `minIdle`.
    pub min_idle: Option<u32>,
    /// `testOnBorrow`.
    pub test_on_borrow: Option<bool>,
    /// `validationQuery`.
    pub validation_query: Option<Text>,
    /// `validationInterval`.
    pub validation_interval: Option<u32>,
    /// `defaultAutoCommit`.
    pub default_auto_commit: Option<bool>,
    /// Any other `<configuration>` child, by its XML name.
    #[serde(default)]
    pub configuration: Map<Text>,
}

/// JDBC settings in the older form (registry dbConfig, user-mgt properties).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Jdbc {
    /// `url`.
    pub url: Text,
    /// `userName`.
    pub username: Text,
    /// `password`: use `${env:NAME}`.
    pub password: Text,
    /// `driverName`.
    pub driver: Text,
    /// `maxActive`.
    pub max_active: Option<u32>,
    /// `maxWait`.
    pub max_wait: Option<u32>,
    /// `minIdle`.
    pub min_idle: Option<u32>,
}

/// `[[registry.db_config]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DbConfig {
    /// `name`.
    pub name: Text,
    /// The `dataSource` form: a JNDI name.
    pub data_source: Option<Text>,
    /// The JDBC form.
    pub jdbc: Option<Spanned<Jdbc>>,
}

/// `[[registry.remote_instance]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteInstance {
    /// The `url` attribute.
    pub url: Text,
    /// `<id>`.
    pub id: Text,
    /// `<dbConfig>`.
    pub db_config: Option<Text>,
    /// `<readOnly>`.
    pub read_only: Option<bool>,
    /// `<enableCache>`.
    pub enable_cache: Option<bool>,
    /// `<registryRoot>`.
    pub registry_root: Option<Text>,
    /// `<cacheId>`.
    pub cache_id: Option<Text>,
}

/// `[[registry.mount]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mount {
    /// The `path` attribute.
    pub path: Text,
    /// `overwrite`: true (the default), false or virtual.
    pub overwrite: Option<Text>,
    /// `<instanceId>`.
    pub instance_id: Text,
    /// `<targetPath>`.
    pub target_path: Text,
}

/// `[registry]`: registry.xml.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    /// `<currentDBConfig>`.
    pub current_db_config: Option<Text>,
    /// dbConfigs, by name.
    #[serde(default)]
    pub db_config: Vec<DbConfig>,
    /// Remote instances, by id.
    #[serde(default)]
    pub remote_instance: Vec<RemoteInstance>,
    /// Mounts, by path.
    #[serde(default)]
    pub mount: Vec<Mount>,
}

/// `[user_store]`: user-mgt.xml's realm.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserStore {
    /// `<Property name="dataSource">`.
    pub data_source: Option<Text>,
    /// The older JDBC properties.
    pub jdbc: Option<Spanned<Jdbc>>,
    /// `<ReadOnly>`.
    pub read_only: Option<Flag>,
    /// Any other realm `<Property>`.
    #[serde(default)]
    pub properties: Map<Text>,
    /// The primary user store: `database`, `read_write_ldap`,
    /// `read_only_ldap` or `active_directory`.
    #[serde(rename = "type")]
    pub kind: Option<Text>,
    /// The primary user store manager's `<Property>`s.
    #[serde(default)]
    pub manager_properties: Map<Text>,
}

/// `[identity]`: Identity Server's identity.xml.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// `<JDBCPersistenceManager><DataSource><Name>`: the identity database.
    pub data_source: Option<Text>,
}

/// `[deployment_synchronizer]`: carbon.xml.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentSynchronizer {
    /// `Enabled`.
    pub enabled: Option<Flag>,
    /// `AutoCommit`.
    pub auto_commit: Option<Flag>,
    /// `AutoCheckout`.
    pub auto_checkout: Option<Flag>,
    /// `RepositoryType`.
    pub repository_type: Option<Text>,
    /// `SvnUrl`.
    pub svn_url: Option<Text>,
    /// `SvnUser`.
    pub svn_user: Option<Text>,
    /// `SvnPassword`: use `${env:NAME}`.
    pub svn_password: Option<Text>,
    /// `SvnUrlAppendTenantId`.
    pub svn_url_append_tenant_id: Option<Flag>,
}

/// `[mediation]`: carbon.xml's MediationConfig.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mediation {
    /// `LoadFromRegistry`.
    pub load_from_registry: Option<Flag>,
}

/// `[tomcat]`: catalina-server.xml connectors.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tomcat {
    /// `proxyPort` on the HTTP connector (port 9763).
    pub http_proxy_port: Option<Spanned<u32>>,
    /// `proxyPort` on the HTTPS connector (port 9443).
    pub https_proxy_port: Option<Spanned<u32>>,
}

/// `[apim]`: API Manager 1.9 to 2.x (api-manager.xml), its keys as API
/// Manager 3.x's deployment.toml names them.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Apim {
    /// `[apim.gateway]`.
    pub gateway: Option<ApimGateway>,
    /// `[apim.key_manager]`.
    pub key_manager: Option<ApimKeyManager>,
    /// `[apim.auth_manager]`.
    pub auth_manager: Option<ApimServiceUrl>,
    /// `[apim.oauth_config]`.
    pub oauth_config: Option<ApimOauthConfig>,
    /// `[apim.throttling]`.
    pub throttling: Option<ApimThrottling>,
    /// `[apim.analytics]`.
    pub analytics: Option<ApimAnalytics>,
    /// `[apim.devportal]`: the store.
    pub devportal: Option<ApimUrl>,
    /// `[apim.publisher]`.
    pub publisher: Option<ApimUrl>,
}

/// `[apim.gateway]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApimGateway {
    /// `[[apim.gateway.environment]]`: exactly the gateway environments.
    #[serde(default)]
    pub environment: Vec<ApimEnvironment>,
}

/// `[[apim.gateway.environment]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApimEnvironment {
    /// `<Name>`: what identifies it.
    pub name: Text,
    /// `hybrid`, `production` or `sandbox`.
    #[serde(rename = "type")]
    pub kind: Option<Text>,
    /// Listed in the API console.
    pub display_in_api_console: Option<Flag>,
    /// `<Description>`.
    pub description: Option<Text>,
    /// `<ServerURL>`: the gateway's admin services.
    pub service_url: Option<Text>,
    /// `<Username>`.
    pub username: Option<Text>,
    /// `<Password>`.
    pub password: Option<Text>,
    /// The HTTP half of `<GatewayEndpoint>`.
    pub http_endpoint: Option<Text>,
    /// The HTTPS half of `<GatewayEndpoint>`.
    pub https_endpoint: Option<Text>,
}

/// `[apim.key_manager]`: `<APIKeyValidator>`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApimKeyManager {
    /// `<ServerURL>`.
    pub service_url: Option<Text>,
    /// `<KeyValidatorClientType>`: `ThriftClient` or `WSClient`.
    pub client_type: Option<Text>,
    /// `<EnableThriftServer>`.
    pub enable_thrift_server: Option<Flag>,
    /// `<ThriftClientPort>`.
    pub thrift_client_port: Option<Spanned<u32>>,
    /// `<ThriftServerHost>`.
    pub thrift_server_host: Option<Text>,
    /// `<ThriftServerPort>`.
    pub thrift_server_port: Option<Spanned<u32>>,
}

/// A table with a service URL (`[apim.auth_manager]`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApimServiceUrl {
    /// `<ServerURL>`.
    pub service_url: Option<Text>,
}

/// `[apim.oauth_config]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApimOauthConfig {
    /// `<RevokeAPIURL>`.
    pub revoke_endpoint: Option<Text>,
}

/// `[apim.throttling]`: `<ThrottlingConfigurations>`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApimThrottling {
    /// `<DataPublisher><Enabled>`.
    pub enable_data_publishing: Option<Flag>,
    /// `<DataPublisher><ReceiverUrlGroup>`: the traffic managers.
    pub receiver_url: Option<Text>,
    /// `<DataPublisher><AuthUrlGroup>`.
    pub auth_url: Option<Text>,
    /// `<PolicyDeployer><ServiceURL>`.
    pub policy_deployer_url: Option<Text>,
    /// `<BlockCondition><Enabled>`.
    pub enable_blacklist_condition: Option<Flag>,
    /// `<JMSConnectionDetails><Enabled>`.
    pub enable_decision_connection: Option<Flag>,
    /// `<JMSConnectionDetails><ServiceURL>`: the traffic manager's JMS.
    pub decision_url: Option<Text>,
}

/// `[apim.analytics]`: `<Analytics>`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApimAnalytics {
    /// `<Enabled>`.
    pub enable: Option<Flag>,
    /// `<DASServerURL>`.
    pub receiver_url: Option<Text>,
    /// `<DASRestApiURL>`.
    pub store_api_url: Option<Text>,
}

/// A table with a URL (`[apim.devportal]`, `[apim.publisher]`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApimUrl {
    /// `<URL>`.
    pub url: Option<Text>,
}

/// One event processor mode's settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventMode {
    /// `enable` on `<mode>`.
    pub enable: Option<Flag>,
    /// `nodeType/presenter enable`.
    pub presenter: Option<Flag>,
    /// `persistence enable`.
    pub persistence: Option<Flag>,
    /// HA only: `eventSync/hostName`.
    pub event_sync_host: Option<Text>,
    /// HA only: `eventSync/port`.
    pub event_sync_port: Option<Spanned<u32>>,
}

/// `[event_processor]`: event-processor.xml.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventProcessor {
    /// `<mode name="HA">`.
    pub ha: Option<EventMode>,
    /// `<mode name="Distributed">`.
    pub distributed: Option<EventMode>,
    /// `<mode name="SingleNode">`.
    pub single_node: Option<EventMode>,
}

/// `[[raw]]`: an edit no section covers.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Raw {
    /// The file, relative to the home, under repository/conf.
    pub file: Text,
    /// The element's path (xmlsplice path syntax).
    pub path: Text,
    /// set_attribute, remove_attribute, set_text, insert, remove,
    /// comment_out or uncomment.
    pub action: Text,
    /// The attribute, for set_attribute and remove_attribute.
    pub attribute: Option<Text>,
    /// The value, for set_attribute and set_text.
    pub value: Option<Text>,
    /// The element's markup, for insert.
    pub markup: Option<Text>,
    /// Where insert puts it: first_child, last_child (the default), before, after.
    pub place: Option<Text>,
    /// What identifies the inserted element among its neighbours, so that a
    /// changed markup updates it in place: a child's name, or `@attribute`.
    pub key: Option<Text>,
    /// `one` (the default: exactly one element must match) or `all` (the
    /// edit applies to every match).
    #[serde(rename = "match")]
    pub matches: Option<Text>,
    /// `error` (the default) or `skip`: what an edit of an element that is
    /// not there does.
    pub if_missing: Option<Text>,
    /// Prefixes the path and `attribute` use, each bound to its namespace
    /// URI (`bus = "http://test.business"`), as Ansible's `namespaces`.
    #[serde(default)]
    pub namespaces: Map<Text>,
}

/// The settings a recipe's top level and each of its nodes may hold, and
/// what they become once a node's values override the shared ones.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// `product`: the product the recipe is for, as `bin/version.txt` names it.
    pub product: Option<Text>,
    /// `versions`: the versions it is for (`2.1.0`, `2.*`, `2.1.0, 2.6.0`).
    pub versions: Option<Text>,
    /// `[server]`.
    pub server: Option<Server>,
    /// `[clustering]`.
    pub clustering: Option<Clustering>,
    /// `[[datasource]]`.
    pub datasource: Vec<Datasource>,
    /// `[registry]`.
    pub registry: Option<Registry>,
    /// `[user_store]`.
    pub user_store: Option<UserStore>,
    /// `[deployment_synchronizer]`.
    pub deployment_synchronizer: Option<DeploymentSynchronizer>,
    /// `[mediation]`.
    pub mediation: Option<Mediation>,
    /// `[tomcat]`.
    pub tomcat: Option<Tomcat>,
    /// `[event_processor]`.
    pub event_processor: Option<EventProcessor>,
    /// `[apim]`: API Manager.
    pub apim: Option<Apim>,
    /// `[identity]`: Identity Server.
    pub identity: Option<Identity>,
    /// `[spark]`: spark-defaults.conf keys and values.
    pub spark: Option<Map<Text>>,
    /// `lib`: files (JDBC drivers) to copy into repository/components/lib.
    pub lib: Vec<Text>,
    /// `[[raw]]`.
    pub raw: Vec<Raw>,
    /// `manual`: steps of the guide that are not edits to a home (creating
    /// databases, /etc/hosts, the load balancer), listed at the end of a plan.
    pub manual: Vec<Text>,
}

/// Declares a table that holds every [`Settings`] key plus its own.
macro_rules! with_settings {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident : $ty:ty,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fdoc])* #[serde(default)] pub $field: $ty,)*
            #[serde(default)] product: Option<Text>,
            #[serde(default)] versions: Option<Text>,
            #[serde(default)] server: Option<Server>,
            #[serde(default)] clustering: Option<Clustering>,
            #[serde(default)] datasource: Vec<Datasource>,
            #[serde(default)] registry: Option<Registry>,
            #[serde(default)] user_store: Option<UserStore>,
            #[serde(default)] deployment_synchronizer: Option<DeploymentSynchronizer>,
            #[serde(default)] mediation: Option<Mediation>,
            #[serde(default)] tomcat: Option<Tomcat>,
            #[serde(default)] event_processor: Option<EventProcessor>,
            #[serde(default)] apim: Option<Apim>,
            #[serde(default)] identity: Option<Identity>,
            #[serde(default)] spark: Option<Map<Text>>,
            #[serde(default)] lib: Vec<Text>,
            #[serde(default)] raw: Vec<Raw>,
            #[serde(default)] manual: Vec<Text>,
        }

        impl $name {
            /// The settings of this table.
            pub fn settings(&self) -> Settings {
                Settings {
                    product: self.product.clone(),
                    versions: self.versions.clone(),
                    server: self.server.clone(),
                    clustering: self.clustering.clone(),
                    datasource: self.datasource.clone(),
                    registry: self.registry.clone(),
                    user_store: self.user_store.clone(),
                    deployment_synchronizer: self.deployment_synchronizer.clone(),
                    mediation: self.mediation.clone(),
                    tomcat: self.tomcat.clone(),
                    event_processor: self.event_processor.clone(),
                    apim: self.apim.clone(),
                    identity: self.identity.clone(),
                    spark: self.spark.clone(),
                    lib: self.lib.clone(),
                    raw: self.raw.clone(),
                    manual: self.manual.clone(),
                }
            }
        }
    };
}

with_settings! {
    /// A recipe file: shared settings, `[vars]`, and `[nodes.NAME]` tables.
    RecipeFile {
        /// `[vars]`: values for `${name}`.
        vars: Map<Text>,
        /// `[nodes.NAME]`: each node's home and its own settings.
        nodes: Map<Spanned<NodeTable>>,
    }
}

with_settings! {
    /// One `[nodes.NAME]` table.
    NodeTable {
        /// The node's CARBON_HOME; relative to the recipe file.
        home: Option<Text>,
    }
}
