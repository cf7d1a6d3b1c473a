"""Sync layer: the httpx wire client, credentials, and the pull/push/live engine.

Imports only `agentcli.domain` and `agentcli.store` (enforced by tests/test_architecture.py).
"""
