//! Which table each recipe key belongs in, read from the model's own serde
//! derives, so that an error can say where a misplaced key goes
//! (`offset` written in a node table is a key of `[server]`) and never
//! falls out of step with `model.rs`.

use serde::de::{self, Deserialize, Deserializer, Visitor};

#[cfg(test)]
use crate::model::{Apim, ApimGateway, EventProcessor, NodeTable, Raw, RecipeFile, Registry};
use crate::model::{
    ApimAnalytics, ApimEnvironment, ApimKeyManager, ApimOauthConfig, ApimServiceUrl,
    ApimThrottling, ApimUrl, Clustering, Datasource, DbConfig, DeploymentSynchronizer, EventMode,
    Identity, Jdbc, Mediation, Mount, RemoteInstance, Server, Tomcat, UserStore,
};

/// The keys that hold a list of strings, not tables (which serde's field
/// names do not tell).
pub(crate) const STRING_LISTS: &[&str] = &["lib", "manual", "members", "comment_out_properties"];

/// The tables a key may be misplaced from, as a recipe writes their
/// headers, with their keys. `[registry]` and `[event_processor]` hold
/// tables only; their tables are listed instead (MODE: ha, distributed or
/// single_node).
fn tables() -> Vec<(&'static str, &'static [&'static str])> {
    vec![
        ("[server]", fields::<Server>()),
        ("[clustering]", fields::<Clustering>()),
        ("[[datasource]]", fields::<Datasource>()),
        ("[[registry.db_config]]", fields::<DbConfig>()),
        ("[registry.db_config.jdbc]", fields::<Jdbc>()),
        ("[[registry.remote_instance]]", fields::<RemoteInstance>()),
        ("[[registry.mount]]", fields::<Mount>()),
        ("[user_store]", fields::<UserStore>()),
        ("[user_store.jdbc]", fields::<Jdbc>()),
        (
            "[deployment_synchronizer]",
            fields::<DeploymentSynchronizer>(),
        ),
        ("[mediation]", fields::<Mediation>()),
        ("[tomcat]", fields::<Tomcat>()),
        ("[event_processor.MODE]", fields::<EventMode>()),
        ("[identity]", fields::<Identity>()),
        ("[[apim.gateway.environment]]", fields::<ApimEnvironment>()),
        ("[apim.key_manager]", fields::<ApimKeyManager>()),
        ("[apim.auth_manager]", fields::<ApimServiceUrl>()),
        ("[apim.oauth_config]", fields::<ApimOauthConfig>()),
        ("[apim.throttling]", fields::<ApimThrottling>()),
        ("[apim.analytics]", fields::<ApimAnalytics>()),
        ("[apim.devportal]", fields::<ApimUrl>()),
        ("[apim.publisher]", fields::<ApimUrl>()),
    ]
}

/// The tables that have a key named `key`, as their headers.
pub(crate) fn tables_with(key: &str) -> Vec<&'static str> {
    tables()
        .into_iter()
        .filter(|(_, keys)| keys.contains(&key))
        .map(|(table, _)| table)
        .collect()
}

/// The field names a derived `Deserialize` passes to `deserialize_struct`.
fn fields<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut seen = Fields(&[]);
    let _ = T::deserialize(&mut seen);
    seen.0
}

/// A deserializer that only records the fields it is asked for.
struct Fields(&'static [&'static str]);

impl<'de> Deserializer<'de> for &mut Fields {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("only structs are looked into"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0 = fields;
        Err(de::Error::custom("fields recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_reports_its_keys() {
        assert_eq!(fields::<Server>(), ["offset", "hostname", "mgt_hostname"]);
        for (table, keys) in tables() {
            assert!(!keys.is_empty(), "{table} has no keys");
        }
        assert_eq!(tables_with("offset"), ["[server]"]);
        assert_eq!(tables_with("local_member_port"), ["[clustering]"],);
        assert_eq!(
            tables_with("password"),
            [
                "[[datasource]]",
                "[registry.db_config.jdbc]",
                "[user_store.jdbc]",
                "[[apim.gateway.environment]]"
            ]
        );
        assert!(tables_with("home").is_empty());
    }

    /// The recipe reference, which these tests hold to the model.
    const RECIPE_DOC: &str = include_str!("../../../docs/recipe.md");

    /// Every table of the recipe, as docs/recipe.md heads its section, with
    /// its keys: those a key may be misplaced from, and the ones that hold
    /// only tables or stand at the top. A node's section lists only its own
    /// keys: it takes the top level's settings too, which the page says.
    fn documented_tables() -> Vec<(&'static str, Vec<&'static str>)> {
        let top = fields::<RecipeFile>();
        let node_own = fields::<NodeTable>()
            .iter()
            .copied()
            .filter(|key| !top.contains(key))
            .collect();
        let mut all = vec![
            ("The top level", top.to_vec()),
            ("[nodes.NAME]", node_own),
            ("[registry]", fields::<Registry>().to_vec()),
            ("[event_processor]", fields::<EventProcessor>().to_vec()),
            ("[[raw]]", fields::<Raw>().to_vec()),
            ("[apim]", fields::<Apim>().to_vec()),
            ("[apim.gateway]", fields::<ApimGateway>().to_vec()),
        ];
        all.extend(tables().into_iter().map(|(t, keys)| (t, keys.to_vec())));
        all
    }

    /// The keys each section of `doc` lists in its tables (the first cell
    /// of a row, in backticks), by the section's heading.
    fn documented_keys(doc: &str) -> Vec<(String, Vec<String>)> {
        let mut sections: Vec<(String, Vec<String>)> = Vec::new();
        for line in doc.lines() {
            if let Some(heading) = line.strip_prefix("## ").or(line.strip_prefix("### ")) {
                sections.push((heading.to_string(), Vec::new()));
            } else if let Some(cell) = line.strip_prefix("| `") {
                let key = cell.split('`').next().unwrap_or_default().to_string();
                if let Some((_, keys)) = sections.last_mut() {
                    keys.push(key);
                }
            }
        }
        sections
    }

    #[test]
    fn the_reference_example_is_a_recipe_that_resolves() {
        let example = RECIPE_DOC
            .split("```toml\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("docs/recipe.md opens with a ```toml example");
        let recipe = crate::Recipe::parse("docs/recipe.md", example).unwrap();
        let env = std::collections::BTreeMap::from([(
            "IS_DB_PASSWORD".to_string(),
            "example-password".to_string(),
        )]);
        let node = recipe.resolve("is1", None, &env).unwrap();
        // The members the page says are derived: the other node's.
        assert!(node.steps.iter().any(|step| matches!(
            step,
            crate::Step::Members(members) if members.len() == 1
                && members[0].to_string() == "10.0.0.12:4000"
        )));
        assert_eq!(node.secrets, ["example-password"]);
    }

    #[test]
    fn every_recipe_key_is_documented() {
        let sections = documented_keys(RECIPE_DOC);
        // A table is found by its header in backticks; the two `jdbc`
        // tables share a section.
        for (table, keys) in documented_tables() {
            let wanted = if table.starts_with('[') {
                format!("`{table}`")
            } else {
                table.to_string()
            };
            let Some((heading, listed)) = sections.iter().find(|(h, _)| h.contains(&wanted)) else {
                panic!("docs/recipe.md has no section headed {wanted}");
            };
            let missing: Vec<_> = keys
                .iter()
                .filter(|k| !listed.iter().any(|l| l == *k))
                .collect();
            assert!(
                missing.is_empty(),
                "{heading}: keys not documented: {missing:?}"
            );
            let unknown: Vec<_> = listed
                .iter()
                .filter(|l| !keys.contains(&l.as_str()))
                .collect();
            assert!(
                unknown.is_empty(),
                "{heading}: documents keys the recipe does not take: {unknown:?}"
            );
        }
    }
}
