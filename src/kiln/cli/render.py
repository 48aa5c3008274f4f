"""Rich tables and summaries for the command line."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kiln.core.counts import COUNTS, counts_in_words, status_counts
from kiln.core.records import CampaignRecord, Experiment, ExperimentStatus, Revision, utc_now


def fmt(value: Any) -> str:
    """A parameter or result value, short: floats with 6 significant digits."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def labelled(name: str, units: Mapping[str, str] | None) -> str:
    """A column header or row label: the name with its unit, e.g. 'temperature [°C]', escaped for rich."""
    unit = (units or {}).get(name, "")
    return escape(f"{name} [{unit}]" if unit else name)


def experiments_table(
    experiments: Sequence[Experiment],
    params: Sequence[str],
    targets: Sequence[str],
    *,
    title: str = "",
    units: Mapping[str, str] | None = None,
    width: int | None = None,
    front: Mapping[str, str] | None = None,
    missing: Sequence[str] | None = None,
    front_header: str = "front",
) -> Table:
    """A row per experiment: id, #, status, parameters (with their units), targets (the measured quantities; a
    pending experiment's missing ones show ``-``). Ids are never cut. With ``front`` (id -> mark, ``front_marks``)
    a column (``front_header``) marks those on the Pareto front and those that break a constraint; with ``missing`` (the
    quantities of the objective) a ``missing`` column names those a pending experiment still waits for. With
    ``width`` (the console's) a table that would not fit lists each experiment's parameters as ``name = value``
    lines in one column, so long values (SMILES) wrap whole."""
    marks = _Marks(front, missing, front_header)
    wide = _wide_table(experiments, params, targets, title=title, units=units, marks=marks)
    if width is None or _natural(wide) <= width:
        return wide
    return _stacked_table(experiments, params, targets, title=title, units=units, marks=marks)


class _Marks:
    """The optional columns of an experiments table: on the front, and the quantities still missing."""

    def __init__(self, front: Mapping[str, str] | None, missing: Sequence[str] | None, header: str) -> None:
        self.front = front
        self.header = header
        self.quantities = None if missing is None else list(missing)

    def headers(self) -> list[str]:
        return [
            *([self.header] if self.front is not None else []),
            *(["missing"] if self.quantities is not None else []),
        ]

    def cells(self, e: Experiment) -> list[str]:
        cells = []
        if self.front is not None:
            cells.append(self.front.get(e.id, ""))
        if self.quantities is not None:
            cells.append(", ".join(missing_quantities(e, self.quantities)))
        return cells


def front_marks(objective: Any, experiments: Sequence[Experiment], front: Collection[str]) -> dict[str, str]:
    """id -> ``yes`` for the experiments on the front (ids ``front``), ``breaks stability >= 0.9`` for completed
    ones that break a constraint."""
    marks = {}
    for e in experiments:
        broken = objective.violated(e.results) if e.counts_as_result else []
        if e.id in front:
            marks[e.id] = "yes"
        elif broken:
            marks[e.id] = "breaks " + ", ".join(str(c) for c in broken)
    return marks


def missing_quantities(e: Experiment, quantities: Sequence[str]) -> list[str]:
    """The quantities a pending experiment has no value for yet (none for a finished one)."""
    if e.status is not ExperimentStatus.PENDING:
        return []
    return [q for q in quantities if q not in e.results]


def _natural(table: Table) -> int:
    """The width a table takes without folding any cell."""
    return Console(width=10_000).measure(table).maximum


def _id_columns(table: Table, experiments: Sequence[Experiment]) -> None:
    widest = max((len(e.id) for e in experiments), default=2)
    table.add_column("id", style="cyan", no_wrap=True, min_width=widest)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)


def _results(e: Experiment, targets: Sequence[str]) -> list[str]:
    """A cell per quantity: its value; a failure's reason; ``-`` for one a pending experiment still waits for."""
    pending = e.status is ExperimentStatus.PENDING
    return [fmt(e.results[t]) if t in e.results else ("-" if pending else e.reason) for t in targets]


def _wide_table(
    experiments: Sequence[Experiment],
    params: Sequence[str],
    targets: Sequence[str],
    *,
    title: str,
    units: Mapping[str, str] | None,
    marks: _Marks,
) -> Table:
    table = Table(title=title or None, show_lines=False)
    _id_columns(table, experiments)
    for name in params:
        table.add_column(labelled(name, units), overflow="fold")
    for name in targets:
        table.add_column(labelled(name, units), style="bold", overflow="fold")
    for header in marks.headers():
        table.add_column(header, overflow="fold")
    for e in experiments:
        params_cells = (fmt(e.params.get(p)) for p in params)
        table.add_row(e.id, str(e.seq), status_text(e), *params_cells, *_results(e, targets), *marks.cells(e))
    return table


def status_text(e: Experiment) -> str:
    """The status with its corrections: e.g. 'completed (amended)', 'failed (retracted)'."""
    marks = [m for m, on in (("amended", e.amended > 0), ("retracted", e.retracted)) if on]
    return e.status.value + (f" ({', '.join(marks)})" if marks else "")


def _stacked_table(
    experiments: Sequence[Experiment],
    params: Sequence[str],
    targets: Sequence[str],
    *,
    title: str,
    units: Mapping[str, str] | None,
    marks: _Marks,
) -> Table:
    """One cell of ``name = value`` lines per experiment (results last, in bold): each value wraps on its own."""
    table = Table(title=title or None, show_lines=True)
    _id_columns(table, experiments)
    table.add_column("values", overflow="fold", ratio=1)
    for e in experiments:
        lines = [f"[cyan]{labelled(p, units)}[/] = {escape(fmt(e.params.get(p)))}" for p in params]
        lines += [f"[bold]{labelled(t, units)} = {fmt(e.results[t])}[/]" for t in targets if t in e.results]
        if e.reason:
            lines.append(f"[yellow]reason[/]: {escape(e.reason)}")
        for header, cell in zip(marks.headers(), marks.cells(e), strict=True):
            if cell:
                lines.append(f"[yellow]{header}[/]: {escape(cell)}")
        table.add_row(e.id, str(e.seq), status_text(e), "\n".join(lines))
    return table


def experiment_record(e: Experiment, objective: Any = None) -> dict[str, Any]:
    """One experiment as JSON-able data (what ``--json`` prints): ids, state, values, times in ISO 8601; with the
    campaign's ``objective``, also ``missing``: the quantities a pending experiment still waits for."""
    record = {
        "id": e.id,
        "seq": e.seq,
        "status": e.status.value,
        "params": dict(e.params),
        "results": dict(e.results),
        "reason": e.reason,
        "amended": e.amended,
        "retracted": e.retracted,
        "created_at": e.created_at.isoformat(),
        "finished_at": e.finished_at.isoformat() if e.finished_at else None,
    }
    if objective is not None:
        record["missing"] = missing_quantities(e, objective.quantities)
    return record


def experiments_json(experiments: Sequence[Experiment], objective: Any = None) -> list[dict[str, Any]]:
    return [experiment_record(e, objective) for e in experiments]


def tell_usage(objective: Any, campaign: str) -> str:
    """How to tell a result: ``kiln tell NAME ID VALUE``, or ``... yield=VALUE cost=VALUE`` with several
    quantities."""
    quantities = objective.quantities
    values = "VALUE" if len(quantities) == 1 else " ".join(f"{q}=VALUE" for q in quantities)
    return f"kiln tell {campaign} ID {values}"


def told_text(e: Experiment, objective: Any, *, campaign: str) -> str:
    """What ``kiln tell`` says: the values recorded, and for a pending experiment the quantities still missing
    with the command that records them."""
    results = ", ".join(f"{name} = {fmt(value)}" for name, value in e.results.items())
    extra = f", outputs {dict(e.outputs)}" if e.outputs else ""
    missing = missing_quantities(e, objective.quantities)
    if not missing:
        return f"{e.id}: {e.status.value} with {results}{extra}"
    later = " ".join(f"{name}=VALUE" for name in missing)
    return (
        f"{e.id}: recorded {results}{extra}; still pending, waiting for {', '.join(missing)} "
        f"(kiln tell {campaign} {e.id} {later})"
    )


def campaign_rows(store: Any, records: Sequence[CampaignRecord]) -> list[dict[str, Any]]:
    """Each campaign's name, creation time (ISO 8601), number of experiments and their counts
    (``kiln.core.counts.status_counts``: completed, failed, pending, retracted, discarded, and amended)."""
    return [
        {
            "name": record.name,
            "created_at": record.created_at.isoformat(),
            "experiments": len(experiments),
            **status_counts(experiments),
        }
        for record in records
        for experiments in (store.experiments(record.name),)
    ]


def campaigns_table(store: Any, records: Sequence[CampaignRecord], *, width: int | None = None) -> Table:
    """Names are never cut (they are what the next command needs); the other columns give way to fit ``width``:
    when a column per count does not fit, the counts are one column of words that wraps."""
    rows = campaign_rows(store, records)
    roomy = _campaigns_table(rows, roomy=True)
    if width is None or _natural(roomy) <= width:
        return roomy
    return _campaigns_table(rows, roomy=False)


def _campaigns_table(rows: Sequence[Mapping[str, Any]], *, roomy: bool) -> Table:
    widest = max((len(row["name"]) for row in rows), default=4)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True, padding=0)
    table.add_column("name", no_wrap=True, min_width=widest, style="bold")
    table.add_column("created (UTC)", no_wrap=roomy, min_width=10)
    if roomy:
        for column in ("total", *COUNTS):
            table.add_column(column, justify="right", min_width=len(column))
    else:
        table.add_column("experiments", ratio=1)
    for row in rows:
        created = row["created_at"][:16].replace("T", " ")
        if roomy:
            cells = [str(row[key]) for key in ("experiments", *COUNTS)]
        else:
            words = counts_in_words(row)
            cells = [f"{row['experiments']}" + (f" ({words})" if words else "")]
        table.add_row(escape(row["name"]), created, *cells)
    return table


def describe_domain(domain: Any) -> str:
    """A space or a pool in words, e.g. ``a pool of 600 candidates over n, theta, r, t``."""
    from kiln.space.constraints import Composition
    from kiln.space.parameters import Categorical, Continuous, Discrete, Integer
    from kiln.space.pool import CandidatePool

    if isinstance(domain, CandidatePool):
        columns = [f"{c} [{domain.units[c]}]" if c in domain.units else c for c in domain.columns]
        return f"a pool of {len(domain.rows)} candidates over {', '.join(columns)}"
    parts = []
    for parameter in domain.parameters:
        unit = f" {parameter.unit}" if not isinstance(parameter, Categorical) and parameter.unit else ""
        if isinstance(parameter, Continuous | Integer):
            scale = ", log scale" if getattr(parameter, "log", False) else ""
            step = getattr(parameter, "precision", None)
            steps = f" in steps of {fmt(step)}" if step is not None else ""
            parts.append(f"{parameter.name} from {fmt(parameter.low)} to {fmt(parameter.high)}{unit}{steps}{scale}")
        elif isinstance(parameter, Discrete):
            parts.append(f"{parameter.name} in {{{', '.join(fmt(v) for v in parameter.values)}}}{unit}")
        elif isinstance(parameter, Categorical):
            parts.append(f"{parameter.name}: one of {len(parameter.choices)} choices")
    groups = [g for g in domain.compositions if isinstance(g, Composition)]
    text = f"a space of {len(domain.parameters)} parameters: " + "; ".join(parts)
    for group in groups:
        unit = f" {group.unit}" if group.unit else ""
        steps = f" in steps of {fmt(group.precision)}" if group.precision is not None else ""
        text += f"; {' + '.join(group.parts)} = {fmt(group.total)}{unit}{steps}"
    if domain.constraints:
        text += f"; {len(domain.constraints)} linear constraint(s)"
    return text


def describe_strategy(config: Mapping[str, Any], objective: Any = None) -> str:
    """A strategy's configuration in words, e.g. ``default (initial 5, kernel matern52, acquisition ucb (kappa 2))``:
    a setting that is itself a map with a kind (the acquisition) is described the same way. With the campaign's
    ``objective``, the default strategy of several targets or outcome constraints is described with the acquisition
    its BO phase uses (the multi-objective strategy's, e.g. ``acquisition qlognehvi``), not the one-target settings
    it leaves aside."""
    if objective is not None and config.get("kind") == "default" and (objective.is_multi or objective.constraints):
        from kiln.strategies.mo_acquisition import chosen_acquisition

        targets = len(objective.targets) if objective.is_multi else 1
        config = {k: v for k, v in config.items() if k not in ("acquisition", "transform")}
        config["acquisition"] = chosen_acquisition("auto", targets)
    if objective is not None and config.get("kind") == "default" and objective.is_map:
        from kiln.strategies.default import DefaultStrategy

        mapping = config.get("mapping", DefaultStrategy.__dataclass_fields__["mapping"].default)
        config = {k: v for k, v in config.items() if k not in ("acquisition", "initial_multi", "mapping")}
        config["mapping"] = mapping  # what it does under goal: map, not the optimisation settings it leaves aside
    options = ", ".join(
        f"{key} {describe_strategy(value) if isinstance(value, Mapping) else fmt(value)}"
        for key, value in config.items()
        if key != "kind"
    )
    return f"{config.get('kind', '?')} ({options})" if options else str(config.get("kind", "?"))


def describe_instrument(config: Mapping[str, Any]) -> str:
    """An instrument's stored settings in words, e.g. ``emulator (dataset suzuki)``."""
    options = ", ".join(f"{key} {fmt(value)}" for key, value in config.items() if key != "kind")
    return f"{config.get('kind', '?')} ({options})" if options else str(config.get("kind", "?"))


def describe_objective(objective: Any) -> str:
    """An objective in words, e.g. ``maximise yield, minimise cost; subject to stability >= 0.9``."""
    goals = []
    for t in objective.targets:
        if t.direction.value == "range":
            window = f"{fmt(t.low)} to {fmt(t.high)}"
            goals.append(f"{t.name} near the middle of {window}" if t.prefer == "centre" else f"{t.name} in {window}")
        else:
            goals.append(f"{t.direction.value}imise {t.name}")
    text = ", ".join(goals)
    if objective.is_map:
        return (
            "map "
            + ", ".join(t.name for t in objective.targets)
            + " (a good model everywhere)"
            + ("; subject to " + ", ".join(str(c) for c in objective.constraints) if objective.constraints else "")
        )
    if objective.scalarisation:
        text += f" (combined by {objective.scalarisation})"
    elif objective.is_multi:
        text += " (the Pareto front: kiln pareto)"
    if objective.constraints:
        text += "; subject to " + ", ".join(str(c) for c in objective.constraints)
    return text


def front_and_best(campaign: Any, experiments: Sequence[Experiment]) -> tuple[list[Experiment] | None, Any]:
    """(the Pareto front, None) for several unscalarised targets, else (None, the best experiment or None)."""
    from kiln.report.front import pareto_front

    if campaign.objective.is_multi:
        return pareto_front(campaign.objective, experiments), None
    return None, campaign.best(experiments)


def partly_measured(experiments: Sequence[Experiment], quantities: Sequence[str]) -> list[Experiment]:
    """Pending experiments with some quantities told and others still missing."""
    return [e for e in experiments if e.results and missing_quantities(e, quantities)]


def campaign_summary(campaign: Any) -> dict[str, Any]:
    """What ``kiln show --json`` prints: the set-up in words and as stored, the run driving it (``run``: who holds
    the run lease, ``kiln.lab.lease.lease_json``; null when none), counts, the best (null with several targets)
    and latest results, the Pareto front (``front``: null with one target), the partly measured experiments, and the
    microscope overview scan the pool was taken from (``overview``: null without one), and with ``goal: map`` the
    model's estimated error and where it is least sure (``map``: null otherwise)."""
    from kiln.lab.lease import lease_json

    experiments = campaign.experiments()
    extra = dict(campaign.config.extra or {})
    objective = campaign.objective
    front, best = front_and_best(campaign, experiments)
    return {
        "name": campaign.name,
        "store": campaign.store.url,
        "description": extra.get("description"),
        "space": describe_domain(campaign.domain),
        "encodings": campaign.domain.describe_encodings(),
        "objective": [target.to_config() for target in objective.targets],
        "constraints": [constraint.to_config() for constraint in objective.constraints],
        "goal": describe_objective(objective),
        "strategy": campaign.strategy.to_config(),
        "seed": campaign.config.seed,
        "budget": extra.get("budget"),
        "instruments": extra.get("instruments", []),
        "overview": extra.get("overview"),
        "run": lease_json(campaign.store.get_lease(campaign.name), utc_now()),
        "experiments": len(experiments),
        **status_counts(experiments),
        "best": None if best is None else experiment_record(best, objective),
        "front": None if front is None else experiments_json(front, objective),
        "partly_measured": experiments_json(partly_measured(experiments, objective.quantities), objective),
        "latest": experiments_json(experiments[-10:], objective),
        "map": campaign_map_error(campaign, experiments),
    }


def campaign_map_error(campaign: Any, experiments: Sequence[Experiment]) -> dict[str, Any] | None:
    """The estimated error of a ``goal: map`` campaign's model (``kiln.campaign.map_error``); None otherwise."""
    if not campaign.objective.is_map:
        return None
    from kiln.campaign.map_error import map_error

    return map_error(campaign.domain, campaign.objective, experiments, seed=campaign.config.seed).to_json()


def show_campaign(campaign: Any, console: Console) -> None:
    """The set-up in words (a label column, values wrapping beside it), the run driving it, counts, the best and
    latest results."""
    from kiln.lab.lease import holder_text

    experiments = campaign.experiments()
    counts = status_counts(experiments)
    extra = dict(campaign.config.extra or {})
    console.print(f"[bold]{escape(campaign.name)}[/] in {escape(campaign.store.url)}", highlight=False)
    about = Table.grid(padding=(0, 1))
    about.add_column(style="dim", no_wrap=True)
    about.add_column(overflow="fold")
    if extra.get("description"):
        about.add_row("about", escape(str(extra["description"])))
    about.add_row("space", escape(describe_domain(campaign.domain)))
    for name, line in campaign.domain.describe_encodings().items():  # how the model sees each text input
        about.add_row("encoding", escape(f"{name}: {line}"))
    objective = campaign.objective
    about.add_row("objective", escape(describe_objective(objective)))
    strategy = describe_strategy(campaign.strategy.to_config(), objective)
    about.add_row("strategy", f"{escape(strategy)}, seed {campaign.config.seed}")
    finished = counts["completed"] + counts["failed"] + counts["retracted"]
    if extra.get("budget") is not None:
        in_part = sum(1 for e in experiments if e.status is ExperimentStatus.PENDING and e.results)
        measured = f"{finished} finished" + (f", {in_part} measured in part" if in_part else "")
        about.add_row("budget", f"{extra['budget']} experiments ({measured})")
    for instrument in extra.get("instruments", []):
        about.add_row("instrument", escape(describe_instrument(instrument)))
    if isinstance(extra.get("overview"), dict):  # the microscope overview the pool was taken from
        scan = extra["overview"]
        shape = " x ".join(str(n) for n in scan.get("shape", []))
        about.add_row(
            "overview",
            escape(
                f"{shape} scan on {scan.get('instrument')} (pixel stride {scan.get('stride')}, patch "
                f"{scan.get('patch')}; cost {fmt(scan.get('cost'))}, {fmt(scan.get('seconds'))} simulated s)"
            ),
        )
    lease = campaign.store.get_lease(campaign.name)
    if lease is not None:
        about.add_row("run by", escape(holder_text(lease, utc_now())))
    words = counts_in_words(counts)
    about.add_row("experiments", f"{len(experiments)}" + (f" ({words})" if words else ""))
    flagged = [e for e in experiments if e.status is ExperimentStatus.PENDING and e.attention]
    running = [  # a partly measured one left its instrument: it is listed as partly measured below
        e
        for e in experiments
        if e.status is ExperimentStatus.PENDING and e.instrument and not e.attention and not e.results
    ]
    if running:
        about.add_row("in flight", f"{len(running)} ({escape(', '.join(sorted({e.instrument for e in running})))})")
    if flagged:
        about.add_row(
            "[yellow]operator[/]", f"{len(flagged)} need an operator (finish each with kiln tell or kiln fail)"
        )
        for experiment in flagged:
            where = f"#{experiment.seq}, {escape(experiment.instrument)}"
            about.add_row("", f"{experiment.id} ({where}): {escape(experiment.attention)}")
    partly = partly_measured(experiments, objective.quantities)
    if partly:
        waiting = sorted({q for e in partly for q in missing_quantities(e, objective.quantities)})
        about.add_row(
            "partly measured",
            f"{len(partly)} waiting for {escape(', '.join(waiting))} (kiln pending {escape(campaign.name)})",
        )
    console.print(about, highlight=False)
    units = {**campaign.domain.units, **objective.units}
    params, quantities = campaign.domain.names, objective.quantities
    front, best = front_and_best(campaign, experiments)
    if objective.is_map:
        from kiln.campaign.map_error import map_error, map_error_lines

        error = map_error(campaign.domain, objective, experiments, seed=campaign.config.seed)
        model = Table.grid(padding=(0, 1))
        model.add_column(style="dim", no_wrap=True)
        model.add_column(overflow="fold")
        for line in map_error_lines(error, units):
            model.add_row("map", escape(line))
        console.print(model, highlight=False)
    elif best is not None:
        console.print(experiment_card(best, params, quantities, title="best so far", units=units))
    if front:
        title = f"Pareto front: {len(front)} experiment(s) no other beats in every target"
        console.print(experiments_table(front, params, quantities, title=title, units=units, width=console.width))
    if experiments:
        console.print(
            experiments_table(
                experiments[-10:],
                params,
                quantities,
                title="latest",
                units=units,
                width=console.width,
                front=None
                if front is None and not objective.constraints
                else front_marks(objective, experiments, {e.id for e in front or ()}),
                front_header="front" if front is not None else "constraints",
            )
        )


def experiment_card(
    experiment: Experiment,
    params: Sequence[str],
    targets: Sequence[str],
    *,
    title: str,
    units: Mapping[str, str] | None = None,
) -> Table:
    """One experiment as a two-column table (name with its unit, value): readable however many parameters."""
    table = Table(title=title, show_header=False)
    table.add_column("name", style="cyan", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_row("id", f"{experiment.id} (#{experiment.seq}, {experiment.status.value})")
    for name in params:
        table.add_row(labelled(name, units), fmt(experiment.params.get(name)))
    for name in targets:
        table.add_row(f"[bold]{labelled(name, units)}[/]", f"[bold]{fmt(experiment.results.get(name))}[/]")
    return table


def history_table(versions: Sequence[Revision], targets: Sequence[str], *, title: str) -> Table:
    """Every version of an experiment's outcome, oldest first: what it was, and when, why and by whom it changed."""
    table = Table(title=title)
    for column in ("#", "change", "status", *targets, "reason / note", "by"):  # values wrap, never cut
        table.add_column(escape(column), justify="right" if column == "#" else "left", overflow="fold")
    table.add_column("at (UTC)", no_wrap=True, min_width=19)  # a time is read whole, never cut
    for r in versions:
        status = r.status.value + (" (retracted)" if r.retracted else "")
        values = [fmt(r.results[t]) if t in r.results else "" for t in targets]
        words = "; ".join(w for w in (r.reason, r.note) if w)
        table.add_row(
            str(r.number), r.change.value, status, *values, words, r.actor, f"{r.at.astimezone(UTC):%Y-%m-%d %H:%M:%S}"
        )
    return table
