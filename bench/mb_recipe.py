#!/usr/bin/env python3
"""Writes an N-node recipe: the shared settings of examples/mb-two-nodes.toml
(taken from the file, so the two never drift), then N node tables like its
node1 and node2: each its own home HOMES/node<i>, port offset, local member
port and local registry datasource. The well-known members are the first two
nodes (a fixed set, as large clusters use), so every node gets the same edits
as a node of the example.

usage: mb_recipe.py N HOMES OUT
"""
import pathlib
import sys

n, homes, out = int(sys.argv[1]), pathlib.Path(sys.argv[2]).resolve(), sys.argv[3]
example = pathlib.Path(__file__).resolve().parent.parent / "examples/mb-two-nodes.toml"
text = example.read_text()
shared = text[: text.index("[nodes.node1]")]
anchor = 'local_member_host = "${host}"\n'
assert anchor in shared, "examples/mb-two-nodes.toml changed: update bench/mb_recipe.py"
shared = shared.replace(
    anchor, anchor + 'members = ["${host}:4001", "${host}:4002"]\n'
)

local = """
[[nodes.node{i}.datasource]]
name = "REGISTRY_LOCAL{i}"
description = "The datasource used for registry- local"
jndi = "jdbc/WSO2CarbonDB"
url = "${{mysql}}/REGISTRY_LOCAL{i}?autoReconnect=true"
username = "regadmin"
password = "${{env:MB_DB_PASSWORD}}"
driver = "com.mysql.jdbc.Driver"
max_active = 50
max_wait = 60000
test_on_borrow = true
validation_query = "SELECT 1"
validation_interval = 30000
"""
parts = [shared]
for i in range(1, n + 1):
    parts.append(
        f'\n[nodes.node{i}]\nhome = "{homes}/node{i}"\n'
        f"server = {{ offset = {i % 1000} }}\n"
        f"clustering = {{ local_member_port = {4000 + i} }}\n" + local.format(i=i)
    )
pathlib.Path(out).write_text("".join(parts))
