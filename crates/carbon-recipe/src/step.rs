//! One thing a node's recipe asks for, resolved, and the operation that
//! ensures it.

use std::path::PathBuf;

use carbon_config::axis2::Member;
use carbon_config::datasources::Datasource;
use carbon_config::raw::RawAction;
use carbon_config::registry::{DbConfig, Jdbc, Mount, RemoteInstance};
use carbon_config::{
    api_manager, axis2, carbon_xml, catalina, datasources, event_processor, identity, libs, raw,
    registry, spark, user_mgt, ConfigModel, Outcome, Result, Session,
};

/// A resolved setting of one node; [`Step::apply`] ensures it on a session.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // each variant is named for the operation it runs
pub enum Step {
    Offset(u32),
    HostName(String),
    MgtHostName(String),
    ClusteringEnabled(bool),
    ClusteringParameter(String, String),
    Members(Vec<Member>),
    MemberProperty(String, String),
    CommentOutMemberProperty(String),
    ConnectorAttribute {
        port: u16,
        name: String,
        value: String,
    },
    DeploymentSynchronizer(&'static str, String),
    LoadFromRegistry(bool),
    Datasource {
        file: String,
        spec: Datasource,
    },
    CommentOutDatasource {
        file: String,
        name: String,
    },
    RemoveDatasource {
        file: String,
        name: String,
    },
    DbConfig(String, DbConfig),
    CurrentDbConfig(String),
    RemoteInstance(RemoteInstance),
    Mount(Mount),
    RealmDataSource(String),
    RealmJdbc(Jdbc),
    RealmReadOnly(bool),
    RealmProperty(String, String),
    UserStoreManager(String),
    UserStoreProperty(String, String),
    IdentityDataSource(String),
    EventMode {
        mode: &'static str,
        enable: bool,
    },
    Presenter {
        mode: &'static str,
        enable: bool,
    },
    Persistence {
        mode: &'static str,
        enable: bool,
    },
    EventSync {
        host: String,
        port: Option<u16>,
    },
    ApimSetting(&'static str, String),
    ApimEnvironments(Vec<api_manager::Environment>),
    Spark(String, String),
    /// A jar to copy, and the owner of the recipe that named it.
    Lib(PathBuf, Option<u32>),
    Raw {
        file: String,
        path: String,
        action: RawAction,
        options: raw::RawOptions,
    },
}

mod deployment;

impl Step {
    /// Ensures this step on `session`; what each operation did. On a
    /// Carbon 4.5+ home, the step is a deployment.toml key.
    pub fn apply(&self, s: &mut Session) -> Result<Vec<Outcome>> {
        if s.home().model() == ConfigModel::DeploymentToml {
            return self.apply_to_deployment_toml(s);
        }
        self.apply_to_xml(s)
    }

    /// Ensures this step on a Carbon 4.4 (or earlier) home's files.
    fn apply_to_xml(&self, s: &mut Session) -> Result<Vec<Outcome>> {
        let one = |o: Outcome| vec![o];
        Ok(match self {
            Step::Offset(n) => one(carbon_xml::set_offset(s, *n)?),
            Step::HostName(h) => one(carbon_xml::set_host_name(s, h)?),
            Step::MgtHostName(h) => one(carbon_xml::set_mgt_host_name(s, h)?),
            Step::ClusteringEnabled(on) => one(axis2::set_clustering_enabled(s, *on)?),
            Step::ClusteringParameter(n, v) => one(axis2::set_clustering_parameter(s, n, v)?),
            Step::Members(m) => one(axis2::set_members(s, m)?),
            Step::MemberProperty(n, v) => one(axis2::set_member_property(s, n, v)?),
            Step::CommentOutMemberProperty(n) => one(axis2::comment_out_member_property(s, n)?),
            Step::ConnectorAttribute { port, name, value } => {
                one(catalina::set_connector_attribute(s, *port, name, value)?)
            }
            Step::DeploymentSynchronizer(f, v) => {
                one(carbon_xml::set_deployment_synchronizer(s, f, v)?)
            }
            Step::LoadFromRegistry(v) => one(carbon_xml::set_load_from_registry(s, *v)?),
            Step::Datasource { file, spec } => one(datasources::ensure_datasource(s, file, spec)?),
            Step::CommentOutDatasource { file, name } => {
                one(datasources::comment_out_datasource(s, file, name)?)
            }
            Step::RemoveDatasource { file, name } => {
                one(datasources::remove_datasource(s, file, name)?)
            }
            Step::DbConfig(name, config) => one(registry::ensure_db_config(s, name, config)?),
            Step::CurrentDbConfig(name) => one(registry::set_current_db_config(s, name)?),
            Step::RemoteInstance(r) => one(registry::ensure_remote_instance(s, r)?),
            Step::Mount(m) => one(registry::ensure_mount(s, m)?),
            Step::RealmDataSource(j) => one(user_mgt::set_realm_data_source(s, j)?),
            Step::RealmJdbc(j) => user_mgt::set_realm_jdbc(s, j)?,
            Step::RealmReadOnly(v) => one(user_mgt::set_realm_read_only(s, *v)?),
            Step::RealmProperty(n, v) => one(user_mgt::set_realm_property(s, n, v)?),
            Step::UserStoreManager(kind) => one(user_mgt::set_user_store_manager(s, kind)?),
            Step::UserStoreProperty(n, v) => one(user_mgt::set_user_store_property(s, n, v)?),
            Step::IdentityDataSource(j) => one(identity::set_data_source(s, j)?),
            Step::EventMode { mode, enable } => {
                one(event_processor::set_mode_enabled(s, mode, *enable)?)
            }
            Step::Presenter { mode, enable } => {
                one(event_processor::set_presenter(s, mode, *enable)?)
            }
            Step::Persistence { mode, enable } => {
                one(event_processor::set_persistence(s, mode, *enable)?)
            }
            Step::EventSync { host, port } => one(event_processor::set_event_sync(s, host, *port)?),
            Step::ApimSetting(k, v) => one(api_manager::set(s, k, v)?),
            Step::ApimEnvironments(e) => one(api_manager::set_environments(s, e)?),
            Step::Spark(k, v) => one(spark::set_property(s, k, v)?),
            Step::Lib(path, chosen_by) => one(libs::ensure_lib_file(s, path, *chosen_by)?),
            Step::Raw {
                file,
                path,
                action,
                options,
            } => one(raw::apply_with(s, file, path, action, *options)?),
        })
    }
}
