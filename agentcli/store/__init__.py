"""Local layer: the console's SQLite store (schema, inbox pages and counts, search, outbox, sync).

Imports only `agentcli.domain` (and the pure `agentcli.demo` generator for bulk seeding);
never `agentcli.server` (enforced by tests/test_architecture.py).
"""
