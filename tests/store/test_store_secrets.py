"""A store URL's password never reaches a message, a repr or a terminal (``kiln.store.display_url``)."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from backends import POSTGRES_URL, fresh_postgres
from kiln import Campaign, Continuous, Objective, SearchSpace
from kiln.core.errors import ConflictError, NotFoundError, ValidationError
from kiln.store import display_url, open_store

SECRET = "S3cretPw"


def with_password(url: str) -> str:
    """``url`` with the password SECRET (the CI server trusts loopback, so it connects all the same)."""
    return make_url(url).set(password=SECRET).render_as_string(hide_password=False)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://kiln:S3cretPw@db:5432/kiln", "postgresql+psycopg://kiln:***@db:5432/kiln"),
        ("postgresql://kiln:S3cret@Pw@db/kiln", "postgresql://kiln:***@db/kiln"),
        ("postgresql://db/kiln?user=kiln&password=S3cretPw&x=1", "postgresql://db/kiln?user=kiln&password=***&x=1"),
        ("no-such-scheme://kiln:S3cretPw@db", "no-such-scheme://kiln:***@db"),
        ("sqlite:////data/a@b.db", "sqlite:////data/a@b.db"),
        ("postgresql://kiln@db/kiln", "postgresql://kiln@db/kiln"),
    ],
)
def test_display_url_masks_every_password(url: str, shown: str) -> None:
    assert display_url(url) == shown


def test_a_malformed_or_undriven_url_is_refused_without_its_password() -> None:
    with pytest.raises(ValidationError) as caught:
        open_store(f"postgresql+nosuchdriver://kiln:{SECRET}@127.0.0.1:1/kiln")
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value.value)
    assert "kiln:***@127.0.0.1" in str(caught.value)


@pytest.mark.skipif(not POSTGRES_URL, reason="needs KILN_TEST_POSTGRES_URL")
def test_messages_and_reprs_of_a_postgres_store_hide_its_password() -> None:
    store = open_store(with_password(fresh_postgres()))
    try:
        assert SECRET not in store.url and SECRET not in repr(store) and "***" in store.url
        space = SearchSpace([Continuous("x", 0.0, 1.0)])
        campaign = Campaign.create("films", space=space, objective=Objective.maximize("y"), store=store)
        assert SECRET not in repr(campaign)
        with pytest.raises(NotFoundError) as missing:
            store.get_campaign("nope")
        with pytest.raises(ConflictError) as taken:
            store.create_campaign("films", campaign.config.to_json())
        for error in (missing.value, taken.value):
            assert SECRET not in str(error) and "***" in str(error)
    finally:
        store.close()
