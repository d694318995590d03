//! A node's settings: its own values over the shared ones.
//!
//! Scalars: the node's value wins. Maps (parameters, properties, spark keys)
//! merge key by key. Keyed lists merge by key: datasources by name, dbConfigs
//! by name, remote instances by id, mounts by path, where a node's entry
//! replaces the shared one whole. `lib` and `raw` lists add up.

use crate::model::*;

/// `over`'s `Some` fields win over `base`'s.
macro_rules! merge_fields {
    ($base:expr, $over:expr; $($field:ident),*) => {{
        let (base, over) = ($base, $over);
        // Structs whose fields are all listed make the update redundant;
        // the others (with maps and lists) need it.
        #[allow(clippy::needless_update)]
        let merged = Self { $($field: over.$field.or(base.$field),)* ..Default::default() };
        merged
    }};
}

fn merge_option<T: Merge>(base: Option<T>, over: Option<T>) -> Option<T> {
    match (base, over) {
        (Some(b), Some(o)) => Some(b.merge(o)),
        (b, o) => o.or(b),
    }
}

/// `over`'s entries replace `base`'s in place; new ones follow.
fn merge_map<V>(mut base: Map<V>, over: Map<V>) -> Map<V> {
    base.extend(over);
    base
}

/// `over`'s entries replace `base`'s with the same key; new ones follow.
fn merge_keyed<T>(base: Vec<T>, over: Vec<T>, key: impl Fn(&T) -> String) -> Vec<T> {
    let mut merged: Vec<T> = base
        .into_iter()
        .filter(|b| !over.iter().any(|o| key(o) == key(b)))
        .collect();
    merged.extend(over);
    merged
}

pub(crate) trait Merge: Sized {
    fn merge(self, over: Self) -> Self;
}

impl Merge for Server {
    fn merge(self, over: Self) -> Self {
        merge_fields!(self, over; offset, hostname, mgt_hostname)
    }
}

impl Merge for Clustering {
    fn merge(self, over: Self) -> Self {
        let (parameters, properties) = (
            merge_map(self.parameters.clone(), over.parameters.clone()),
            merge_map(self.properties.clone(), over.properties.clone()),
        );
        let mut comment_out = self.comment_out_properties.clone();
        comment_out.extend(over.comment_out_properties.clone());
        let merged: Clustering = merge_fields!(self, over;
            enable, membership_scheme, domain, local_member_host, local_member_port, members);
        Clustering {
            parameters,
            properties,
            comment_out_properties: comment_out,
            ..merged
        }
    }
}

impl Merge for Registry {
    fn merge(self, over: Self) -> Self {
        Registry {
            current_db_config: over.current_db_config.or(self.current_db_config),
            db_config: merge_keyed(self.db_config, over.db_config, |d| d.name.get_ref().clone()),
            remote_instance: merge_keyed(self.remote_instance, over.remote_instance, |r| {
                r.id.get_ref().clone()
            }),
            mount: merge_keyed(self.mount, over.mount, |m| m.path.get_ref().clone()),
        }
    }
}

impl Merge for UserStore {
    fn merge(self, over: Self) -> Self {
        let properties = merge_map(self.properties.clone(), over.properties.clone());
        let manager_properties = merge_map(
            self.manager_properties.clone(),
            over.manager_properties.clone(),
        );
        let merged: UserStore = merge_fields!(self, over; data_source, jdbc, read_only, kind);
        UserStore {
            properties,
            manager_properties,
            ..merged
        }
    }
}

impl Merge for DeploymentSynchronizer {
    fn merge(self, over: Self) -> Self {
        merge_fields!(self, over; enabled, auto_commit, auto_checkout, repository_type,
            svn_url, svn_user, svn_password, svn_url_append_tenant_id)
    }
}

impl Merge for Mediation {
    fn merge(self, over: Self) -> Self {
        merge_fields!(self, over; load_from_registry)
    }
}

impl Merge for Tomcat {
    fn merge(self, over: Self) -> Self {
        merge_fields!(self, over; http_proxy_port, https_proxy_port)
    }
}

impl Merge for EventMode {
    fn merge(self, over: Self) -> Self {
        merge_fields!(self, over; enable, presenter, persistence, event_sync_host, event_sync_port)
    }
}

impl Merge for EventProcessor {
    fn merge(self, over: Self) -> Self {
        EventProcessor {
            ha: merge_option(self.ha, over.ha),
            distributed: merge_option(self.distributed, over.distributed),
            single_node: merge_option(self.single_node, over.single_node),
        }
    }
}

impl Merge for Apim {
    fn merge(self, over: Self) -> Self {
        Apim {
            gateway: match (self.gateway, over.gateway) {
                (Some(b), Some(o)) => Some(ApimGateway {
                    environment: merge_keyed(b.environment, o.environment, |e| {
                        e.name.get_ref().clone()
                    }),
                }),
                (b, o) => o.or(b),
            },
            key_manager: merge_option(self.key_manager, over.key_manager),
            auth_manager: merge_option(self.auth_manager, over.auth_manager),
            oauth_config: merge_option(self.oauth_config, over.oauth_config),
            throttling: merge_option(self.throttling, over.throttling),
            analytics: merge_option(self.analytics, over.analytics),
            devportal: merge_option(self.devportal, over.devportal),
            publisher: merge_option(self.publisher, over.publisher),
        }
    }
}

impl Merge for Identity {
    fn merge(self, over: Self) -> Self {
        merge_fields!(self, over; data_source)
    }
}

impl Merge for ApimKeyManager {
    fn merge(self, over: Self) -> Self {
        merge_fields!(self, over; service_url, client_type, enable_thrift_server,
            thrift_client_port, thrift_server_host, thrift_server_port)
    }
}

impl Merge for ApimServiceUrl {
    fn merge(self, over: Self) -> Self {
        merge_fields!(self, over; service_url)
    }
}

impl Merge for ApimOauthConfig {
    fn merge(self, over: Self) -> Self {
        merge_fields!(self, over; revoke_endpoint)
    }
}

impl Merge for ApimThrottling {
    fn merge(self, over: Self) -> Self {
        merge_fields!(self, over; enable_data_publishing, receiver_url, auth_url,
            policy_deployer_url, enable_blacklist_condition, enable_decision_connection,
            decision_url)
    }
}

impl Merge for ApimAnalytics {
    fn merge(self, over: Self) -> Self {
        merge_fields!(self, over; enable, receiver_url, store_api_url)
    }
}

impl Merge for ApimUrl {
    fn merge(self, over: Self) -> Self {
        merge_fields!(self, over; url)
    }
}

impl Merge for Settings {
    fn merge(self, over: Self) -> Self {
        let mut lib = self.lib;
        lib.extend(over.lib);
        let mut raw = self.raw;
        raw.extend(over.raw);
        let mut manual = self.manual;
        manual.extend(over.manual);
        Settings {
            product: over.product.or(self.product),
            versions: over.versions.or(self.versions),
            server: merge_option(self.server, over.server),
            clustering: merge_option(self.clustering, over.clustering),
            datasource: merge_keyed(self.datasource, over.datasource, |d| {
                d.name.get_ref().clone()
            }),
            registry: merge_option(self.registry, over.registry),
            user_store: merge_option(self.user_store, over.user_store),
            deployment_synchronizer: merge_option(
                self.deployment_synchronizer,
                over.deployment_synchronizer,
            ),
            mediation: merge_option(self.mediation, over.mediation),
            tomcat: merge_option(self.tomcat, over.tomcat),
            event_processor: merge_option(self.event_processor, over.event_processor),
            apim: merge_option(self.apim, over.apim),
            identity: merge_option(self.identity, over.identity),
            spark: match (self.spark, over.spark) {
                (Some(b), Some(o)) => Some(merge_map(b, o)),
                (b, o) => o.or(b),
            },
            lib,
            raw,
            manual,
        }
    }
}
