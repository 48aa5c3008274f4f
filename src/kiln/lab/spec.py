"""Run specifications: the YAML file that names a campaign, its space or pool, objective, strategy and instrument.

Example (``examples/p3ht.yaml``)::

    name: p3ht-demo
    instrument: {kind: emulator, dataset: p3ht}
    pool: {dataset: p3ht}
    objective: {target: "Conductivity (measured) (S/cm)", direction: max}
    strategy: {kind: default}
    budget: 60
    seed: 0

Several targets (``examples/suzuki-ii-two-targets.yaml``; constraints, windows and scalarisations in
docs/spec.md)::

    objective:
      targets:
        - {name: yield, direction: max, unit: "%"}
        - {name: turnover, direction: max}
      reference: {yield: 0, turnover: 0}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiln.campaign.config import CampaignConfig
from kiln.core.errors import NotFoundError, SpecError, ValidationError
from kiln.lab.datasets import dataset_info, grouped, load_dataset
from kiln.lab.emulator import DatasetEmulator
from kiln.lab.instrument_config import instruments_from_spec
from kiln.lab.lease import LeaseSettings
from kiln.lab.protocol import AsyncInstrument
from kiln.lab.report_step import ReportStep, report_step
from kiln.lab.stopping import StopRules
from kiln.lab.workflow import workflow_from_spec
from kiln.objective import Objective, objective_from_config
from kiln.space.config import Domain, space_from_config
from kiln.space.parameters import YAML_BOOLEAN, quote_hint
from kiln.space.pool import CandidatePool
from kiln.strategies.registry import strategy_from_config

SPEC_FIELDS = {
    "name",
    "description",
    "space",
    "pool",
    "objective",
    "strategy",
    "instrument",
    "instruments",
    "budget",
    "batch",
    "seed",
    "in_flight",
    "stop",
    "timeout",
    "retries",
    "workflow",
    "lease",
    "report",
}


@dataclass(frozen=True)
class RunSpec:
    """A parsed specification.

    Attributes:
        instruments: the instrument configs (``instrument:`` or ``instruments:``); empty for campaigns run by hand.
        in_flight: experiments running at once under ``kiln run``.
        stop: stop rules besides the budget (max_cost, max_seconds, target, patience).
        timeout: seconds one experiment may take before it is cancelled and failed (None: no limit).
        retries: how often a failed dispatch is retried (with backoff).
        workflow: steps on the instruments that make one experiment, and an optional reward (see
            ``kiln.lab.workflow``); None: each experiment runs on one instrument.
        lease: the run lease's expiry and heartbeat in seconds (``lease: {expiry: 30, heartbeat: 5}``), see
            ``kiln.lab.lease``.
        report: where ``kiln run`` writes the campaign report when its loop ends (``report: true`` or
            ``report: {out: FILE.html, seed: 0}``, see ``kiln.lab.report_step``); None: no report.
    """

    name: str
    config: CampaignConfig
    instruments: tuple[Mapping[str, Any], ...]
    budget: int | None
    batch: int
    source: Path | None = None
    in_flight: int = 1
    stop: StopRules = field(default_factory=StopRules)
    timeout: float | None = None
    retries: int = 3
    workflow: Mapping[str, Any] | None = None
    lease: LeaseSettings = field(default_factory=LeaseSettings)
    report: ReportStep | None = None

    def build_instruments(self, seed: int = 0) -> list[tuple[AsyncInstrument, float, DatasetEmulator | None]]:
        """(instrument, cost, dataset emulator or None) for each instrument of the spec. SpecError if there is
        none or one is malformed (naming the field)."""
        if not self.instruments:
            raise SpecError(
                "instrument",
                None,
                "kiln run needs an instrument",
                "add instrument: {kind: emulator, dataset: p3ht}, or use kiln ask/tell",
            )
        base = self.source.parent if self.source is not None else Path()
        built = instruments_from_spec(self.instruments, seed=seed, base=base)
        if self.workflow is None:
            return built
        workflow = workflow_from_spec(
            self.workflow, {i.name: i for i, _, _ in built}, target=self.config.objective.names[0]
        )
        return [(workflow, workflow.cost, next((e for _, _, e in built if e is not None), None))]


def load_spec(path: str | Path) -> RunSpec:
    """Read and check a YAML spec file. Raises SpecError naming the field at fault."""
    import yaml

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("spec", str(path), "the file does not exist", "check the path") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}, column {where.column + 1}" if where is not None else ""
        problem = getattr(error, "problem", None) or type(error).__name__
        raise SpecError("spec", str(path), f"valid YAML is required ({problem}{line})", "fix the syntax") from None
    return spec_from_dict(document, base=file.parent, source=file)


def spec_from_dict(document: Any, *, base: Path = Path(), source: Path | None = None) -> RunSpec:
    """Check a spec given as a dict; relative CSV paths are read from ``base``."""
    if not isinstance(document, Mapping):
        raise SpecError("spec", document, "a YAML map is required", "see examples/p3ht.yaml")
    _refuse_listed_booleans(document, "")
    unknown = sorted(map(str, set(document) - SPEC_FIELDS))
    if unknown:
        raise SpecError("spec", unknown, f"known fields are {sorted(SPEC_FIELDS)}", "remove or rename them")
    name = document.get("name")
    if isinstance(name, bool):
        raise SpecError("name", name, f"a campaign name is {YAML_BOOLEAN}", quote_hint("name: 'yes'"))
    if not isinstance(name, str) or not name:
        raise SpecError("name", name, "every spec needs a campaign name", "add name: my-campaign")
    if "objective" not in document:
        raise SpecError(
            "objective", None, "every spec needs an objective", "add objective: {target: NAME, direction: max}"
        )
    objective = objective_from_config(document["objective"])
    instruments = _instruments(document)
    seed = document.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SpecError("seed", seed, "a whole number >= 0 is required", "e.g. seed: 0")
    overview: dict[str, Any] | None = None
    domain: Domain
    if isinstance(document.get("pool"), Mapping) and "overview" in document["pool"] and "space" not in document:
        from kiln.lab.microscope.overview_pool import overview_pool

        domain, overview = overview_pool(document["pool"], instruments, seed=seed, base=base)
    else:
        domain = _domain(document, objective, base)
    if document.get("workflow") is None and any(i.get("kind") == "microscope" for i in instruments):
        from kiln.lab.microscope.overview_pool import check_rewards

        check_rewards(objective.quantities, instruments)
    budget = _count(document, "budget", None)
    about = _about(document.get("description"), budget, instruments)
    if overview is not None:
        about["overview"] = overview
    config = CampaignConfig(domain, objective, strategy_from_config(document.get("strategy")), seed, about or None)
    timeout = document.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0):
        raise SpecError("timeout", timeout, "a number of seconds > 0 is required", "e.g. timeout: 3600")
    retries = document.get("retries", 3)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise SpecError("retries", retries, "a whole number >= 0 is required", "e.g. retries: 3")
    return RunSpec(
        name=name,
        config=config,
        instruments=instruments,
        budget=budget,
        batch=_count(document, "batch", 1) or 1,
        source=source,
        in_flight=_count(document, "in_flight", 1) or 1,
        stop=_stop(document.get("stop"), objective),
        timeout=None if timeout is None else float(timeout),
        retries=retries,
        workflow=_workflow(document.get("workflow"), objective),
        lease=_lease(document.get("lease")),
        report=report_step(document.get("report"), name=name, base=base),
    )


def _lease(value: Any) -> LeaseSettings:
    """The ``lease:`` map (expiry, heartbeat in seconds); SpecError naming a bad field."""
    if value is None:
        return LeaseSettings()
    if not isinstance(value, Mapping):
        raise SpecError("lease", value, "a map of expiry and heartbeat (seconds)", "e.g. lease: {expiry: 30}")
    unknown = sorted(map(str, set(value) - {"expiry", "heartbeat"}))
    if unknown:
        raise SpecError("lease", unknown, "fields are expiry and heartbeat", "remove the others")
    try:
        return LeaseSettings(expiry=value.get("expiry", 30.0), heartbeat=value.get("heartbeat"))
    except ValidationError as error:
        raise SpecError(error.field, error.value, error.allowed, error.fix) from None


def _refuse_listed_booleans(value: Any, where: str) -> None:
    """SpecError for true/false as a map key or a list item anywhere in the spec: no list or key of a spec holds
    booleans, so it is an unquoted yes/no/on/off that YAML read as one (``choices: [yes, no]``)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            if isinstance(key, bool):
                raise SpecError(where or "spec", key, f"keys are {YAML_BOOLEAN}", quote_hint("{'on': 1}"))
            _refuse_listed_booleans(item, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, bool):
                raise SpecError(
                    f"{where}[{index}]", item, f"list items are {YAML_BOOLEAN}", quote_hint("choices: ['yes', 'no']")
                )
            _refuse_listed_booleans(item, f"{where}[{index}]")


def _about(description: Any, budget: int | None, instruments: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What ``kiln show`` tells about a campaign besides its behaviour: stored in the config's ``extra``.

    Instruments are kept as their kind and plain settings (text, numbers, true/false), never nested ones (a
    microscope's sample is kept in words).
    """
    about: dict[str, Any] = {}
    if description is not None:
        about["description"] = str(description)
    if budget is not None:
        about["budget"] = budget
    if instruments:
        about["instruments"] = [
            {
                str(key): _sample_words(value) if key == "sample" and isinstance(value, Mapping) else value
                for key, value in instrument.items()
                if isinstance(value, str | bool | int)
                or (isinstance(value, float) and math.isfinite(value))
                or (key == "sample" and isinstance(value, Mapping))
            }
            for instrument in instruments
        ]
    return about


def _sample_words(sample: Mapping[str, Any]) -> str:
    """A microscope's sample in words, e.g. ``ferroelectric (seed 0, size 128)``."""
    rest = ", ".join(f"{key} {value}" for key, value in sample.items() if key != "kind")
    return f"{sample.get('kind')} ({rest})" if rest else str(sample.get("kind"))


def _instruments(document: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
    if "instrument" in document and "instruments" in document:
        raise SpecError(
            "instrument/instruments",
            ["instrument", "instruments"],
            "give one of them, not both",
            "move the instrument into the list",
        )
    if "instruments" in document:
        listed = document["instruments"]
        if not isinstance(listed, list) or not listed or not all(isinstance(i, Mapping) for i in listed):
            raise SpecError("instruments", listed, "a non-empty list of maps is required", "e.g. - {kind: emulator}")
        return tuple(dict(i) for i in listed)
    single = document.get("instrument")
    if single is None:
        return ()
    if not isinstance(single, Mapping):
        raise SpecError("instrument", single, "a map is required", "e.g. {kind: emulator, dataset: p3ht}")
    return (dict(single),)


def _workflow(config: Any, objective: Objective) -> Any:
    """The ``workflow:`` map as given (checked when the instruments are built); a reward gives one target value,
    so SpecError with several targets."""
    if isinstance(config, Mapping) and "reward" in config and len(objective.targets) > 1:
        raise SpecError(
            "workflow.reward",
            config["reward"],
            f"a reward gives one target's value, and this objective has the targets {objective.names}",
            "remove the reward and let the steps report every quantity",
        )
    return config


def _stop(config: Any, objective: Objective) -> StopRules:
    if config is None:
        return StopRules()
    if not isinstance(config, Mapping):
        raise SpecError("stop", config, "a map of stop rules is required", "e.g. stop: {patience: 20}")
    allowed = {"max_cost", "max_seconds", "target", "patience"}
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise SpecError("stop", unknown, f"stop rules are {sorted(allowed)} (budget is a top-level field)", "")
    if "target" in config and (len(objective.targets) > 1 or objective.scalarisation is not None):
        raise SpecError(
            "stop.target",
            config["target"],
            "a target value to stop at is for an objective with one target (several have a front, not one value)",
            "remove it; use budget, max_cost or patience",
        )
    try:
        return StopRules(**dict(config))
    except ValidationError as error:
        raise SpecError(error.field, error.value, error.allowed, error.fix) from None


def _count(document: Mapping[str, Any], key: str, default: int | None) -> int | None:
    value = document.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError(key, value, "a whole number >= 1 is required", f"e.g. {key}: 10")
    return value


def _domain(document: Mapping[str, Any], objective: Objective, base: Path) -> Domain:
    if ("space" in document) == ("pool" in document):
        raise SpecError(
            "space/pool",
            sorted(k for k in ("space", "pool") if k in document),
            "exactly one of space and pool is required",
            "declare parameters under space, or a table of candidates under pool",
        )
    if "space" in document:
        return space_from_config(document["space"])
    pool = document["pool"]
    if not isinstance(pool, Mapping) or ("dataset" in pool) == ("csv" in pool):
        raise SpecError(
            "pool",
            pool,
            "a pool needs exactly one of dataset (built-in), csv (a file) or overview (a microscope's overview scan)",
            "e.g. pool: {csv: candidates.csv}",
        )
    fields = {"dataset", "csv", "inputs", "allow_repeats", "units", "encoding", "image"}
    unknown = sorted(set(pool) - fields)
    if unknown:
        raise SpecError("pool", unknown, f"fields are {sorted(fields)}", "remove the others")
    if "dataset" in pool:
        try:
            info = dataset_info(str(pool["dataset"]))
        except NotFoundError as error:
            raise SpecError("pool.dataset", pool["dataset"], str(error), "use a built-in name or csv: FILE") from None
        frame = grouped(load_dataset(info.name), list(info.inputs), list(info.columns))
        default_inputs = list(info.inputs)
    else:
        frame = _read_csv(base / str(pool["csv"]))
        default_inputs = [str(c) for c in frame.columns if c not in objective.quantities]
    inputs = pool.get("inputs", default_inputs)
    if not isinstance(inputs, list) or not inputs:
        raise SpecError("pool.inputs", inputs, "a non-empty list of column names is required", "list the input columns")
    return CandidatePool.from_dataframe(
        frame,
        inputs,
        allow_repeats=pool.get("allow_repeats", False),
        units=pool.get("units"),
        encoding=pool.get("encoding", "auto"),
        image=_pool_image(pool.get("image"), base),
    )


def _pool_image(config: Any, base: Path) -> Any:
    """``pool.image: {npy: FILE, patch: 9, columns: [x, y]}`` (FILE relative to the spec) as a PoolImage."""
    if config is None:
        return None
    from kiln.space.pool_image import PoolImage

    if not isinstance(config, Mapping) or "npy" not in config:
        raise SpecError(
            "pool.image", config, "an image file: {npy: FILE, patch: 9, columns: [x, y]}", "see docs/spec.md"
        )
    try:
        return PoolImage.from_config({**config, "npy": str(base / str(config["npy"]))}, "pool.image")
    except ValidationError as error:
        raise SpecError(error.field, error.value, error.allowed, error.fix) from None


def _read_csv(path: Path) -> Any:
    import pandas as pd

    try:
        return pd.read_csv(path)
    except FileNotFoundError:
        raise SpecError(
            "pool.csv", str(path), "the file does not exist", "give a path relative to the spec file"
        ) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise SpecError(
            "pool.csv", str(path), f"a CSV table is required ({error})", "export the table as CSV"
        ) from None
