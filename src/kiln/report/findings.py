"""The facts a campaign report states, computed from a Campaign: numbers with their uncertainty or their count.

``campaign_findings(campaign)`` fits one GP per target (``kiln.report.surrogate``) and gathers:

* the question (``kiln.report.question``);
* the best found experiment (one target or a scalarisation) or the Pareto front (several targets): measured
  values, replicate spread where the same parameters were measured more than once, the model's mean and std there;
* the comparison with random sampling for one target (``kiln.report.baseline``: exact for a pool, simulated for
  a space); with several targets, the hypervolume after each experiment and random sampling's, simulated
  (``kiln.report.random_front``; none with outcome constraints);
* whether the best is still rising: an improvement within the last ``window(n)`` = max(3, ceil(n / 4)) counted
  experiments; ``window(n)`` more would show whether it levels off; and whether the best is among the initial
  points (``initial_count``);
* leave-one-out predictions against measurements per target: R^2, RMSE and the share inside the +-1 and +-2 std
  bands (about 68 % and 95 % for a calibrated model); a model with R^2 below ``POOR_R2`` predicts poorly, and
  twice the experiments (the usual step of a learning curve) is the count said to help;
* each parameter's partial dependence and the parameters whose effect cannot be told yet, never-sampled regions
  (``kiln.report.effects``);
* failures: count, reasons, where.

Everything not established becomes a ``Gap`` with the experiment count that would help and the rule behind it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kiln.core.records import Experiment, ExperimentStatus
from kiln.objective.targets import Direction, Target
from kiln.report.baseline import chance_as_good, expected_best_of_draws, share_above, simulated_best_of_draws
from kiln.report.effects import Effect, Unsampled, partial_dependence, unsampled_regions
from kiln.report.map_view import MapView, map_view
from kiln.report.question import Question, question_of, unit_of
from kiln.report.surrogate import TargetModel, fit_target, kernel_of
from kiln.space.pool import CandidatePool

if TYPE_CHECKING:
    from kiln.campaign.campaign import Campaign
    from kiln.campaign.map_error import MapError

POOR_R2 = 0.5
"""Leave-one-out R^2 below which the model is said to predict poorly."""


def window(n: int) -> int:
    """The last experiments looked at for a rising best: max(3, ceil(n / 4))."""
    return max(3, math.ceil(n / 4))


@dataclass(frozen=True)
class Measured:
    """One target at one experiment: ``value`` as recorded; ``replicates``: how many counted experiments had the
    same parameters (1: measured once), their ``mean`` and sample ``spread`` (std; 0 when measured once);
    ``predicted`` / ``predicted_std``: the model's mean and std there (None without a model)."""

    target: str
    unit: str
    value: float
    replicates: int
    mean: float
    spread: float
    predicted: float | None
    predicted_std: float | None


@dataclass(frozen=True)
class Found:
    """An experiment the report names (the best found, or one of the Pareto front) with each target."""

    id: str
    seq: int
    params: dict[str, Any]
    measured: tuple[Measured, ...]


@dataclass(frozen=True)
class RandomComparison:
    """The best found against random sampling with the same number of experiments (one target), or the
    hypervolume dominated (several targets, ``measure`` "hypervolume": every value below in score units).

    Attributes:
        method: "exact" (a pool whose every value is known), "exact-estimate" (a pool: measured values where
            measured, the model's mean elsewhere), "simulated" (a space: ``repeats`` random campaigns scored by
            the model), or "simulated-pool" (several targets on a pool: ``repeats`` random draws of its rows
            scored as for "exact-estimate"; ``kiln.report.random_front``).
        draws: the experiments compared (the counted experiments of the campaign), k.
        expected / expected_std: random's expected best after k and its std, shown units (``shown``).
        curve / curve_std: the same after 1 .. k experiments.
        found: the best found, shown units.
        pool_share_better: for a pool, the share of its candidates whose value (as in ``method``) beats the
            best found (None for a space); ``pool_size``: N.
        repeats: simulated random campaigns (0 for exact).
        chance: the chance that random sampling finds something at least as good as the best found
            (``kiln.report.baseline.chance_as_good``; the share of simulated campaigns for a space).
    """

    method: str
    draws: int
    expected: float
    expected_std: float
    curve: list[float]
    curve_std: list[float]
    found: float
    pool_share_better: float | None
    pool_size: int | None
    repeats: int
    chance: float
    measure: str = "best"

    @property
    def beats_random(self) -> bool:
        """Whether random sampling would do as well with a chance below ``BEATS_RANDOM`` (5 %)."""
        from kiln.report.baseline import BEATS_RANDOM

        return self.chance < BEATS_RANDOM


@dataclass(frozen=True)
class Progress:
    """The best so far, experiment by experiment (one target).

    Attributes:
        seqs / best: each counted experiment's seq and the best found up to it, shown units.
        window: the last experiments looked at (``window(n)``); ``rising``: the best improved within them, by
            ``improvement`` (shown units, >= 0; the amount the best got better).
        initial: how many experiments were initial points; ``best_is_initial``: the best found is one of them;
        ``after_initial``: counted experiments after the initial points (0: nothing could beat them yet).
        ``too_few``: no more counted experiments than ``window``, so whether the best is rising cannot be told.
    """

    seqs: list[int]
    best: list[float]
    window: int
    rising: bool
    improvement: float
    initial: int
    best_is_initial: bool
    after_initial: int
    too_few: bool


@dataclass(frozen=True)
class CrossValidation:
    """Leave-one-out predictions of one target's n measurements (``TargetModel.leave_one_out``): ``r2``,
    ``rmse`` (target units), ``inside1`` / ``inside2``: shares within +-1 / +-2 predictive std; ``predicted``,
    ``std``, ``measured`` (n,) for the plot."""

    target: str
    unit: str
    n: int
    r2: float
    rmse: float
    inside1: float
    inside2: float
    predicted: list[float]
    std: list[float]
    measured: list[float]

    @property
    def poor(self) -> bool:
        return self.r2 < POOR_R2


@dataclass(frozen=True)
class Failures:
    """Failed experiments: ``count``, ``reasons`` (reason -> count, most frequent first), ``where`` ((seq,
    params, reason) of each)."""

    count: int
    reasons: list[tuple[str, int]]
    where: list[tuple[int, dict[str, Any], str]]


@dataclass(frozen=True)
class Gap:
    """Something the campaign did not establish: ``what`` (kind: effect, region, rising, model), ``subject``
    (a parameter or target), ``detail`` in words, ``more_experiments`` that would help (in all for an effect or
    a model, more for a region or a rising best: see ``more_is_total``), ``at_least`` and the ``rule`` used."""

    what: str
    subject: str
    detail: str
    more_experiments: int
    more_is_total: bool
    at_least: bool
    rule: str


@dataclass(frozen=True)
class Settings:
    """How it was run and how to reproduce it."""

    strategy: dict[str, Any]
    seed: int
    kernel: str
    report_seed: int
    version: str
    store: str
    commands: list[str]
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    libraries: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Findings:
    """Everything the report states (module docstring). ``target``: the one target the best-so-far, the random
    comparison and the effects are about (None with several targets and no scalarisation: effects are about the
    first target then, ``effects_target``)."""

    question: Question
    target: Target | None
    best: Found | None
    front: list[Found]
    progress: Progress | None
    random: RandomComparison | None
    cross_validation: list[CrossValidation]
    effects_target: str | None
    effects: list[Effect]
    unsampled: list[Unsampled]
    failures: Failures
    gaps: list[Gap]
    settings: Settings
    counted: int
    goal: str = "optimise"
    hypervolume: tuple[float, ...] = ()
    hypervolume_exact: bool = True
    maps: tuple[MapView, ...] = ()
    map_error: MapError | None = None
    points: tuple[tuple[dict[str, Any], dict[str, float]], ...] = ()
    """Every counted experiment's (parameters, results), in creation order (the figures draw them)."""


LIBRARIES = ("torch", "gpytorch", "botorch", "numpy", "scipy", "scikit-learn")
"""The libraries whose versions decide a report's numbers (the models and the simulations)."""


def library_versions() -> dict[str, str]:
    """Installed version of each of ``LIBRARIES`` (importlib.metadata; "not installed" where missing)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def shown(target: Target, score: float) -> float:
    """A score (larger is better) in the units a report shows: the value for max and min targets, the distance
    from the window (or its middle) for a range target."""
    return float(score) if target.direction is Direction.MAXIMIZE else -float(score)


def shown_label(target: Target) -> str:
    """What ``shown`` values are, in words: "best yield", or "distance of size from its window" for a range
    target (from the window's middle with ``prefer: centre``)."""
    if target.direction is Direction.RANGE:
        where = "the middle of its window" if target.prefer == "centre" else "its window"
        return f"distance of {target.name} from {where}"
    return f"best {target.name}"


def _found(
    experiment: Experiment,
    experiments: Sequence[Experiment],
    models: dict[str, TargetModel],
    targets: Sequence[Target],
    units: dict[str, str],
) -> Found:
    import numpy as np

    same = [e for e in experiments if e.counts_as_result and dict(e.params) == dict(experiment.params)]
    measured = []
    for target in targets:
        if target.name not in experiment.results:
            continue
        values = [float(e.results[target.name]) for e in same if target.name in e.results]
        model = models.get(target.name)
        predicted = std = None
        if model is not None:
            m, s = model.predict([experiment.params])
            predicted, std = float(m[0]), float(s[0])
        measured.append(
            Measured(
                target=target.name,
                unit=units.get(target.name, ""),
                value=float(experiment.results[target.name]),
                replicates=len(values),
                mean=float(np.mean(values)),
                spread=float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
                predicted=predicted,
                predicted_std=std,
            )
        )
    return Found(experiment.id, experiment.seq, dict(experiment.params), tuple(measured))


def initial_count(strategy: Any, experiments: Sequence[Experiment]) -> int:
    """Initial points: the strategy's ``initial`` first experiments in creation order (prior data included, as
    the default strategy counts it), else the experiments of the first batch (batch 0: imported data)."""
    initial = getattr(strategy, "initial", None)
    if isinstance(initial, int) and not isinstance(initial, bool):
        return min(initial, len(experiments))
    first = min((e.batch for e in experiments), default=0)
    return sum(1 for e in experiments if e.batch == first)


def _progress(target: Target, counted: Sequence[Experiment], initial: int, first_seqs: set[int]) -> Progress:
    scores = [float(target.score(float(e.results[target.name]))) for e in counted]
    best = list(_running_max(scores))
    k = window(len(scores))
    before = max(scores[:-k]) if len(scores) > k else None
    rising = before is not None and best[-1] > before
    improvement = abs(best[-1] - before) if before is not None and rising else 0.0
    top = int(max(range(len(scores)), key=lambda i: scores[i]))
    return Progress(
        seqs=[e.seq for e in counted],
        best=[shown(target, s) for s in best],
        window=k,
        rising=bool(rising),
        improvement=float(improvement),
        initial=initial,
        best_is_initial=counted[top].seq in first_seqs,
        after_initial=sum(1 for e in counted if e.seq not in first_seqs),
        too_few=len(scores) <= k,
    )


def _running_max(values: Sequence[float]) -> list[float]:
    out: list[float] = []
    for v in values:
        out.append(v if not out else max(out[-1], v))
    return out


def _random(
    target: Target,
    model: TargetModel,
    campaign: Campaign,
    counted: Sequence[Experiment],
    *,
    seed: int,
    pool_values: Sequence[float] | None,
) -> RandomComparison:
    import numpy as np

    domain = campaign.domain
    k = len(counted)
    found = max(float(target.score(float(e.results[target.name]))) for e in counted)
    share = None
    size = None
    repeats = 0
    if isinstance(domain, CandidatePool):
        size = len(domain)
        if pool_values is not None:
            scores = np.asarray([float(target.score(float(v))) for v in pool_values])
            method = "exact"
        else:
            mean, _ = model.predict_encoded(np.array(domain.encoded))
            scores = np.asarray([float(target.score(float(v))) for v in mean])
            by_row: dict[int, list[float]] = {}
            for e in counted:
                if e.candidate is not None:
                    by_row.setdefault(e.candidate, []).append(float(target.score(float(e.results[target.name]))))
            for row, values in by_row.items():
                scores[row] = float(np.mean(values))
            method = "exact-estimate"
        curve, curve_std = expected_best_of_draws(scores.tolist(), k, repeats=domain.allow_repeats)
        chance = chance_as_good(scores.tolist(), k, found, repeats=domain.allow_repeats)
        share = share_above(scores.tolist(), found)
    else:
        from kiln.space.sampling import sample_points

        noise = model.noise_std

        def draws(m: int, rng: np.random.Generator) -> np.ndarray:
            points = sample_points(domain, m, seed=int(rng.integers(2**31)))
            mean, _ = model.predict(points)
            values = mean + noise * rng.standard_normal(m)
            return np.asarray(target.score(values), dtype=float)

        from kiln.report.baseline import REPEATS

        repeats = REPEATS
        curve, curve_std, chance = simulated_best_of_draws(draws, k, seed=seed, found=found, repeats=repeats)
        method = "simulated"
    expected, expected_std = curve[-1], curve_std[-1]
    return RandomComparison(
        method=method,
        draws=k,
        expected=shown(target, expected),
        expected_std=expected_std,
        curve=[shown(target, c) for c in curve],
        curve_std=curve_std,
        found=shown(target, found),
        pool_share_better=share,
        pool_size=size,
        repeats=repeats,
        chance=chance,
    )


def _hypervolume_against_random(
    campaign: Campaign, models: dict[str, TargetModel], experiments: Sequence[Experiment], *, seed: int
) -> tuple[list[float], bool, RandomComparison | None]:
    """The campaign's hypervolume after each completed experiment (``kiln.report.front``), whether it is exact,
    and random sampling's with as many experiments (``kiln.report.random_front``); no comparison without a model
    of every target, or with outcome constraints (random's feasibility would be unknown)."""
    import numpy as np

    from kiln.report.front import front_report
    from kiln.report.random_front import simulated_hypervolume_of_draws

    objective, domain = campaign.objective, campaign.domain
    report = front_report(objective, experiments)
    curve = [value for _, value in report.hypervolume]
    if not curve or objective.constraints or any(t.name not in models for t in objective.targets):
        return curve, report.exact, None
    reference = np.array([report.reference[t.name] for t in objective.targets])
    k = len(curve)
    targets = objective.targets
    size = None
    if isinstance(domain, CandidatePool):
        size = len(domain)
        columns = []
        for target in targets:
            mean, _ = models[target.name].predict_encoded(np.array(domain.encoded))
            by_row: dict[int, list[float]] = {}
            for e in experiments:
                if e.counts_as_result and e.candidate is not None and target.name in e.results:
                    by_row.setdefault(e.candidate, []).append(float(e.results[target.name]))
            for row, values in by_row.items():
                mean[row] = float(np.mean(values))
            columns.append(np.asarray(target.score(mean), dtype=float))
        table = np.stack(columns, axis=1)
        repeats_allowed = domain.allow_repeats
        draws_k = k if repeats_allowed else min(k, size)

        def draws(rng: np.random.Generator) -> np.ndarray:
            return np.asarray(table[rng.choice(size, draws_k, replace=repeats_allowed)])

        method = "simulated-pool"
    else:
        from kiln.space.sampling import sample_points

        def draws(rng: np.random.Generator) -> np.ndarray:
            points = sample_points(domain, k, seed=int(rng.integers(2**31)))
            out = []
            for target in targets:
                model = models[target.name]
                mean, _ = model.predict(points)
                out.append(np.asarray(target.score(mean + model.noise_std * rng.standard_normal(k)), dtype=float))
            return np.stack(out, axis=1)

        method = "simulated"
    from kiln.report.baseline import REPEATS

    mean_curve, std_curve, chance = simulated_hypervolume_of_draws(draws, reference, seed=seed, found=curve[-1])
    random = RandomComparison(
        method=method,
        draws=len(mean_curve),
        expected=mean_curve[-1],
        expected_std=std_curve[-1],
        curve=mean_curve,
        curve_std=std_curve,
        found=curve[-1],
        pool_share_better=None,
        pool_size=size,
        repeats=REPEATS,
        chance=chance,
        measure="hypervolume",
    )
    return curve, report.exact, random


def _cross_validation(model: TargetModel) -> CrossValidation:
    import numpy as np

    predicted, std = model.leave_one_out()
    measured = np.asarray(model.values)
    residual = measured - predicted
    total = float(((measured - measured.mean()) ** 2).sum())
    r2 = 1.0 - float((residual**2).sum()) / total if total > 0 else 0.0
    z = np.abs(residual) / np.maximum(std, 1e-300)
    return CrossValidation(
        target=model.target.name,
        unit=unit_of(model.target.name, model.target.unit),
        n=len(measured),
        r2=r2,
        rmse=float(np.sqrt((residual**2).mean())),
        inside1=float((z <= 1).mean()),
        inside2=float((z <= 2).mean()),
        predicted=predicted.tolist(),
        std=std.tolist(),
        measured=measured.tolist(),
    )


def _failures(experiments: Sequence[Experiment]) -> Failures:
    failed = [e for e in experiments if not e.retracted and e.status is ExperimentStatus.FAILED]
    reasons: dict[str, int] = {}
    for e in failed:
        reasons[e.reason] = reasons.get(e.reason, 0) + 1
    ordered = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    return Failures(len(failed), ordered, [(e.seq, dict(e.params), e.reason) for e in failed])


def region_text(region: Unsampled) -> str:
    """Where ``region``'s parameter was never tried, in its units: "never sampled from 28 to 42 %" (each bin), or
    "never tried: A, B" (categories)."""
    from kiln.report.question import number

    if region.categories:
        return "never tried: " + ", ".join(region.categories)
    unit = f" {region.unit}" if region.unit else ""
    spans = [
        f"{number(low)}{unit}" if low == high else f"from {number(low)} to {number(high)}{unit}"
        for low, high in region.ranges
    ]
    return "never sampled " + (spans[0] if len(spans) == 1 else ", ".join(spans[:-1]) + " and " + spans[-1])


def _gaps(
    progress: Progress | None,
    cross_validation: Sequence[CrossValidation],
    effects: Sequence[Effect],
    unsampled: Sequence[Unsampled],
    unit: str = "",
) -> list[Gap]:
    """The not-established items (``unit``: of the target the effects are about, with a leading space)."""
    gaps: list[Gap] = []
    if progress is not None and progress.rising:
        gaps.append(
            Gap(
                "rising",
                "best",
                f"the best found improved within the last {progress.window} experiments",
                progress.window,
                False,
                False,
                "as many experiments again as the window looked at, to see whether the best levels off",
            )
        )
    for cv in cross_validation:
        if cv.poor:
            gaps.append(
                Gap(
                    "model",
                    cv.target,
                    f"leave-one-out R^2 is {cv.r2:.2f} over {cv.n} experiments",
                    2 * cv.n,
                    True,
                    True,
                    "twice the experiments, the usual step of a learning curve",
                )
            )
    for effect in effects:
        if not effect.established and effect.more_experiments is not None:
            gaps.append(
                Gap(
                    "effect",
                    effect.parameter,
                    f"its effect ({effect.size:.3g}{unit}) is smaller than twice its band "
                    f"({2 * effect.average_band:.3g}{unit})",
                    effect.more_experiments,
                    True,
                    effect.at_least,
                    "the band shrinks like 1 / sqrt(n)",
                )
            )
    for region in unsampled:
        gaps.append(
            Gap(
                "region",
                region.parameter,
                region_text(region),
                region.more_experiments,
                False,
                False,
                "one experiment in each never-sampled region",
            )
        )
    return gaps


def campaign_findings(
    campaign: Campaign,
    *,
    seed: int = 0,
    pool_values: Sequence[float] | None = None,
    store_url: str | None = None,
    truth: str | None = None,
) -> Findings:
    """The facts of ``campaign``'s report (module docstring). ``seed`` fixes the model fits and the simulated
    random campaigns; ``pool_values``: every pool row's true value of the single target, in row-key order, when
    it is known (an emulator on a dataset): the random comparison is exact then; ``truth``: the built-in dataset
    they came from, named in the command that rewrites the report. ``store_url``: as shown (the password hidden),
    default the campaign store's. The commands rewrite this report and show the campaign's data; they do not rerun
    the campaign (its spec does: ``kiln run``)."""
    from shlex import quote

    from kiln.core.errors import ValidationError
    from kiln.core.version import VERSION
    from kiln.store import display_url

    experiments = campaign.experiments()
    objective, domain = campaign.objective, campaign.domain
    units = {name: unit_of(name, unit) for name, unit in {**domain.units, **objective.units}.items()}
    units.update({t.name: unit_of(t.name, t.unit) for t in objective.targets})
    kernel = kernel_of(campaign.strategy)
    extra = dict(campaign.config.extra or {})
    question = question_of(campaign.name, domain, objective, experiments, extra)
    models: dict[str, TargetModel] = {}
    for target in objective.targets:
        model = fit_target(domain, target, experiments, kernel=kernel, seed=seed)
        if model is not None:
            models[target.name] = model
    counted = [
        e
        for e in experiments
        if e.counts_as_result and objective.is_complete(e.results) and objective.feasible(e.results)
    ]
    single = objective.targets[0] if len(objective.targets) == 1 else None
    best_experiment = campaign.best(experiments)
    best = _found(best_experiment, experiments, models, objective.targets, units) if best_experiment else None
    front = (
        []
        if not objective.is_multi
        else [_found(e, experiments, models, objective.targets, units) for e in campaign.pareto(experiments)]
    )
    progress: Progress | None = None
    random: RandomComparison | None = None
    suggested_first = initial_count(campaign.strategy, experiments)
    first_seqs = {e.seq for e in experiments[:suggested_first]}
    if single is not None and counted and not objective.is_map:
        progress = _progress(single, counted, suggested_first, first_seqs)
        if single.name in models:
            if pool_values is not None and (not isinstance(domain, CandidatePool) or len(pool_values) != len(domain)):
                raise ValidationError(
                    "pool_values",
                    f"{len(pool_values)} values",
                    "one value per pool row, for a pool campaign",
                    "give every row's value in row-key order, or none",
                )
            random = _random(single, models[single.name], campaign, counted, seed=seed, pool_values=pool_values)
    cross_validation = [_cross_validation(m) for m in models.values()]
    effects_target = single.name if single is not None else (objective.targets[0].name if objective.targets else None)
    effects: list[Effect] = []
    if effects_target in models:
        effects = [partial_dependence(models[effects_target], p, seed=seed) for p in domain.names]
    unsampled = unsampled_regions(domain, experiments)
    url = display_url(store_url if store_url is not None else campaign.store.url)
    settings = Settings(
        strategy=campaign.strategy.to_config(),
        seed=campaign.config.seed,
        kernel=kernel,
        report_seed=seed,
        version=VERSION,
        libraries=library_versions(),
        store=url,
        commands=[
            f"kiln show {quote(campaign.name)} --store {quote(url)}",
            f"kiln export {quote(campaign.name)} --store {quote(url)}",
            f"kiln report {quote(campaign.name)} --store {quote(url)} --seed {seed}"
            + (f" --truth {quote(truth)}" if truth is not None and pool_values is not None else ""),
        ],
        models={
            name: {
                "kernel": m.kernel,
                "converged": m.converged,
                "experiments": len(m.experiments),
                "noise_std": m.noise_std,
                "lengthscales": m.lengthscales(),
            }
            for name, m in models.items()
        },
    )
    hypervolume: list[float] = []
    exact = True
    if objective.is_multi and not objective.is_map and counted:
        hypervolume, exact, random = _hypervolume_against_random(campaign, models, experiments, seed=seed)
    maps: list[MapView] = []
    error = None
    if objective.is_map:
        from kiln.campaign.map_error import map_error

        error = map_error(domain, objective, experiments, seed=seed)
        for model in models.values():
            view = map_view(model, domain, model.experiments, seed=seed)
            if view is not None:
                maps.append(view)
    return Findings(
        question=question,
        target=single,
        best=best,
        front=front,
        progress=progress,
        random=random,
        cross_validation=cross_validation,
        effects_target=effects_target if effects else None,
        effects=effects,
        unsampled=unsampled,
        failures=_failures(experiments),
        gaps=_gaps(
            progress,
            cross_validation,
            effects,
            unsampled,
            f" {units[effects_target]}" if effects_target and units.get(effects_target) else "",
        ),
        settings=settings,
        counted=len(counted),
        goal=objective.goal,
        hypervolume=tuple(hypervolume),
        hypervolume_exact=exact,
        maps=tuple(maps),
        map_error=error,
        points=tuple((dict(e.params), {k: float(v) for k, v in e.results.items()}) for e in counted),
    )
