"""The Pareto front of a campaign and the hypervolume it dominates, experiment by experiment.

The front is the completed (not retracted) experiments with every quantity measured and every outcome constraint
satisfied that no other such experiment beats in every target (``Objective.pareto_indices``). The hypervolume is
measured in score units (larger is better in each target: the value for ``max``, minus the value for ``min``,
minus the distance to the window for ``range``; see ``Target.score``) above a reference point: the objective's
``reference`` where it gives one, else, per target, the worst score among those experiments less a tenth of the
scores' spread (so that the extreme points of the front count too). One reference serves the whole curve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiln.core.records import Experiment
from kiln.objective import Objective


@dataclass(frozen=True)
class FrontReport:
    """A campaign's front and its hypervolume curve.

    Attributes:
        front: the experiments on the Pareto front, in creation order.
        reference: target name -> the reference point's score (see the module docstring); empty when no
            experiment counts yet.
        hypervolume: (seq, hypervolume) after each completed experiment, in creation order: the volume the front
            of the counted experiments up to it dominates; empty with one target (``kiln.report.hypervolume``).
        exact: whether the hypervolume is exact (two targets) or estimated (three or more).
    """

    front: list[Experiment]
    reference: dict[str, float]
    hypervolume: list[tuple[int, float]]
    exact: bool = True


def pareto_front(objective: Objective, experiments: Sequence[Experiment]) -> list[Experiment]:
    """The experiments on the front (see the module docstring), in the order given."""
    done = [e for e in experiments if e.counts_as_result]
    return [done[i] for i in objective.pareto_indices([e.results for e in done])]


def counted(objective: Objective, experiments: Sequence[Experiment]) -> list[Experiment]:
    """The experiments the front is drawn from: completed, not retracted, complete and feasible."""
    return [
        e
        for e in experiments
        if e.counts_as_result and objective.is_complete(e.results) and objective.feasible(e.results)
    ]


def reference_scores(objective: Objective, results: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """The reference point's score per target (module docstring); empty without results or a given reference."""
    given = objective.reference or {}
    reference: dict[str, float] = {}
    for k, target in enumerate(objective.targets):
        if target.name in given:
            reference[target.name] = float(target.score(float(given[target.name])))
            continue
        scores = [objective.scores(r)[k] for r in results]
        if not scores:
            continue
        spread = max(scores) - min(scores)
        reference[target.name] = min(scores) - (0.1 * spread if spread > 0 else 1.0)
    return reference


def front_report(objective: Objective, experiments: Sequence[Experiment]) -> FrontReport:
    """The front of ``experiments`` (a campaign's, in creation order) and its hypervolume curve."""
    import numpy as np

    from kiln.report.hypervolume import hypervolume_curve

    front = pareto_front(objective, experiments)
    usable = counted(objective, experiments)
    ids = {e.id for e in usable}
    reference = reference_scores(objective, [e.results for e in usable])
    targets = len(objective.targets)
    if targets < 2 or len(reference) < targets:
        return FrontReport(front, reference, [], exact=True)
    results = [e for e in experiments if e.counts_as_result]
    nan = [float("nan")] * targets
    points = np.array([objective.scores(e.results) if e.id in ids else nan for e in results], dtype=float)
    point = np.array([reference[t.name] for t in objective.targets])
    curve, exact = hypervolume_curve(points.reshape(len(results), targets), point)
    return FrontReport(front, reference, [(e.seq, v) for e, v in zip(results, curve, strict=True)], exact=exact)


def front_json(objective: Objective, experiments: Sequence[Experiment]) -> dict[str, Any]:
    """``front_report`` as JSON: ``front`` (ids), ``reference`` (target -> score), ``hypervolume``
    ([{seq, value}]), ``hypervolume_exact`` (false: estimated, with three or more targets), ``targets`` and
    ``constraints`` (their spec forms, for drawing the limits)."""
    report = front_report(objective, experiments)
    return {
        "front": [e.id for e in report.front],
        "reference": report.reference,
        "hypervolume": [{"seq": seq, "value": value} for seq, value in report.hypervolume],
        "hypervolume_exact": report.exact,
        "targets": [t.to_config() for t in objective.targets],
        "constraints": [c.to_config() for c in objective.constraints],
    }
