"""agentcli: a keyboard-first, offline-proof terminal console for e-commerce customer service."""

__version__ = "0.1.0"
