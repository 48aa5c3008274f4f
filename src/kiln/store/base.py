"""The Store protocol: durable home of campaigns, their experiments and their event log.

Contract (every implementation runs ``tests/store/conformance.py``):

- Every method that changes state commits before it returns; after it returns, a crash loses nothing.
- Methods are atomic: a call that raises has changed nothing.
- A store may be used from several threads and several processes at once. State changes that race are
  decided by the store: ``complete``/``fail`` succeed for exactly one caller, the others get StateError.
- Experiments of a campaign are ordered by ``seq`` (1, 2, 3, ... in creation order, no gaps, unique per campaign).
- Event cursors grow strictly across the whole store; ``events(after=c)`` returns events with cursor > c in order.
- Records returned are immutable snapshots; changing the store later does not change them.
- Configurations and results are JSON; no pickle anywhere.
- An experiment's results may arrive in parts (``add_results``): it stays pending, holding the values so far,
  until every required quantity has one; each quantity is told once.
- Corrections (``amend``, ``retract``, ``discard``) are compare-and-set state changes: each logs an event with
  its time, reason (``note``) and ``actor`` in the same transaction, and keeps the earlier version, so
  ``history`` gives every value an experiment ever had. The experiment's record always holds the current one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple, Protocol, runtime_checkable

from kiln.core.records import CampaignRecord, Event, Experiment, LeaseRecord, Revision, TokenRecord


class Changes(NamedTuple):
    """What ``Store.changes`` answers: experiments by seq, the next cursor, and whether they are all of them."""

    experiments: list[Experiment]
    cursor: int
    complete: bool


class Completion(NamedTuple):
    """One pending experiment completed by ``Store.record_results``: its id, results, and optionally other data
    (``outputs``, JSON) and a ``note`` recorded with them. A plain ``(id, results)`` pair is accepted too."""

    id: str
    results: Mapping[str, float]
    outputs: Mapping[str, Any] | None = None
    note: str = ""


@runtime_checkable
class Store(Protocol):
    """Persistence of campaigns. See the module docstring for the contract."""

    url: str
    """Where the store is, as it may be shown in messages: never with a password (``kiln.store.display_url``)."""

    def create_campaign(self, name: str, config: Mapping[str, Any]) -> CampaignRecord:
        """Create a campaign. Raises ConflictError if the name exists, ValidationError for a bad name."""
        ...

    def get_campaign(self, name: str) -> CampaignRecord:
        """The campaign called ``name``. Raises NotFoundError listing the known names if there is none."""
        ...

    def list_campaigns(self) -> list[CampaignRecord]:
        """All campaigns, oldest first."""
        ...

    def delete_campaign(self, name: str) -> None:
        """Remove a campaign with its experiments and events. Raises NotFoundError if absent."""
        ...

    def add_experiments(
        self, campaign: str, experiments: Sequence[Experiment], *, after_seq: int | None = None
    ) -> list[Experiment]:
        """Append experiments (pending suggestions, or completed/failed imported data) in one transaction.

        The store assigns ``seq`` (the ``seq`` given is ignored) and returns the stored records in order.
        Raises ConflictError if an id exists already. With ``after_seq``, raises StaleHistoryError (adding
        nothing) unless the campaign's last seq is still ``after_seq``: a campaign that proposed from a history
        of that length then retries with a fresh one, so concurrent asks never suggest the same candidate.
        """
        ...

    def record_results(
        self,
        campaign: str,
        completions: Sequence[Completion | tuple[str, Mapping[str, float]]],
        experiments: Sequence[Experiment],
        *,
        required: Sequence[str] | None = None,
    ) -> list[Experiment]:
        """Complete pending experiments (``Completion``: id, results, outputs, note) and append ``experiments``
        (with their outputs and notes), all in one transaction.

        With ``required``, each completion adds its values as ``add_results`` does (the experiment completes when
        its results hold every name in ``required``, else it stays pending with them); without it, each completes
        with the results given (joined to any it holds). Appended experiments may be pending with partial results
        (prior data with some quantities not measured yet). Returns the completed (or partly measured) records,
        then the appended ones. Same errors as ``complete``, ``add_results`` and ``add_experiments``; on any error
        nothing is changed.
        """
        ...

    def add_results(
        self,
        campaign: str,
        experiment_id: str,
        results: Mapping[str, float],
        *,
        required: Sequence[str] = (),
        at: datetime | None = None,
        outputs: Mapping[str, Any] | None = None,
        note: str = "",
    ) -> Experiment:
        """Add values to a pending experiment's results (a partial result: some quantities now, others later).

        A compare-and-set in one transaction: the values join those stored, and the experiment becomes completed
        (``finished_at`` = ``at`` or now) when its results then hold every name in ``required`` (empty: at once);
        otherwise it stays pending with the values so far. ``outputs`` join the stored ones; a ``note`` is added
        to the stored one on a new line. Two writers adding different quantities at once both land, and the one
        that brings the last quantity completes it. Raises NotFoundError for an unknown id, StateError if it is
        not pending or if a quantity of ``results`` has a value already (a quantity is told once; ``amend``
        corrects it), ValidationError for an empty or malformed map.
        """
        ...

    def complete(
        self,
        campaign: str,
        experiment_id: str,
        results: Mapping[str, float],
        at: datetime | None = None,
        outputs: Mapping[str, Any] | None = None,
        note: str = "",
    ) -> Experiment:
        """Mark a pending experiment completed with its results (and ``outputs``: other JSON data recorded with
        them; ``note``: free text a person wrote about it, at most 10,000 characters). ``add_results`` with no
        required names: values it holds already (partial results) are kept, and a quantity told again is refused.

        Raises NotFoundError for an unknown id, StateError if it is not pending.
        """
        ...

    def fail(self, campaign: str, experiment_id: str, reason: str, at: datetime | None = None) -> Experiment:
        """Mark a pending experiment failed with a reason. Same errors as ``complete``."""
        ...

    def dispatch(
        self,
        campaign: str,
        experiment_id: str,
        instrument: str,
        handle: str = "",
        *,
        expect: tuple[str, str] | None = None,
    ) -> Experiment:
        """Record that a pending experiment is being sent to ``instrument`` (before it is sent, with an empty
        ``handle``; ``dispatched_at`` is set then) or that the instrument accepted it under ``handle``
        (``dispatched_at`` stays the time it was sent). With ``expect``, only if the experiment's
        (instrument, handle) is still that (compare-and-set: two runs never both send it). Raises NotFoundError
        for an unknown id, StateError if it is not pending or ``expect`` does not hold."""
        ...

    def flag(self, campaign: str, experiment_id: str, note: str) -> Experiment:
        """Mark a pending experiment for an operator (``note`` says why; empty clears it). Same errors as
        ``dispatch``."""
        ...

    def amend(
        self,
        campaign: str,
        experiment_id: str,
        *,
        results: Mapping[str, float] | None = None,
        failure: str | None = None,
        note: str,
        actor: str = "",
        expect: int | None = None,
    ) -> Experiment:
        """Correct a completed or failed experiment: new ``results`` (it becomes completed) or a ``failure``
        reason (it becomes failed); exactly one is given. A pending experiment that holds partial results may get
        new ``results`` too (it stays pending). ``note`` says why, ``actor`` who (empty: local).
        ``amended`` grows by one. With ``expect``, only if it has been amended that many times. Raises
        NotFoundError for an unknown id, StateError if it is discarded, pending without results (or given a
        failure while pending), or ``expect`` does not hold,
        ValidationError for a malformed value or one equal to the current."""
        ...

    def retract(
        self, campaign: str, experiment_id: str, *, note: str, actor: str = "", retracted: bool = True
    ) -> Experiment:
        """Mark a completed or failed experiment retracted (``retracted=False``: no longer retracted). Same
        errors as ``amend``; StateError as well if it is retracted already (or not, to take it back)."""
        ...

    def discard(self, campaign: str, experiment_id: str, *, note: str = "", actor: str = "") -> Experiment:
        """Mark a pending suggestion discarded (it will not be run; ``note`` becomes its reason). Raises
        NotFoundError for an unknown id, StateError if it is not pending or was dispatched (in flight on an
        instrument: it must finish, or fail). A discard and a ``dispatch`` racing for one suggestion: one wins."""
        ...

    def history(self, campaign: str, experiment_id: str) -> list[Revision]:
        """Every version of an experiment's outcome, oldest first (number 0: as first recorded); the last is the
        current one. NotFoundError for an unknown id."""
        ...

    def revisions(self, campaign: str) -> list[Revision]:
        """The versions of every corrected experiment of a campaign (experiments never corrected have none), by
        experiment seq, then number."""
        ...

    def experiments(self, campaign: str) -> list[Experiment]:
        """All experiments of a campaign ordered by seq."""
        ...

    def changes(self, campaign: str, after: int = 0) -> Changes:
        """The experiments added or changed since event cursor ``after``, ordered by seq, and the cursor to ask
        from next. Every experiment, with ``complete`` set, when ``after`` is 0 or older than the campaign (it was
        deleted and made again since). Lets a reader keep a campaign's experiments up to date without reading them
        all again."""
        ...

    def get_experiment(self, campaign: str, experiment_id: str) -> Experiment:
        """One experiment. Raises NotFoundError if absent."""
        ...

    def events(self, campaign: str | None = None, after: int = 0, limit: int = 1000) -> list[Event]:
        """Events with cursor > after, oldest first, for one campaign or all."""
        ...

    def add_token(self, token: TokenRecord) -> TokenRecord:
        """Store a new API token (its secret hashed already). ConflictError if the name is taken."""
        ...

    def get_token(self, name: str) -> TokenRecord:
        """The token called ``name``, revoked or not. NotFoundError if there is none."""
        ...

    def list_tokens(self) -> list[TokenRecord]:
        """All tokens, oldest first."""
        ...

    def token_by_hash(self, secret_hash: str) -> TokenRecord | None:
        """The live (not revoked) token whose secret has this SHA-256, or None."""
        ...

    def revoke_token(self, name: str) -> TokenRecord:
        """Revoke a token; it stops working at once. NotFoundError if there is none."""
        ...

    def acquire_lease(
        self, campaign: str, owner: str, *, host: str, pid: int, expiry: float, replace: str = ""
    ) -> LeaseRecord:
        """Take the campaign's run lease for ``owner`` (a run's random id; ``host``, ``pid``: where it runs) for
        ``expiry`` seconds from now.

        It is taken when nobody holds it, when its holder's lease has expired, when ``owner`` holds it already
        (then it is renewed and ``since`` kept), or when its holder is ``replace`` (a holder the caller knows is
        dead). Otherwise LeaseHeldError carrying the holder's record; two callers racing for a free lease: one wins.
        NotFoundError for an unknown campaign, ValidationError for a bad value. The lease goes with its campaign.
        """
        ...

    def renew_lease(self, campaign: str, owner: str, *, expiry: float) -> LeaseRecord:
        """The heartbeat: extend ``owner``'s lease to ``expiry`` seconds from now. StateError if ``owner`` does not
        hold it any more (it expired and another run took it, or it was released)."""
        ...

    def release_lease(self, campaign: str, owner: str) -> bool:
        """Give ``owner``'s lease up; False (and no change) if ``owner`` does not hold it."""
        ...

    def get_lease(self, campaign: str) -> LeaseRecord | None:
        """The campaign's lease, expired or not, or None when nobody holds it."""
        ...

    def close(self) -> None:
        """Release connections. The store must not be used afterwards."""
        ...
