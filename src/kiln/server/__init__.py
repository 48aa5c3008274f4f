"""The Kiln server: a REST API under /api/v1 over a store, with API tokens (``kiln serve``)."""
