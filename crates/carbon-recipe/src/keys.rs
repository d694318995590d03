//! Which table each recipe key belongs in, read from the model's own serde
//! derives, so that an error can say where a misplaced key goes
//! (`offset` written in a node table is a key of `[server]`) and never
//! falls out of step with `model.rs`.

use serde::de::{self, Deserialize, Deserializer, Visitor};

use crate::model::{
    Clustering, Datasource, DbConfig, DeploymentSynchronizer, EventMode, Jdbc, Mediation, Mount,
    RemoteInstance, Server, Tomcat, UserStore,
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
                "[user_store.jdbc]"
            ]
        );
        assert!(tables_with("home").is_empty());
    }
}
