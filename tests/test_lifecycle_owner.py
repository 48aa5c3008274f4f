"""The experiment's lifecycle has one owner: the layers above the campaign change experiments (and read them one by
one) through ``Campaign`` methods, never through the store's methods directly (checked by parsing with ast)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from kiln.store.base import Store

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "kiln"
CHECKED = ("lab", "cli", "server", "bench")
NOT_LIFECYCLE = {
    "create_campaign",
    "get_campaign",
    "list_campaigns",
    "delete_campaign",
    "experiments",
    "changes",
    "events",
    "add_token",
    "get_token",
    "list_tokens",
    "token_by_hash",
    "revoke_token",
    "close",
    "acquire_lease",
    "renew_lease",
    "release_lease",
    "get_lease",
}
"""Store methods that are not about one experiment's state: campaigns, whole reads, tokens, run leases."""

LIFECYCLE = {
    name for name, member in inspect.getmembers(Store) if not name.startswith("_") and callable(member)
} - NOT_LIFECYCLE


def _store_uses(source: str, forbidden: set[str]) -> list[str]:
    """``x.store.m`` / ``store.m`` with ``m`` in ``forbidden``, called or passed on, as 'line: m'."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in forbidden:
            owner = node.value
            if (isinstance(owner, ast.Attribute) and owner.attr == "store") or (
                isinstance(owner, ast.Name) and owner.id in ("store", "backend")
            ):
                found.append(f"{node.lineno}: {node.attr}")
    return found


def test_the_lifecycle_methods_are_those_that_touch_one_experiment() -> None:
    assert {"complete", "fail", "dispatch", "flag", "add_experiments", "record_results", "get_experiment"} <= (
        LIFECYCLE
    )
    assert not LIFECYCLE & {"experiments", "changes", "close"}


def test_lab_cli_server_and_bench_change_experiments_only_through_the_campaign() -> None:
    wrong = {}
    for layer in CHECKED:
        for path in sorted((PACKAGE / layer).rglob("*.py")):
            uses = _store_uses(path.read_text(encoding="utf-8"), LIFECYCLE)
            if uses:
                wrong[str(path.relative_to(PACKAGE))] = uses
    assert wrong == {}, "call the Campaign's method (campaign.dispatch, .flag, .tell, .fail, .experiment, ...)"


def test_the_checker_sees_calls_and_passed_methods() -> None:
    source = (
        "def f(campaign, store):\n"
        "    campaign.store.flag('c', 'e', 'n')\n"
        "    run(campaign.store.dispatch, 'c')\n"
        "    store.get_experiment('c', 'e')\n"
        "    campaign.flag('e', 'n')\n"
        "    campaign.store.experiments('c')\n"
    )
    assert _store_uses(source, LIFECYCLE) == ["2: flag", "3: dispatch", "4: get_experiment"]
