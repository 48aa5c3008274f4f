"""The runs of a benchmark suite: one (dataset, strategy, run) unit each, its result file, and running units.

A unit's result is written to ``DIR/runs/DATASET/STRATEGY/run-R.json`` as soon as it finishes (written to a
temporary file, then renamed, so a crash never leaves half a file). The file holds the unit's ``key``: everything
the result depends on (the data's digest, columns, encoding, budget, initial points, seed, the strategy's config).
Running the suite again skips every unit whose file holds the same key; a file with another key is an error,
never silently overwritten or reused.

Run R of a dataset is ``kiln bench pool``'s run R with the same seed: its seed is ``run_seed(seed, R)``, so a
suite's results equal those of ``kiln bench pool --seed SEED`` on the same data, whichever machine ran them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import re
import socket
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.bench.registry import resolve_strategy
from kiln.bench.suite_spec import SuiteDataset
from kiln.core.errors import KilnError, ValidationError
from kiln.core.version import VERSION as __version__

if TYPE_CHECKING:
    from kiln.bench.backtest import PoolProblem
    from kiln.bench.runner import DatasetMeta

_SAFE = re.compile(r"^[A-Za-z0-9._-]{1,80}$")


@dataclass(frozen=True)
class SuiteUnit:
    """One run of one strategy on one dataset; ``budget`` is the dataset's budget capped at its pool size."""

    dataset: SuiteDataset
    strategy: str
    run: int
    seed: int
    initial: int
    budget: int

    def key(self) -> dict[str, Any]:
        """Everything the unit's result depends on (JSON-able); equal keys mean an equal result."""
        return {
            "dataset": self.dataset.name,
            "data": self.dataset.digest,
            "target": self.dataset.target,
            "direction": self.dataset.direction,
            "inputs": None if self.dataset.inputs is None else list(self.dataset.inputs),
            "encoding": self.dataset.encoding,
            "strategy": self.strategy,
            **strategy_identity(self.strategy),
            "run": self.run,
            "seed": self.seed,
            "initial": self.initial,
            "budget": self.budget,
        }

    def path(self, folder: Path) -> Path:
        """Where the unit's result lives under the results folder ``folder``."""
        return folder / "runs" / self.dataset.name / strategy_folder(self.strategy) / f"run-{self.run}.json"


_PEER_LIBRARIES = (
    ("baybe", "baybe"),
    ("ax", "ax-platform"),
    ("optuna", "optuna"),
    ("skopt", "scikit-optimize"),
    ("botorch", "botorch"),
)


@functools.cache
def strategy_identity(name: str) -> dict[str, Any]:
    """What a strategy's results depend on besides the data: its config (Kiln's strategies: every resolved
    setting, so a changed default is another strategy), Kiln's version, and a peer's library version."""
    entry = resolve_strategy(name)
    identity: dict[str, Any] = {**entry.describe(), "kiln": __version__}
    if entry.peer:
        from importlib.metadata import PackageNotFoundError, version

        for prefix, package in _PEER_LIBRARIES:
            if name.startswith(prefix):
                try:
                    identity["library"] = f"{package} {version(package)}"
                except PackageNotFoundError:
                    identity["library"] = f"{package} (not installed)"
    else:
        with contextlib.suppress(KilnError):  # a strategy that cannot be built fails at its run, with its message
            identity["resolved"] = entry.build().to_config()
    return identity


def strategy_folder(name: str) -> str:
    """A folder name for a strategy: the name itself when it is safe, else ``config-`` and a hash of it."""
    return name if _SAFE.match(name) else "config-" + hashlib.sha256(name.encode()).hexdigest()[:16]


def load_dataset_problem(dataset: SuiteDataset) -> tuple[PoolProblem, DatasetMeta]:
    """The grouped pool of ``dataset`` (``kiln.bench.runner.load_problem``); a ValidationError names the dataset."""
    from kiln.bench.runner import load_problem

    try:
        return load_problem(
            data=dataset.csv,
            dataset=None if dataset.csv is not None else dataset.name,
            target=dataset.target,
            direction=dataset.direction,
            inputs=dataset.inputs,
            encoding=dataset.encoding,
        )
    except ValidationError as error:
        raise ValidationError(f"datasets[{dataset.name}]", error.value, str(error), None) from None


_PROBLEMS: dict[str, tuple[PoolProblem, DatasetMeta]] = {}


def dataset_problem(dataset: SuiteDataset) -> tuple[PoolProblem, DatasetMeta]:
    """The dataset's problem and description, loaded once per process (the driver plans with it, and each
    worker runs many units of one dataset); the CSV read must be the one the suite was planned on."""
    cache_key = json.dumps([dataset.digest, dataset.target, dataset.direction, dataset.inputs, dataset.encoding])
    if cache_key not in _PROBLEMS:
        if dataset.csv is not None:
            try:
                here = "sha256:" + hashlib.sha256(dataset.csv.read_bytes()).hexdigest()
            except OSError as error:
                raise ValidationError(
                    f"datasets[{dataset.name}].csv", str(dataset.csv), f"unreadable here ({error})", None
                ) from None
            if here != dataset.digest:
                raise ValidationError(
                    f"datasets[{dataset.name}].csv",
                    str(dataset.csv),
                    f"this machine's copy ({socket.gethostname()}) differs from the one the suite was started with",
                    "give every machine the same file",
                )
        _PROBLEMS[cache_key] = load_dataset_problem(dataset)
    return _PROBLEMS[cache_key]


def failure(unit: SuiteUnit, why: str) -> dict[str, Any]:
    """The record of a run that failed: ``{"error": message}``, the message naming the run."""
    return {"error": f"{unit.dataset.name}, strategy {unit.strategy!r}, run {unit.run}: {why}"}


def run_unit(unit: SuiteUnit) -> dict[str, Any]:
    """Run ``unit`` in this process (torch and BLAS on one thread): its result record (with ``seconds``, the run's
    wall-clock time), or ``{"error": message}`` when the strategy fails (any exception: a peer library's numerical
    failure is reported, not fatal)."""
    from kiln.bench.backtest import run_seed, run_trajectory
    from kiln.models.gp import limit_threads

    limit_threads(1)
    started = time.perf_counter()
    try:
        trajectory = run_trajectory(
            dataset_problem(unit.dataset)[0],
            resolve_strategy(unit.strategy).build(),
            seed=run_seed(unit.seed, unit.run),
            budget=unit.budget,
            initial=unit.initial,
        )
    except KilnError as error:
        return failure(unit, str(error))
    except Exception as error:  # a peer library's own failure must not stop the suite's other runs
        return failure(unit, f"{type(error).__name__}: {error}")
    return {
        "key": unit.key(),
        "seed": trajectory.seed,
        "initial": list(trajectory.initial),
        "chosen": list(trajectory.chosen),
        "found": list(trajectory.found),
        "seconds": round(time.perf_counter() - started, 3),
    }


def read_record(unit: SuiteUnit, folder: Path) -> dict[str, Any] | None:
    """The unit's saved result, or None when it has not run; ValidationError if the file is not this unit's."""
    path = unit.path(folder)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValidationError(
            "--out", str(path), f"a readable result file is required ({error})", "delete it to rerun that run"
        ) from None
    if not isinstance(record, dict) or record.get("key") != unit.key():
        raise ValidationError(
            "--out",
            str(path),
            "it holds a result of other settings or data than the suite's (budget, seed, columns or CSV changed)",
            "give another --out folder, or move the old results away",
        )
    return record


def other_records(unit: SuiteUnit, folder: Path, known: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Results in ``folder`` of strategies not in ``known`` on ``unit``'s dataset with the same data and settings
    (another suite's, written to the same folder): strategy name -> records in run order. A file counts when its
    key is the key a unit of its strategy and run would have here; anything else is left out (it is not this
    suite's to judge)."""
    skip = set(known)
    found: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for path in sorted((folder / "runs" / unit.dataset.name).glob("*/run-*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            name, run = str(record["key"]["strategy"]), int(record["key"]["run"])
            if name in skip:
                continue
            twin = dataclasses.replace(unit, strategy=name, run=run)
            if record["key"] != twin.key() or path != twin.path(folder):
                continue  # other data or settings, or a strategy whose settings or library changed since
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, KilnError):
            continue
        found.setdefault(name, []).append((run, record))
    return {name: [r for _, r in sorted(pairs, key=lambda pair: pair[0])] for name, pairs in sorted(found.items())}


def write_record(unit: SuiteUnit, folder: Path, record: dict[str, Any]) -> None:
    """Save ``record`` as the unit's result: a temporary file first, then an atomic rename."""
    path = unit.path(folder)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, json.dumps(record, separators=(",", ":")) + "\n")
    except OSError as error:
        raise ValidationError("--out", str(path), f"the result cannot be written ({error.strerror})", None) from None


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a unique temporary file beside it, flushed to disk, then renamed."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# ----------------------------------------------------------------------------------------------------- executors
Done = Callable[[SuiteUnit, dict[str, Any]], None]


_THREAD_VARIABLES = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def _one_thread() -> None:
    from kiln.models.gp import limit_threads

    os.environ.update(_THREAD_VARIABLES)
    limit_threads(1)  # the variables come too late for the BLAS libraries this process has loaded already


def run_local(units: Iterable[SuiteUnit], jobs: int, done: Done) -> None:
    """Run ``units`` in ``jobs`` processes (in this process when 1); ``done(unit, record)`` as each finishes.

    A worker process that dies (out of memory, a crash in a library) breaks its pool: the runs it took down are
    tried once more in a fresh pool, then reported as failed; the other runs go on.
    """
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    todo = list(units)
    if jobs <= 1 or len(todo) <= 1:
        from kiln.models.gp import limit_threads

        restore = limit_threads(1)
        try:
            for unit in todo:
                done(unit, run_unit(unit))
        finally:
            restore()
        return
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # never fork a process that may hold torch threads
    tries: dict[SuiteUnit, int] = {}
    while todo:
        broken: list[SuiteUnit] = []
        with ProcessPoolExecutor(min(jobs, len(todo)), mp_context=context, initializer=_one_thread) as executor:
            futures = {executor.submit(run_unit, unit): unit for unit in todo}
            pending = set(futures)
            try:
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        unit = futures[future]
                        try:
                            record = future.result()
                        except BrokenProcessPool:
                            tries[unit] = tries.get(unit, 0) + 1
                            if tries[unit] < 2:
                                broken.append(unit)
                                continue
                            record = failure(unit, "its worker process died twice (out of memory?)")
                        done(unit, record)
            finally:
                for future in pending:
                    future.cancel()
        todo = broken


def run_ray(units: Iterable[SuiteUnit], address: str, done: Done) -> None:
    """Run ``units`` as Ray tasks of one CPU each on the cluster at ``address``; ``done`` as each finishes.

    The driver connects with ``ray.init(address=...)``; kiln must be installed on every node (the same version).
    A task that Ray cannot run (a node lost, kiln missing there) is reported as a failed run; the others go on.
    """
    todo = list(units)
    if not todo:
        return
    try:
        import ray
    except ImportError:
        raise ValidationError("--ray", address, "Ray is not installed here", "pip install 'kiln[cluster]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        try:
            ray.init(address=address, log_to_driver=False, runtime_env={"env_vars": dict(_THREAD_VARIABLES)})
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise ValidationError(
                "--ray",
                address,
                f"no Ray cluster answers there ({str(error).splitlines()[0] if str(error) else type(error).__name__})",
                "check the head's host:port, and RAY_AUTH_MODE / RAY_AUTH_TOKEN for a cluster with a token",
            ) from None
    try:
        task = ray.remote(num_cpus=1, max_retries=1)(run_unit)
        refs = {task.remote(unit): unit for unit in todo}
        pending = list(refs)
        while pending:
            finished, pending = ray.wait(pending, num_returns=1)
            for ref in finished:
                try:
                    record = ray.get(ref)
                except ray.exceptions.RayError as error:
                    record = failure(refs[ref], f"Ray could not run it ({type(error).__name__}: {str(error)[:300]})")
                done(refs[ref], record)
    finally:
        if started_here:
            ray.shutdown()
