"""Campaign: ask for experiments, tell their results, and keep every change in the store.

The store is the source of truth: a Campaign keeps only a mirror of its experiments that it brings up to date
from the store before every use, so two Campaign objects (in one process or several) on the same store see the
same campaign, and reopening by name gives the same state.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from numbers import Integral
from typing import IO, TYPE_CHECKING, Any

from kiln.campaign.config import CampaignConfig, config_differences, without_computed
from kiln.campaign.gate import Gate
from kiln.campaign.importing import plan_import
from kiln.campaign.mirror import ExperimentMirror
from kiln.campaign.table import ExportTable, experiments_to_frame, experiments_to_table, rows_to_import
from kiln.core.errors import ConflictError, NotFoundError, StaleHistoryError, StateError, ValidationError
from kiln.core.ids import new_id
from kiln.core.records import Experiment, ExperimentStatus, Imported, Revision
from kiln.objective import Objective
from kiln.space.config import Domain
from kiln.space.parameters import Categorical
from kiln.space.pool import CandidatePool
from kiln.store import DEFAULT_STORE_URL, Store, open_store
from kiln.strategies.base import History, Strategy
from kiln.strategies.profile import Profile, model_profile
from kiln.strategies.registry import strategy_from_config

if TYPE_CHECKING:
    import pandas as pd

MAX_BATCH = 1000
ASK_ATTEMPTS = 5


class Campaign:
    """A closed-loop campaign stored in a Store. Create with ``Campaign.create`` or reopen with ``Campaign.open``."""

    def __init__(self, name: str, config: CampaignConfig, store: Store) -> None:
        self.name = name
        self.config = config
        self.store = store
        self._mirror = ExperimentMirror(store, name)

    # ------------------------------------------------------------------------------------------ construction
    @classmethod
    def create(
        cls,
        name: str,
        *,
        space: Domain,
        objective: Objective,
        strategy: Strategy | Mapping[str, Any] | str | None = None,
        store: Store | str | os.PathLike[str] = DEFAULT_STORE_URL,
        seed: int = 0,
        extra: Mapping[str, Any] | None = None,
    ) -> Campaign:
        """Create and store a new campaign. Raises ConflictError if the name is taken."""
        if not isinstance(strategy, Strategy):
            strategy = strategy_from_config(strategy)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValidationError("seed", seed, "a whole number >= 0 is required", "e.g. seed: 0")
        config = CampaignConfig(space, objective, strategy, seed, extra)
        backend = _backend(store)
        backend.create_campaign(name, config.to_json())
        return cls(name, config, backend)

    @classmethod
    def open(cls, name: str, *, store: Store | str | os.PathLike[str] = DEFAULT_STORE_URL) -> Campaign:
        """Reopen a stored campaign by name. Raises NotFoundError listing known campaigns."""
        backend = _backend(store)
        record = backend.get_campaign(name)
        return cls(record.name, CampaignConfig.from_json(record.config), backend)

    @classmethod
    def open_or_create(
        cls, name: str, config: CampaignConfig, *, store: Store | str | os.PathLike[str] = DEFAULT_STORE_URL
    ) -> tuple[Campaign, bool]:
        """Reopen ``name`` if it exists with the same configuration, else create it. Returns (campaign, created)."""
        backend = _backend(store)
        try:
            record = backend.get_campaign(name)
        except NotFoundError:
            backend.create_campaign(name, config.to_json())
            return cls(name, config, backend), True
        # the stored document is compared as this version writes it, so a config stored in an older form (a
        # strategy-level kappa) matches the same spec today; extra (description, budget, instruments) says what a
        # campaign is about, not how it behaves: not compared
        opened = CampaignConfig.from_json(record.config)
        stored = {k: v for k, v in opened.to_json().items() if k != "extra"}
        given = {k: v for k, v in config.to_json().items() if k != "extra"}
        differences = config_differences(without_computed(stored), without_computed(given))
        if differences:
            raise ConflictError(
                f"campaign {name!r} exists in {backend.url} with a different configuration "
                f"({'; '.join(differences)}); give the spec another name to start a new campaign, or restore the "
                "spec it was started with to resume it"
            )
        return cls(name, opened, backend), False

    # --------------------------------------------------------------------------------------------- properties
    @property
    def domain(self) -> Domain:
        return self.config.domain

    @property
    def objective(self) -> Objective:
        return self.config.objective

    @property
    def strategy(self) -> Strategy:
        return self.config.strategy

    def experiments(self) -> list[Experiment]:
        """Every experiment in creation order."""
        return self._mirror.current()

    def snapshot(self) -> tuple[list[Experiment], int]:
        """Every experiment, and the cursor of the event log (``Store.events``) they are up to date with."""
        return self._mirror.snapshot()

    def pending(self) -> list[Experiment]:
        """Experiments suggested and not yet told or failed."""
        return [e for e in self.experiments() if e.status is ExperimentStatus.PENDING]

    def best(self, experiments: Sequence[Experiment] | None = None) -> Experiment | None:
        """The feasible completed experiment with the best utility (``Objective.utility``: the target's value, or
        the scalarisation of several), or None; among ``experiments`` when given (e.g. a ``snapshot``), else among
        all. Retracted experiments do not count. Several targets without a scalarisation have no single best: None
        (their best are the ``pareto`` front)."""
        if self.objective.is_multi:
            return None
        done = [e for e in (self.experiments() if experiments is None else experiments) if e.counts_as_result]
        index = self.objective.best_index([e.results for e in done])
        return None if index is None else done[index]

    def pareto(self, experiments: Sequence[Experiment] | None = None) -> list[Experiment]:
        """The Pareto front: the completed, feasible experiments that no other such one dominates in the targets
        (better or equal in every target, better in one), in creation order; among ``experiments`` when given.
        Retracted experiments do not count. With one target: the experiments sharing its best value."""
        done = [e for e in (self.experiments() if experiments is None else experiments) if e.counts_as_result]
        return [done[i] for i in self.objective.pareto_indices([e.results for e in done])]

    # ------------------------------------------------------------------------------------------------- loop
    def ask(self, n: int = 1, *, gate: Gate | None = None) -> list[Experiment]:
        """Propose ``n`` new experiments, store them as pending, and return them with their ids.

        Fewer than ``n`` come back only when a candidate pool has run out, or none when ``gate`` is closed before
        they are stored (a run that is stopping: nothing is stored then).
        """
        n = batch_size(n)
        for _ in range(ASK_ATTEMPTS - 1):
            try:
                return self._propose_and_store(n, gate)
            except StaleHistoryError:
                continue  # another client stored experiments meanwhile: propose again from the fresh history
        return self._propose_and_store(n, gate)

    def _propose_and_store(self, n: int, gate: Gate | None = None) -> list[Experiment]:
        import numpy as np  # here, not at the top: kiln show, tell and export do not need it

        if gate is not None and gate.closed:
            return []
        experiments = self.experiments()
        history = History.from_experiments(experiments)
        seed = int(np.random.SeedSequence([self.config.seed, len(experiments)]).generate_state(1)[0])
        proposals = self.strategy.propose(self.domain, self.objective, history, n, seed=seed)
        batch = max((e.batch for e in experiments), default=0) + 1
        new = [
            Experiment(
                id=new_id(),
                seq=0,
                params=self.domain.validate(self.domain.snap(p.params)),
                strategy=self.strategy.kind,
                batch=batch,
                candidate=p.candidate,
            )
            for p in proposals
        ]
        last_seq = experiments[-1].seq if experiments else 0
        if not new:
            return []
        if gate is None:
            return self.store.add_experiments(self.name, new, after_seq=last_seq)
        with gate.admit() as open_:
            return self.store.add_experiments(self.name, new, after_seq=last_seq) if open_ else []

    def tell(
        self,
        experiment_id: str,
        value: float | Mapping[str, Any],
        *,
        outputs: Mapping[str, Any] | None = None,
        note: str = "",
    ) -> Experiment:
        """Record the result of a pending experiment: a number (with one quantity), or a map quantity -> number
        holding some or all of ``objective.quantities`` (the targets and constrained quantities).

        The experiment is completed once every quantity has a value (a constraint broken makes it infeasible, not
        failed); until then it stays pending with the values so far, and a later tell adds the rest. Telling a
        quantity that has a value already is refused (StateError): amend corrects it. ``outputs`` (JSON) is kept
        with it, e.g. other quantities an instrument measured, and ``note``, free text a person wrote about it.
        """
        results = self.objective.parse_results(value)
        return self.store.add_results(
            self.name, experiment_id, results, required=self.objective.quantities, outputs=outputs, note=note
        )

    def fail(self, experiment_id: str, reason: str) -> Experiment:
        """Record that a pending experiment failed, and why."""
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError("reason", reason, "a non-empty text is required", "say why the experiment failed")
        return self.store.fail(self.name, experiment_id, reason.strip())

    def experiment(self, experiment_id: str) -> Experiment:
        """The stored record of one experiment, as it is now. Raises NotFoundError for an unknown id."""
        return self.store.get_experiment(self.name, experiment_id)

    def dispatch(
        self, experiment_id: str, instrument: str, handle: str = "", *, expect: tuple[str, str] | None = None
    ) -> Experiment:
        """Record that a pending experiment is being sent to ``instrument`` (``handle`` empty, before it is sent)
        or that the instrument accepted it under ``handle``.

        With ``expect`` = (instrument, handle), only while the stored pair is still that: a compare-and-set in the
        store, so two runs never both send one experiment. Raises StateError if it is no longer pending or the pair
        changed (another run took it, or someone told its result), NotFoundError for an unknown id.
        """
        return self.store.dispatch(self.name, experiment_id, instrument, handle, expect=expect)

    def flag(self, experiment_id: str, note: str) -> Experiment:
        """Mark a pending experiment for the operator, ``note`` saying why (empty clears it); it stays pending,
        so the strategy treats it as running, until someone tells or fails it. StateError if it is not pending."""
        return self.store.flag(self.name, experiment_id, note)

    # ------------------------------------------------------------------------------------------ corrections
    def amend(
        self,
        experiment_id: str,
        value: float | Mapping[str, Any] | None = None,
        *,
        reason: str,
        failure: str | None = None,
        actor: str = "",
        expect: int | None = None,
    ) -> Experiment:
        """Correct a finished experiment: a new ``value`` (a number with one quantity, or a map quantity ->
        number: the quantities given change, the others keep their values; a failed experiment becomes completed
        and needs every quantity), or ``failure`` (a reason: it becomes failed). A pending experiment with part of
        its results may have those values corrected (it stays pending). ``reason`` says why it is corrected; the
        earlier value stays in ``history``. ``actor``: who (a server passes its token's name). With ``expect``,
        only if it has been amended that many times (without it, only if nobody amends it between reading it and
        writing the merged values). StateError for a pending experiment without results or a discarded one."""
        why = _reason(reason, "why the result is corrected, e.g. --reason 'typo in the lab book'")
        if (value is None) == (failure is None):
            raise ValidationError(
                "value", value, "either a new value or a failure reason", "give a value, or --fail REASON instead"
            )
        if value is None:
            return self.store.amend(
                self.name,
                experiment_id,
                failure=_reason(failure, "why it counts as failed", "failure"),
                note=why,
                actor=actor,
                expect=expect,
            )
        current = self._check_correctable(experiment_id)
        results = self._amended_results(current, self.objective.parse_results(value))
        expect = current.amended if expect is None else expect
        return self.store.amend(self.name, experiment_id, results=results, note=why, actor=actor, expect=expect)

    def _amended_results(self, current: Experiment, given: Mapping[str, float]) -> dict[str, float]:
        """The results an amendment stores: the current ones with the given quantities replaced."""
        if current.status is ExperimentStatus.PENDING:
            untold = [name for name in given if name not in current.results]
            if untold:
                raise ValidationError(
                    "value",
                    dict(given),
                    f"experiment {current.id} is pending with values for {list(current.results)}: only those can be "
                    f"amended, {untold} have none yet",
                    "record them with tell",
                )
        if current.status is ExperimentStatus.FAILED:
            missing = [name for name in self.objective.quantities if name not in given]
            if missing:
                raise ValidationError(
                    "value",
                    dict(given),
                    f"a failed experiment becomes completed with values for all of {self.objective.quantities}",
                    f"give the missing {missing} too",
                )
            return dict(given)
        return {**current.results, **given}

    def retract(self, experiment_id: str, *, reason: str, actor: str = "") -> Experiment:
        """Retract a finished experiment: it stays in the record, but no model, ``best`` or plot uses it."""
        why = _reason(reason, "why it is retracted, e.g. --reason 'wrong sample loaded'")
        return self.store.retract(self.name, experiment_id, note=why, actor=actor)

    def unretract(self, experiment_id: str, *, reason: str, actor: str = "") -> Experiment:
        """Take a retraction back: the experiment counts again."""
        why = _reason(reason, "why the retraction is taken back")
        return self.store.retract(self.name, experiment_id, note=why, actor=actor, retracted=False)

    def discard(self, experiment_id: str, *, reason: str = "", actor: str = "") -> Experiment:
        """Discard a pending suggestion that will not be run: not a failure, nothing learns from it.

        StateError if it is not pending, or if it is in flight (dispatched to an instrument, whose result would
        then have nowhere to go): let it finish and retract the result, fail it with a reason, or stop the run."""
        if not isinstance(reason, str):
            raise ValidationError("reason", reason, "a text (may be empty)")
        return self.store.discard(self.name, experiment_id, note=reason.strip(), actor=actor)

    def history(self, experiment_id: str) -> list[Revision]:
        """Every version of an experiment's outcome, oldest first; the last is the current one."""
        return self.store.history(self.name, experiment_id)

    def revisions(self) -> list[Revision]:
        """Every stored version of the campaign's corrected experiments (by seq, then version number)."""
        return self.store.revisions(self.name)

    def delete(self) -> None:
        """Delete the campaign with every experiment, event and history from its store. It cannot be undone."""
        self.store.delete_campaign(self.name)

    def _check_correctable(self, experiment_id: str) -> Experiment:
        """The experiment; StateError first for a pending one without results (before its value is parsed),
        pointing at tell."""
        current = self.experiment(experiment_id)
        if current.status is ExperimentStatus.PENDING and not current.results:
            raise StateError(
                f"experiment {experiment_id} is pending: it has no result to amend yet; use tell to record its "
                "result (or discard it if it will not be run)"
            )
        return current

    def add_data(self, data: pd.DataFrame | str | IO[Any] | Sequence[Mapping[str, Any]]) -> Imported:
        """Add measurements: a DataFrame, a CSV path or open CSV file, or a list of row dicts.

        Columns: every parameter, every quantity (targets and constrained ones), and optionally ``id`` (an
        experiment of this campaign) and ``note``; any other column is kept as an output of its row. An export
        (``to_dataframe``, ``kiln export``) is accepted as it is: rows that repeat a stored experiment are skipped,
        rows with a result for a pending suggestion complete it (or add to its partial results), and a table of
        just ``id`` and the quantities records results of suggestions (see
        ``kiln.campaign.importing``). The whole table is checked before anything is stored; a bad row raises
        ValidationError naming the row and column, and nothing is added.

        Returns the experiments completed or added (a list), with ``skipped``: the number of rows left alone.
        """
        units = {**self.domain.units, **self.objective.units}
        quantities = self.objective.quantities
        rows = rows_to_import(data, self.domain.names, quantities, text=self._text_columns(), units=units)
        plan = plan_import(rows, self.domain, self.objective, self.experiments(), campaign=self.name)
        stored = self.store.record_results(self.name, plan.completions, plan.new, required=quantities)
        return Imported(stored, skipped=plan.skipped)

    def _text_columns(self) -> list[str]:
        """Parameters whose values are names (read as text from CSV files, so '01' stays '01')."""
        if isinstance(self.domain, CandidatePool):
            return [c for c, numeric in zip(self.domain.columns, self.domain.numeric, strict=True) if not numeric]
        return [p.name for p in self.domain.parameters if isinstance(p, Categorical)]

    def profile(self, parameter: str, points: int = 60) -> Profile:
        """The surrogate's prediction (mean and std in target units) along ``parameter`` through the best
        experiment; see ``kiln.strategies.profile``."""
        history = History.from_experiments(self.experiments())
        return model_profile(self.strategy, self.domain, self.objective, history, parameter, points=points)

    def to_table(self, *, history: bool = False) -> ExportTable:
        """``to_dataframe``'s rows as plain Python (``kiln.campaign.table.ExportTable``); ``kiln export`` writes
        them as CSV or JSON without pandas (``kiln.campaign.export_text``)."""
        revisions = self.revisions() if history else None
        experiments = self.experiments()
        quantities, front = self.objective.quantities, self._front_ids(experiments)
        return experiments_to_table(experiments, self.domain.names, quantities, revisions, front=front)

    def to_dataframe(self, *, history: bool = False) -> pd.DataFrame:
        """One row per experiment: ids, status, parameters, current results, and timestamps; with ``history``,
        also a row for every earlier version of a corrected experiment (see ``kiln.campaign.table``). With several
        unscalarised targets a ``pareto`` column marks the experiments on the front."""
        revisions = self.revisions() if history else None
        experiments = self.experiments()
        quantities, front = self.objective.quantities, self._front_ids(experiments)
        return experiments_to_frame(experiments, self.domain.names, quantities, revisions, front=front)

    def _front_ids(self, experiments: Sequence[Experiment]) -> set[str] | None:
        """Ids of the Pareto front among ``experiments`` with several unscalarised targets (exports mark them in a
        ``pareto`` column); None otherwise (no column)."""
        return {e.id for e in self.pareto(experiments)} if self.objective.is_multi else None

    def __repr__(self) -> str:
        return f"Campaign({self.name!r}, store={self.store.url!r})"


def _backend(store: Store | str | os.PathLike[str]) -> Store:
    """``store`` itself, or the store at that URL or SQLite file path."""
    return open_store(store) if isinstance(store, str | os.PathLike) else store


def batch_size(n: Any) -> int:
    """``n`` as the size of one ask: a whole number from 1 to MAX_BATCH, else ValidationError."""
    if isinstance(n, bool) or not isinstance(n, Integral) or not 1 <= int(n) <= MAX_BATCH:
        raise ValidationError("n", n, f"a whole number from 1 to {MAX_BATCH} is required", "e.g. -n 4")
    return int(n)


def _reason(text: Any, fix: str, field: str = "reason") -> str:
    """A non-empty, stripped reason; ValidationError naming ``field`` otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationError(field, text, "a non-empty text", f"say {fix}")
    return text.strip()
