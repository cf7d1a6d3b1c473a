"""Entry layer: the `agentcli` command line (click)."""
