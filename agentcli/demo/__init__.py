"""Realistic, deterministic after-sale demo data for the store and the server."""
