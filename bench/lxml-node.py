#!/usr/bin/env python3
"""The MB node edit set of examples/mb-two-nodes.toml, done with Python and
lxml the way people script it: parse each file, edit the tree, write it
back. Like the xmlstarlet script, HostName and MgtHostName are added rather
than uncommented; WSO2_CARBON_DB is commented out as a whole.

usage: lxml-node.py HOME INDEX   (node INDEX of bench/mb_recipe.py)
"""
import os
import sys

from lxml import etree

home, i = sys.argv[1], int(sys.argv[2])
host, mysql = "10.100.7.118", "jdbc:mysql://localhost:3306"
password = os.environ.get("MB_DB_PASSWORD", "example-password")
conf = os.path.join(home, "repository/conf")


def edit(rel, change):
    path = os.path.join(conf, rel)
    tree = etree.parse(path)
    change(tree.getroot())
    tree.write(path, encoding=tree.docinfo.encoding, xml_declaration=True)


def sub(parent, tag, text=None, **attrs):
    element = etree.SubElement(parent, tag, attrs)
    element.text = text
    return element


def axis2(root):
    clustering = root.find("clustering")
    clustering.set("enable", "true")
    params = {p.get("name"): p for p in clustering.findall("parameter")}
    params["membershipScheme"].text = "wka"
    params["localMemberHost"].text = host
    params["localMemberPort"].text = str(4000 + i)
    members = clustering.find("members")
    for member in members.findall("member"):
        members.remove(member)
    for port in (4001, 4002):
        member = sub(members, "member")
        sub(member, "hostName", host)
        sub(member, "port", str(port))


def carbon(root):
    ns = "{http://wso2.org/projects/carbon/carbon.xml}"
    version = root.find(ns + "Version")
    for tag in ("MgtHostName", "HostName"):
        element = etree.Element(ns + tag)
        element.text = host
        version.addprevious(element)
    root.find(f"{ns}Ports/{ns}Offset").text = str(i % 1000)


def datasources(root):
    sources = root.find("datasources")
    for ds in sources.findall("datasource"):
        if ds.findtext("name") == "WSO2_CARBON_DB":
            ds.addprevious(etree.Comment(etree.tostring(ds).decode()))
            sources.remove(ds)
    for name, jndi, url, description in (
        ("REGISTRY_DB", "jdbc/WSO2RegistryDB", f"{mysql}/REGISTRY_DB?autoReconnect=true",
         "The datasource used for registry- config/governance"),
        ("WSO2_USER_DB", "jdbc/WSO2UMDB", f"{mysql}/WSO2_USER_DB",
         "The datasource used for registry and user manager"),
        (f"REGISTRY_LOCAL{i}", "jdbc/WSO2CarbonDB", f"{mysql}/REGISTRY_LOCAL{i}?autoReconnect=true",
         "The datasource used for registry- local"),
    ):
        ds = sub(sources, "datasource")
        sub(ds, "name", name)
        sub(ds, "description", description)
        sub(sub(ds, "jndiConfig"), "name", jndi)
        config = sub(sub(ds, "definition", type="RDBMS"), "configuration")
        for tag, value in (
            ("url", url), ("username", "regadmin"), ("password", password),
            ("driverClassName", "com.mysql.jdbc.Driver"), ("maxActive", "50"),
            ("maxWait", "60000"), ("testOnBorrow", "true"),
            ("validationQuery", "SELECT 1"), ("validationInterval", "30000"),
        ):
            sub(config, tag, value)


def registry(root):
    sub(sub(root, "dbConfig", name="sharedregistry"), "dataSource", "jdbc/WSO2RegistryDB")
    remote = sub(root, "remoteInstance", url="https://localhost:9443/registry")
    for tag, value in (
        ("id", "instanceid"), ("dbConfig", "sharedregistry"), ("readOnly", "false"),
        ("enableCache", "true"), ("registryRoot", "/"),
        ("cacheId", f"regadmin@{mysql}/REGISTRY_DB?autoReconnect=true"),
    ):
        sub(remote, tag, value)
    for path in ("/_system/config", "/_system/governance"):
        mount = sub(root, "mount", path=path, overwrite="true")
        sub(mount, "instanceId", "instanceid")
        sub(mount, "targetPath", path)


def user_mgt(root):
    for prop in root.iterfind("Realm/Configuration/Property"):
        if prop.get("name") == "dataSource":
            prop.text = "jdbc/WSO2CarbonDB"


edit("axis2/axis2.xml", axis2)
edit("carbon.xml", carbon)
edit("datasources/master-datasources.xml", datasources)
edit("registry.xml", registry)
edit("user-mgt.xml", user_mgt)
