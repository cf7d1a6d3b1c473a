"""The macro and terminology library: load, lint, render, apply and search `macros/`.

Layering: this package imports only `agentcli.domain` (never store, cli, tui or server), so
the TUI, the CLI and tests share it. See loader (files), render (Liquid), actions and
preview (mutations), lint, glossary (terms), picker (fuzzy search) and suggest.
"""
