"""Instrument adapters: Python callables, command lines, HTTP services, simulated instruments."""
