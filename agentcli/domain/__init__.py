"""Core layer: plain data types and rules with no I/O.

Nothing in this package may import from any other agentcli package (enforced by a test).
"""
