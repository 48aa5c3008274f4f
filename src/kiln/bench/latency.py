"""Seconds per recommendation of Kiln's default strategy, plain BoTorch and the installed peers, in one run.

Cases: a 6-d continuous space with n observations (n = 20, 100, 500, 2000 by default), candidate pools of
10,000 and 100,000 rows (6 numeric columns) with 500 observations, the 6-d space with 2 and 3 targets at
n = 100, and a reaction pool: the built-in Suzuki dataset (3,696 rows, 5 SMILES columns, each encoded by its
RDKit descriptors: ``encoding: auto``) with 100 observations of its measured yield. Other observations are
uniform random points (or random pool rows) valued by the Hartmann-6 function (target i > 0 of a multi-target
case: Hartmann-6 of the point reflected and rotated, so the targets conflict). Each case
times ``propose(n=1)`` with the full history, ``repeats`` times with seeds 0, 1, ...; the median is reported.
Before its first case each strategy makes one untimed recommendation on a small problem of each kind (imports,
first compilation).

Time limit: before a case, its seconds per recommendation are estimated from the strategy's previous cases
(``estimate``: a power of n fitted to the last two, linear in the pool's rows); a case whose estimate exceeds
``max_seconds`` is skipped, and so is every larger case of that kind. Repeats stop early once the time spent on a
case would pass ``max_seconds``.
"""

from __future__ import annotations

import contextlib
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from kiln.core.errors import ValidationError
from kiln.core.records import Experiment, ExperimentStatus
from kiln.objective import Objective, Target
from kiln.space.config import Domain
from kiln.space.parameters import Continuous
from kiln.space.pool import CandidatePool
from kiln.space.search_space import SearchSpace
from kiln.strategies.base import History, Strategy

DIM = 6
SPACE_SIZES = (20, 100, 500, 2000)
POOL_SIZES = (10_000, 100_000)
POOL_OBSERVATIONS = 500
TARGET_COUNTS = (2, 3)
"""Targets of the multi-target cases (6-d space, all maximised)."""
TARGETS_OBSERVATIONS = 100
REACTION_DATASET = "suzuki"
REACTION_OBSERVATIONS = 100
"""The reaction case: a built-in pool of molecules (descriptors) and its observations."""
KILN = "kiln"
"""Kiln's default strategy (``kiln.strategies.default.DefaultStrategy``)."""
OBJECTIVE = Objective.maximize("y")

_A = np.array(
    [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
)
_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(X: np.ndarray) -> np.ndarray:
    """The Hartmann-6 test function on [0, 1]^6 (n x 6 -> n), maximum about 3.32."""
    inner = ((X[:, None, :] - _P[None]) ** 2 * _A[None]).sum(-1)
    return np.asarray((_ALPHA * np.exp(-inner)).sum(-1))


@dataclass(frozen=True)
class Case:
    """One timing case: ``n`` observations in the 6-d space (rows == 0) or in a pool of ``rows`` candidates, with
    ``targets`` targets (several only in the space)."""

    n: int
    rows: int = 0
    targets: int = 1
    dataset: str = ""

    @property
    def is_pool(self) -> bool:
        return self.rows > 0 or bool(self.dataset)

    @property
    def label(self) -> str:
        if self.dataset:
            return f"{self.dataset} pool, descriptors"
        where = f"{self.rows:,}-row pool" if self.is_pool else f"{DIM}-d continuous"
        return where if self.targets == 1 else f"{where}, {self.targets} targets"

    @property
    def kind(self) -> tuple[bool, int, str]:
        """Cases of one kind grow into each other (estimates, skips): pool or space, the number of targets, and
        the dataset of a reaction case."""
        return self.is_pool, self.targets, self.dataset

    @property
    def objective(self) -> Objective:
        """``y`` maximised, or targets ``y0``, ``y1``, ... maximised."""
        if self.targets == 1:
            return OBJECTIVE
        return Objective(tuple(Target(f"y{i}") for i in range(self.targets)))


@dataclass(frozen=True)
class LatencyResult:
    """One strategy on one case: median seconds per recommendation, or why there is none."""

    strategy: str
    case: Case
    status: str  # "ok", "skipped" or "error"
    seconds: float | None = None
    repeats: int = 0
    estimate: float | None = None
    message: str = ""

    @property
    def cell(self) -> str:
        """The table cell: seconds, "skipped (> limit)" or "error"."""
        if self.status == "ok" and self.seconds is not None:
            return f"{self.seconds:.3f}"
        return "skipped (> limit)" if self.status == "skipped" else "error"

    def to_json(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "case": self.case.label,
            "observations": self.case.n,
            "pool_rows": self.case.rows or None,
            "targets": self.case.targets,
            "status": self.status,
            "seconds": self.seconds,
            "repeats": self.repeats,
            "estimate": self.estimate,
            "message": self.message,
        }


def default_cases(
    sizes: Sequence[int] | None = None,
    pools: Sequence[int] | None = None,
    pool_n: int = POOL_OBSERVATIONS,
    targets: Sequence[int] | None = None,
    targets_n: int = TARGETS_OBSERVATIONS,
    reaction_n: int = REACTION_OBSERVATIONS,
) -> list[Case]:
    """Space cases for ``sizes``, pool cases of ``pools`` rows at ``pool_n`` observations (0 rows: none), space
    cases with each number of ``targets`` (>= 2; 0: none) at ``targets_n`` observations, then the reaction case
    at ``reaction_n`` observations (0: none)."""
    space = sorted(set(SPACE_SIZES if sizes is None else sizes))
    rows = sorted({r for r in (POOL_SIZES if pools is None else pools) if r > 0})
    counts = sorted({t for t in (TARGET_COUNTS if targets is None else targets) if t != 0})
    for value, what in [(v, "--n") for v in space] + [(pool_n, "--pool-n"), (targets_n, "--targets-n")]:
        if value < 2:
            raise ValidationError(what, value, "at least 2 observations are required", "e.g. --n 20")
    small = [r for r in rows if r <= pool_n]
    if small:
        raise ValidationError("--pool", small, f"a pool needs more rows than the {pool_n} observations", "")
    single = [t for t in counts if t < 2]
    if single:
        raise ValidationError("--targets", single, "a multi-target case has 2 or more targets (0: none)", "--targets 2")
    if reaction_n == 1 or reaction_n < 0:
        raise ValidationError("--reaction-n", reaction_n, "0 (no reaction case) or at least 2", "e.g. 100")
    reaction = [Case(reaction_n, dataset=REACTION_DATASET)] if reaction_n else []
    return (
        [Case(n) for n in space] + [Case(pool_n, r) for r in rows] + [Case(targets_n, 0, t) for t in counts] + reaction
    )


def make_strategy(name: str) -> Strategy:
    """``kiln`` (Kiln's default strategy) or a peer by name; ValidationError for an unknown or missing one."""
    from kiln.bench.peers import PEERS

    check_strategy(name)
    if name == KILN:
        from kiln.strategies.default import DefaultStrategy

        return DefaultStrategy()
    return PEERS[name]()


def build_case(case: Case, seed: int = 0) -> tuple[Domain, History]:
    """The domain and a history of ``case.n`` completed observations (reproducible for ``seed``)."""
    rng = np.random.default_rng([seed, case.n, case.rows])
    names = [f"x{i}" for i in range(DIM)]
    domain: Domain
    if case.dataset:
        return _reaction_case(case, rng)
    if case.is_pool:
        values = np.random.default_rng([seed, case.rows]).random((case.rows, DIM))
        domain = CandidatePool(names, values.tolist())
        keys = rng.choice(len(domain), size=case.n, replace=False)
        X = np.array([domain.rows[k] for k in keys], dtype=float)
    else:
        domain = SearchSpace([Continuous(name, 0.0, 1.0) for name in names])
        keys = np.full(case.n, -1)
        X = rng.random((case.n, DIM))
    experiments = [
        Experiment(
            id=f"exp-{i}",
            seq=i + 1,
            params=dict(zip(names, map(float, x), strict=True)),
            status=ExperimentStatus.COMPLETED,
            results=v,
            candidate=int(k) if k >= 0 else None,
        )
        for i, (x, v, k) in enumerate(zip(X, target_values(X, case.targets), keys, strict=True))
    ]
    return domain, History(completed=tuple(experiments))


def _reaction_case(case: Case, rng: np.random.Generator) -> tuple[Domain, History]:
    """The built-in reaction pool (``encoding: auto``) and ``case.n`` of its rows measured: {"y": the target}."""
    from kiln.lab.datasets import dataset_info, grouped, load_dataset

    info = dataset_info(case.dataset)
    table = grouped(load_dataset(info.name), list(info.inputs), info.target)
    domain = CandidatePool.from_dataframe(table, list(info.inputs), encoding="auto")
    keys = rng.choice(len(domain), size=case.n, replace=False)
    values = np.asarray(table[info.target], dtype=float)
    experiments = [
        Experiment(
            id=f"exp-{i}",
            seq=i + 1,
            params=domain.row(int(k)),
            status=ExperimentStatus.COMPLETED,
            results={"y": float(values[k])},
            candidate=int(k),
        )
        for i, k in enumerate(keys)
    ]
    return domain, History(completed=tuple(experiments))


def target_values(X: np.ndarray, targets: int) -> list[dict[str, float]]:
    """The results of points X (n x 6): {"y": Hartmann-6} for one target; for several, y0 = Hartmann-6 and
    y_i = Hartmann-6 of the point reflected (1 - x) and its coordinates rotated by i."""
    if targets == 1:
        return [{"y": float(v)} for v in hartmann6(X)]
    columns = [hartmann6(X)] + [hartmann6(np.roll(1.0 - X, i, axis=1)) for i in range(1, targets)]
    return [{f"y{i}": float(c[j]) for i, c in enumerate(columns)} for j in range(len(X))]


def estimate(case: Case, measured: Sequence[tuple[Case, float]]) -> float | None:
    """Seconds per recommendation expected for ``case`` from the strategy's measured cases (None: no basis).

    Space cases grow as n**k, k the log-log slope of the two largest measured space cases, clamped to [1, 3] (2
    when only one is measured). A pool case scales the largest measured pool case linearly in rows (and n**k);
    the first pool case starts from the space case with the most observations up to its n. Only cases with as
    many targets count.
    """
    measured = [(c, s) for c, s in measured if c.targets == case.targets]
    space = sorted((c.n, s) for c, s in measured if not c.is_pool and c.n <= case.n)
    slope = 2.0
    if len(space) >= 2 and space[-1][0] > space[-2][0] and space[-2][1] > 0:
        (n1, s1), (n2, s2) = space[-2:]
        slope = min(max(math.log(s2 / s1) / math.log(n2 / n1), 1.0), 3.0)
    if case.is_pool and not case.dataset:  # a reaction case is estimated from the space cases
        pools = [(c, s) for c, s in measured if c.rows and c.rows <= case.rows and c.n <= case.n]
        if pools:
            base, seconds = max(pools, key=lambda item: (item[0].rows, item[0].n))
            return seconds * (case.rows / base.rows) * (case.n / base.n) ** slope
    if not space:
        return None
    n, seconds = space[-1]
    return seconds * (case.n / n) ** slope


ProgressCallback = Callable[[str, bool], None]
"""Called with a description of what runs now, and True when a (strategy, case) pair is finished."""


def run_latency(
    strategies: Sequence[str],
    cases: Sequence[Case],
    *,
    repeats: int = 3,
    max_seconds: float = 300.0,
    threads: int | None = 1,
    isolate: bool = True,
    progress: ProgressCallback | None = None,
) -> list[LatencyResult]:
    """Time every strategy on every case; one result per (strategy, case), strategies in the order given.

    ``threads``: torch and BLAS threads, the same for every strategy; 1 by default, the setting Kiln's GP code
    uses itself; None leaves the libraries' settings alone. ``isolate``: run each strategy in a child process,
    stopped when a case passes ``max_seconds`` (the case then counts as skipped); without it, a case runs to its
    end in this process.
    """
    if repeats < 1:
        raise ValidationError("--repeats", repeats, "at least 1 repeat is required", "e.g. --repeats 3")
    if max_seconds <= 0:
        raise ValidationError("--max-seconds", max_seconds, "a positive time limit is required", "e.g. 300")
    if threads is not None and threads < 1:
        raise ValidationError("--threads", threads, "at least 1 thread is required", "e.g. --threads 1")
    for name in strategies:  # unknown names fail before any timing
        check_strategy(name)
    report = progress or (lambda message, done: None)
    warm = warm_cases(cases)
    results: list[LatencyResult] = []
    for name in strategies:
        runner: _Local | _Child = _Child(name, threads, warm) if isolate else _Local(name, threads, warm)
        measured: list[tuple[Case, float]] = []
        given_up: set[tuple[bool, int, str]] = set()  # kinds where a smaller case was skipped
        try:
            for case in cases:
                guess = estimate(case, measured)
                if case.kind in given_up:
                    result = LatencyResult(name, case, "skipped", message="a smaller case was over the limit")
                elif guess is not None and guess > max_seconds:
                    result = LatencyResult(name, case, "skipped", message="estimate over the limit")
                else:
                    result = runner.run(case, repeats, max_seconds, report)
                results.append(replace(result, estimate=guess))
                if result.status == "skipped":
                    given_up.add(case.kind)
                elif result.seconds is not None:
                    measured.append((case, result.seconds))
                report(f"{name}: {case.label}, n={case.n}: {results[-1].cell}", True)
        finally:
            runner.close()
    return results


def check_strategy(name: str) -> None:
    """ValidationError unless ``name`` is ``kiln`` or an installed peer (nothing is imported)."""
    from kiln.bench.peers import PEERS, available_peers

    if name != KILN and name not in PEERS:
        raise ValidationError("--strategy", name, f"known strategies are {[KILN, *PEERS]}", "use one of them")
    if name != KILN and name not in available_peers():
        raise ValidationError("--strategy", name, "its library is not installed", "pip install .[peers]")


def warm_cases(cases: Sequence[Case]) -> tuple[Case, ...]:
    """Small cases of every kind in ``cases`` (a space, a pool, each number of targets), for the warm-up."""
    warm = [Case(10)] + ([Case(10, 50)] if any(c.is_pool for c in cases) else [])
    return tuple(warm + [Case(10, 0, t) for t in sorted({c.targets for c in cases if c.targets > 1})])


def _prepare(name: str, warm: Sequence[Case]) -> Strategy:
    """The strategy, after one untimed recommendation on each ``warm`` case: imports, first compilation."""
    strategy = make_strategy(name)
    for case in warm:
        domain, history = build_case(case, seed=1)
        with contextlib.suppress(Exception):  # an error that matters shows again in the timed cases
            strategy.propose(domain, case.objective, history, 1, seed=0)
    return strategy


class _Local:
    """Times a strategy in this process (torch's and BLAS's thread settings are restored by ``close``)."""

    def __init__(self, name: str, threads: int | None, warm: Sequence[Case]) -> None:
        from kiln.models.gp import limit_threads

        self.name, self.warm = name, warm
        self.restore = limit_threads(threads)
        self.strategy: Strategy | None = None

    def run(self, case: Case, repeats: int, max_seconds: float, report: ProgressCallback) -> LatencyResult:
        if self.strategy is None:
            report(f"{self.name}: warm-up", False)
            self.strategy = _prepare(self.name, self.warm)
        report(f"building {case.label}, n={case.n}", False)
        domain, history = build_case(case)
        return _time_case(self.name, self.strategy, case, domain, history, repeats, max_seconds, report)

    def close(self) -> None:
        self.restore()


class _Child:
    """Times a strategy in a child process (spawned when first needed), killed when a case passes its limit."""

    def __init__(self, name: str, threads: int | None, warm: Sequence[Case]) -> None:
        self.name, self.threads, self.warm = name, threads, warm
        self.process: Any = None
        self.conn: Any = None

    def run(self, case: Case, repeats: int, max_seconds: float, report: ProgressCallback) -> LatencyResult:
        if self.process is None:
            import multiprocessing

            report(f"{self.name}: starting and warm-up", False)
            self.conn, child_end = multiprocessing.Pipe()
            context = multiprocessing.get_context("spawn")  # a fresh interpreter: no state shared with this one
            process = context.Process(target=_serve, args=(child_end, self.name, self.threads, self.warm))
            try:
                process.start()
            except Exception as error:  # e.g. a script without the `if __name__ == "__main__":` guard
                self.conn.close()
                self.conn = None
                return LatencyResult(self.name, case, "error", message=f"cannot start a worker process ({error!r})")
            finally:
                child_end.close()
            self.process = process
        self.conn.send((case, repeats, max_seconds))
        seconds: list[float] = []
        deadline: float | None = None
        try:
            while True:
                wait = None if deadline is None else max(deadline - time.monotonic(), 0.0)
                if not self.conn.poll(wait):
                    self.close(kill=True)
                    if seconds:
                        return LatencyResult(self.name, case, "ok", statistics.median(seconds), len(seconds))
                    return LatencyResult(self.name, case, "skipped", message=f"stopped at the {max_seconds:g} s limit")
                kind, payload = self.conn.recv()
                if kind == "built":
                    deadline = time.monotonic() + max_seconds
                elif kind == "timed":
                    seconds.append(payload)
                elif kind == "progress":
                    report(payload, False)
                else:
                    return payload  # type: ignore[no-any-return]
        except (EOFError, OSError) as error:  # the child died
            self.close(kill=True)
            return LatencyResult(self.name, case, "error", message=f"the worker process ended ({error!r})")

    def close(self, kill: bool = False) -> None:
        """Stop the child: ask it to finish (or kill it at once), and wait for it."""
        if self.process is not None:
            if not kill:
                with contextlib.suppress(OSError):
                    self.conn.send(None)
                self.process.join(timeout=5)
            if self.process.is_alive():
                self.process.kill()
            self.process.join()
            self.conn.close()
        self.process = self.conn = None


def _serve(conn: Any, name: str, threads: int | None, warm: Sequence[Case]) -> None:
    """The child process: prepare the strategy, then time each case it is sent until it is sent None."""
    from kiln.models.gp import limit_threads

    limit_threads(threads)
    strategy = _prepare(name, warm)
    while (message := conn.recv()) is not None:
        case, repeats, max_seconds = message
        conn.send(("progress", f"building {case.label}, n={case.n}"))
        domain, history = build_case(case)
        conn.send(("built", None))

        def report(text: str, done: bool) -> None:
            conn.send(("progress", text))

        result = _time_case(name, strategy, case, domain, history, repeats, max_seconds, report, conn)
        conn.send(("result", result))


def _time_case(
    name: str,
    strategy: Strategy,
    case: Case,
    domain: Domain,
    history: History,
    repeats: int,
    max_seconds: float,
    report: ProgressCallback,
    conn: Any = None,
) -> LatencyResult:
    seconds: list[float] = []
    for repeat in range(repeats):
        report(f"{name}: {case.label}, n={case.n}, repeat {repeat + 1}/{repeats}", False)
        start = time.perf_counter()
        try:
            proposals = strategy.propose(domain, case.objective, history, 1, seed=repeat)
        except Exception as error:
            return LatencyResult(name, case, "error", repeats=len(seconds), message=f"{type(error).__name__}: {error}")
        seconds.append(time.perf_counter() - start)
        if conn is not None:
            conn.send(("timed", seconds[-1]))
        if len(proposals) != 1:
            return LatencyResult(name, case, "error", repeats=len(seconds), message=f"{len(proposals)} proposals")
        if sum(seconds) + seconds[-1] > max_seconds:
            break
    return LatencyResult(name, case, "ok", statistics.median(seconds), len(seconds))
