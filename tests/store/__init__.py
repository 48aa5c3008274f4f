"""Tests of the store layer: the conformance suite every Store runs, and SQLite specifics."""
