//! axis2.xml: Hazelcast clustering.
//!
//! Every shipped axis2.xml has an active `<clustering enable="false">` with
//! the common parameters active, the rarer ones (mcastAddress,
//! localMemberBindAddress, ...) commented out, and one well-known member,
//! 127.0.0.1:4000. The operations edit those in place.

use std::fmt;
use std::str::FromStr;

use xmlsplice::NewElement;

use crate::ensure::{check_predicate_value, edit_xml, Fallback};
use crate::error::{Error, Result};
use crate::home::files::AXIS2;
use crate::session::{Outcome, Session};

const CLUSTERING: &str = "clustering";

/// A Hazelcast membership scheme that Carbon 4.x understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MembershipScheme {
    /// Well-known addresses: the `<members>` list.
    Wka,
    /// Multicast discovery.
    Multicast,
    /// AWS discovery.
    Aws,
    /// Kubernetes discovery.
    Kubernetes,
}

impl MembershipScheme {
    /// The value axis2.xml holds.
    pub fn as_str(self) -> &'static str {
        match self {
            MembershipScheme::Wka => "wka",
            MembershipScheme::Multicast => "multicast",
            MembershipScheme::Aws => "aws",
            MembershipScheme::Kubernetes => "kubernetes",
        }
    }
}

impl FromStr for MembershipScheme {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "wka" => Ok(MembershipScheme::Wka),
            "multicast" => Ok(MembershipScheme::Multicast),
            "aws" => Ok(MembershipScheme::Aws),
            "kubernetes" => Ok(MembershipScheme::Kubernetes),
            other => Err(format!(
                "unknown membership scheme {other:?} (expected wka, multicast, aws or kubernetes)"
            )),
        }
    }
}

/// A well-known member: `host:port`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Member {
    /// Host name or IP address.
    pub host: String,
    /// Its Hazelcast port (localMemberPort), 1 to 65535.
    pub port: u16,
}

impl FromStr for Member {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s.contains("://") || s.contains('/') {
            return Err(format!("member {s:?} is not host:port (a URL or a path)"));
        }
        let (host, port) = s
            .rsplit_once(':')
            .ok_or_else(|| format!("member {s:?} is not host:port"))?;
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(format!("member {s:?} has no valid host"));
        }
        // Carbon hands Hazelcast `hostName:port`, which for an IPv6 address
        // is ambiguous unless the address is in brackets (Java's
        // InetAddress takes them too): `[fe80::1]:4000`, kept as written.
        if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
            return Err(format!(
                "member {s:?}: write an IPv6 address in brackets, [{host}]:{port}"
            ));
        }
        Ok(Member {
            host: host.to_string(),
            port: parse_port(port).map_err(|e| format!("member {s:?}: {e}"))?,
        })
    }
}

impl fmt::Display for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// A TCP port, 1 to 65535.
pub(crate) fn parse_port(value: &str) -> std::result::Result<u16, String> {
    match value.trim().parse::<u32>() {
        Ok(p) if (1..=65535).contains(&p) => Ok(p as u16),
        _ => Err(format!("port {value:?} is not a number from 1 to 65535")),
    }
}

/// What is wrong with `value` as a host name or address (carbon.xml's
/// `HostName`, axis2.xml's `localMemberHost`), if anything. Carbon builds
/// URLs and binds sockets from these: a URL or a `host:port` pasted in
/// would make `https://https://…` service URLs or a member that cannot
/// bind. An IPv6 address is one, bare or in brackets.
pub(crate) fn host_problem(value: &str) -> Option<String> {
    let bare = value.trim_start_matches('[').trim_end_matches(']');
    if value.trim().is_empty() || value.contains(char::is_whitespace) {
        return Some("is not a host name".into());
    }
    // `fe80::1%eth0`: a link-local address with its zone.
    let address = bare.split_once('%').map_or(bare, |(address, _)| address);
    if address.parse::<std::net::Ipv6Addr>().is_ok() {
        return None;
    }
    if let Some((_, rest)) = value.split_once("://") {
        let authority = rest.split('/').next().unwrap_or(rest);
        let host = match authority.find(']') {
            Some(end) if authority.starts_with('[') => &authority[..=end],
            _ => authority.split(':').next().unwrap_or(authority),
        };
        return Some(format!("is a URL; give the host name alone: {host}"));
    }
    if value.contains('/') {
        return Some("is not a host name (it holds a '/')".into());
    }
    if let Some((host, port)) = value.rsplit_once(':') {
        return Some(if !host.contains(':') && parse_port(port).is_ok() {
            format!("holds a port; give the host name alone: {host}")
        } else {
            "is not a host name".into()
        });
    }
    None
}

fn invalid(message: String) -> Error {
    Error::Invalid {
        file: AXIS2.into(),
        message,
    }
}

/// Enables or disables clustering (`enable` on `<clustering>`).
pub fn set_clustering_enabled(session: &mut Session, enabled: bool) -> Result<Outcome> {
    let value = enabled.to_string();
    edit_xml(
        session,
        AXIS2,
        format!("clustering enable=\"{value}\""),
        |t| t.set_attribute(CLUSTERING, "enable", &value),
    )
}

/// Sets the clustering agent class (`class` on `<clustering>`).
pub fn set_clustering_agent(session: &mut Session, class: &str) -> Result<Outcome> {
    edit_xml(
        session,
        AXIS2,
        format!("clustering class=\"{class}\""),
        |t| t.set_attribute(CLUSTERING, "class", class),
    )
}

/// Sets a clustering `<parameter name=...>`: the active one, else the
/// commented-out one uncommented in place, else a new one after the last
/// parameter.
///
/// # Errors
/// A `membershipScheme` that is not wka, multicast, aws or kubernetes; a
/// port parameter outside 1 to 65535; two active parameters of that name.
pub fn set_clustering_parameter(session: &mut Session, name: &str, value: &str) -> Result<Outcome> {
    match name {
        "membershipScheme" => {
            value.parse::<MembershipScheme>().map_err(invalid)?;
        }
        "localMemberPort" | "localMemberBindPort" | "mcastPort" => {
            parse_port(value).map_err(|e| invalid(format!("{name}: {e}")))?;
        }
        "localMemberHost" | "localMemberBindAddress" => {
            if let Some(problem) = host_problem(value) {
                return Err(invalid(format!("{name} {value:?} {problem}")));
            }
        }
        _ => {}
    }
    check_predicate_value(AXIS2, "parameter name", name)?;
    let child = format!("parameter[@name='{name}']");
    edit_xml(
        session,
        AXIS2,
        format!("clustering parameter {name} = {value}"),
        |t| {
            t.ensure_text(
                CLUSTERING,
                &child,
                value,
                NewElement::new("parameter").attribute("name", name),
                Fallback::After(&["parameter"]),
            )
        },
    )
}

/// Sets the membership scheme.
pub fn set_membership_scheme(session: &mut Session, scheme: MembershipScheme) -> Result<Outcome> {
    set_clustering_parameter(session, "membershipScheme", scheme.as_str())
}

/// Makes `<members>` hold exactly `members`, in order: the list is replaced,
/// never appended to.
///
/// # Errors
/// A member listed twice.
pub fn set_members(session: &mut Session, members: &[Member]) -> Result<Outcome> {
    let mut seen = std::collections::HashSet::new();
    for m in members {
        if !seen.insert(m) {
            return Err(invalid(format!("well-known member {m} is listed twice")));
        }
    }
    let list: Vec<String> = members.iter().map(Member::to_string).collect();
    let what = format!("well-known members [{}]", list.join(", "));
    edit_xml(session, AXIS2, what, |t| {
        let clustering = t.one(CLUSTERING)?;
        let current = t.doc.select_optional((clustering, "members"))?;
        if let Some(current) = current {
            let found: Vec<(String, String)> = t
                .doc
                .select((current, "member"))?
                .into_iter()
                .map(|m| {
                    let read = |name: &str| {
                        t.doc
                            .select_optional((m, name))
                            .ok()
                            .flatten()
                            .and_then(|e| t.doc.element_text(e))
                            .map(|s| s.trim().to_string())
                            .unwrap_or_default()
                    };
                    (read("hostName"), read("port"))
                })
                .collect();
            let wanted: Vec<(String, String)> = members
                .iter()
                .map(|m| (m.host.clone(), m.port.to_string()))
                .collect();
            if found == wanted {
                return Ok(false);
            }
        }
        let mut element = NewElement::new("members");
        for m in members {
            element = element.child(
                NewElement::new("member")
                    .text_child("hostName", &m.host)
                    .text_child("port", m.port.to_string()),
            );
        }
        match current {
            Some(current) => {
                t.doc.replace(current, element)?;
            }
            None => {
                t.ensure_active(
                    CLUSTERING,
                    "members",
                    &element,
                    Fallback::After(&["parameter"]),
                )?;
            }
        }
        Ok(true)
    })
}

const PROPERTIES: &str = "clustering/parameter[@name='properties']";

/// Sets a member property (`<property name=.. value=..>` inside the
/// `properties` parameter), e.g. `subDomain` to `mgt`.
pub fn set_member_property(session: &mut Session, name: &str, value: &str) -> Result<Outcome> {
    check_predicate_value(AXIS2, "property name", name)?;
    edit_xml(
        session,
        AXIS2,
        format!("member property {name} = {value}"),
        |t| {
            let child = format!("property[@name='{name}']");
            let activated = t.ensure_active(
                PROPERTIES,
                &child,
                &NewElement::new("property")
                    .attribute("name", name)
                    .attribute("value", value),
                Fallback::LastChild,
            )?;
            let set = t.set_attribute(&format!("{PROPERTIES}/{child}"), "value", value)?;
            Ok(activated || set)
        },
    )
}

/// Comments a member property out (the ES guide does so for `subDomain`).
/// Already commented out, or absent, is "already so".
pub fn comment_out_member_property(session: &mut Session, name: &str) -> Result<Outcome> {
    check_predicate_value(AXIS2, "property name", name)?;
    edit_xml(
        session,
        AXIS2,
        format!("member property {name} commented out"),
        |t| {
            let properties = t.one(PROPERTIES)?;
            match t
                .doc
                .select_optional((properties, &format!("property[@name='{name}']")))?
            {
                Some(property) => {
                    t.doc.comment_out(property)?;
                    Ok(true)
                }
                None => Ok(false),
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_and_addresses_pass_urls_and_ports_do_not() {
        for host in [
            "is.example.com",
            "10.100.7.118",
            "localhost",
            "::1",
            "[fe80::1]",
            "fe80::1%eth0",
            "wso2-node_1",
        ] {
            assert_eq!(host_problem(host), None, "{host}");
        }
        for (value, problem) in [
            ("", "is not a host name"),
            ("a b", "is not a host name"),
            (
                "https://a.example.com",
                "is a URL; give the host name alone: a.example.com",
            ),
            (
                "http://[::1]:80/",
                "is a URL; give the host name alone: [::1]",
            ),
            (
                "a.example.com:9443",
                "holds a port; give the host name alone: a.example.com",
            ),
            (
                "a.example.com/carbon",
                "is not a host name (it holds a '/')",
            ),
            ("a:b", "is not a host name"),
        ] {
            assert_eq!(host_problem(value).as_deref(), Some(problem), "{value}");
        }
    }

    #[test]
    fn members_parse_as_host_and_port() {
        assert_eq!(
            "https://10.0.0.1:4000".parse::<Member>(),
            Err("member \"https://10.0.0.1:4000\" is not host:port (a URL or a path)".into())
        );
        let m: Member = "10.0.0.1:4000".parse().unwrap();
        assert_eq!((m.host.as_str(), m.port), ("10.0.0.1", 4000));
        assert_eq!(m.to_string(), "10.0.0.1:4000");
        for bad in ["10.0.0.1", ":4000", "h:0", "h:70000", "h:x", "a b:1"] {
            assert!(bad.parse::<Member>().is_err(), "{bad}");
        }
        // IPv6: in brackets, as Hazelcast's host:port strings need them.
        let m: Member = "[fe80::1]:4000".parse().unwrap();
        assert_eq!((m.host.as_str(), m.port), ("[fe80::1]", 4000));
        assert_eq!(
            "fe80::1:4000".parse::<Member>().unwrap_err(),
            "member \"fe80::1:4000\": write an IPv6 address in brackets, [fe80::1]:4000"
        );
    }

    #[test]
    fn schemes_are_the_four_carbon_knows() {
        assert_eq!("wka".parse(), Ok(MembershipScheme::Wka));
        let err = "zookeeper".parse::<MembershipScheme>().unwrap_err();
        assert!(err.contains("expected wka, multicast, aws or kubernetes"));
    }
}
