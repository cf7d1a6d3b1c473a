"""The helpdesk server (`agentcli serve`): HTTP API, SQLite or PostgreSQL, auth, channels.

Imports only `agentcli.domain` (and `agentcli.demo` for demo data); never `agentcli.store`.
"""
