"""Alembic revisions of the SQL store, oldest first (``0001_initial`` creates the tables)."""
