"""The objective of a campaign: its targets, outcome constraints, optional scalarisation and reference point.

An experiment reports its results as a map quantity name -> raw value; the quantities are the targets and the
constrained quantities (``Objective.quantities``). Results may arrive partly: ``is_complete`` says whether every
quantity has a value, ``feasible`` whether every constraint holds.

``utility`` is the scalar that single-objective strategies maximise:

- one target: its score (the value, negated when minimised; see ``Target.score``);
- ``scalarisation: desirability`` or ``priority``: the scalarised scores (``kiln.objective.scalarise``), which
  depend on the observed set (each target's score range over it), passed as ``observed``;
- several targets without a scalarisation: not defined (raises); "best" is then the Pareto front
  (``pareto_indices``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kiln.core.errors import SpecError, ValidationError
from kiln.objective.scalarise import desirability, dominates, non_dominated, priority_value, score_bounds
from kiln.objective.targets import (
    Direction,
    OutcomeConstraint,
    Target,
    constraint_from_config,
    target_from_config,
)
from kiln.space.parameters import check_finite

__all__ = ["SCALARISATIONS", "Direction", "Objective", "OutcomeConstraint", "Target", "objective_from_config"]

SCALARISATIONS = ("desirability", "priority")

GOALS = ("optimise", "map")
"""What a campaign is for: the best point(s) ("optimise", the default) or a good model everywhere ("map": active
learning; the default strategy then measures where the model would learn most, see ``kiln.strategies.active``)."""


@dataclass(frozen=True)
class Objective:
    """The goal of a campaign.

    Attributes:
        targets: one or more Targets (distinct names).
        constraints: OutcomeConstraints on quantities that are not targets.
        scalarisation: None, ``"desirability"`` or ``"priority"`` (needs two or more targets).
        reference: optional target name -> raw value, the reference point of the hypervolume (a value worse than
            any acceptable one; for a min target a high value).
        goal: "optimise" (default) or "map" (a good model of every target everywhere; see ``GOALS``).
    """

    targets: tuple[Target, ...]
    constraints: tuple[OutcomeConstraint, ...] = ()
    scalarisation: str | None = None
    reference: Mapping[str, float] | None = field(default=None)
    goal: str = "optimise"

    def __post_init__(self) -> None:
        if not isinstance(self.goal, str) or self.goal not in GOALS:
            raise ValidationError(
                "objective: goal",
                self.goal,
                f"allowed are {list(GOALS)}",
                "use map for a good model everywhere, or leave goal out to optimise",
            )
        targets, constraints = tuple(self.targets), tuple(self.constraints)
        object.__setattr__(self, "targets", targets)
        object.__setattr__(self, "constraints", constraints)
        if not targets:
            raise ValidationError("objective: targets", [], "at least one target is required", "add a target")
        names = [t.name for t in targets]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValidationError("objective: targets", names, f"target names must differ; {twice} repeat", "rename")
        shared = sorted({c.name for c in constraints} & set(names))
        if shared:
            raise ValidationError(
                "objective: constraints",
                shared,
                "a constraint is on a measured quantity that is not a target",
                "remove the constraint, or bound the target by a range target: [low, high]",
            )
        self._check_scalarisation(targets)
        object.__setattr__(self, "reference", self._checked_reference(names))

    def _check_scalarisation(self, targets: tuple[Target, ...]) -> None:
        mode = self.scalarisation
        if mode is not None and mode not in SCALARISATIONS:
            raise ValidationError(
                "objective: scalarisation", mode, f"allowed are {list(SCALARISATIONS)} or none", "use one or remove it"
            )
        if mode is not None and len(targets) < 2:
            raise ValidationError(
                "objective: scalarisation", mode, "a scalarisation combines two or more targets", "remove it"
            )
        for t in targets:
            if t.weight != 1.0 and mode != "desirability":
                raise ValidationError(
                    f"target '{t.name}': weight", t.weight, "weights apply with scalarisation: desirability", "add it"
                )
            for what, value in (("priority", t.priority), ("tolerance", t.tolerance)):
                if value is not None and mode != "priority":
                    raise ValidationError(
                        f"target '{t.name}': {what}", value, f"a {what} applies with scalarisation: priority", "add it"
                    )
        ranks = [t.priority for t in targets if t.priority is not None]
        if ranks and (len(ranks) != len(targets) or len(set(ranks)) != len(ranks)):
            raise ValidationError(
                "objective: priority",
                {t.name: t.priority for t in targets},
                "either every target has a different priority or none has one (then the list order is the priority)",
                "number the targets 1, 2, ...",
            )

    def _checked_reference(self, names: list[str]) -> dict[str, float] | None:
        if self.reference is None:
            return None
        if not isinstance(self.reference, Mapping):
            raise ValidationError(
                "objective: reference", self.reference, "a map target -> value", "e.g. reference: {yield: 0}"
            )
        unknown = sorted(str(k) for k in self.reference if k not in names)
        if unknown:
            raise ValidationError(
                "objective: reference", unknown, f"the reference point names targets, one of {names}", "remove them"
            )
        return {k: check_finite(f"objective: reference '{k}'", v) for k, v in self.reference.items()}

    def __hash__(self) -> int:
        reference = tuple(sorted(self.reference.items())) if self.reference else None
        return hash((self.targets, self.constraints, self.scalarisation, reference, self.goal))

    # ------------------------------------------------------------------------------------------ constructors
    @classmethod
    def maximize(cls, name: str) -> Objective:
        return cls((Target(name, Direction.MAXIMIZE),))

    @classmethod
    def minimize(cls, name: str) -> Objective:
        return cls((Target(name, Direction.MINIMIZE),))

    # -------------------------------------------------------------------------------------------- structure
    @property
    def target(self) -> Target:
        """The single target; an objective with several has none."""
        if len(self.targets) != 1:
            raise ValidationError(
                "objective: target",
                self.names,
                "this objective has several targets, so no single one",
                "use objective.targets (and pareto_indices or a scalarisation for 'best')",
            )
        return self.targets[0]

    @property
    def is_map(self) -> bool:
        """The goal is a map (active learning), not the best point."""
        return self.goal == "map"

    @property
    def names(self) -> list[str]:
        """The targets' names, in order."""
        return [t.name for t in self.targets]

    @property
    def quantities(self) -> list[str]:
        """Every name a result may carry: the targets, then the constrained quantities (each once)."""
        names = self.names
        for c in self.constraints:
            if c.name not in names:
                names.append(c.name)
        return names

    @property
    def units(self) -> dict[str, str]:
        """Quantity name -> unit label, for the targets and constraints that declare one."""
        units = {c.name: c.unit for c in self.constraints if c.unit}
        return {**units, **{t.name: t.unit for t in self.targets if t.unit}}

    @property
    def is_multi(self) -> bool:
        """Several targets and no scalarisation: the goal is a Pareto front, not one best."""
        return len(self.targets) > 1 and self.scalarisation is None

    @property
    def priority_order(self) -> tuple[Target, ...]:
        """The targets in priority order (by ``priority``, else the list order)."""
        if all(t.priority is not None for t in self.targets):
            return tuple(sorted(self.targets, key=lambda t: t.priority or 0))
        return self.targets

    # --------------------------------------------------------------------------------------------- results
    def parse_results(self, value: float | Mapping[str, Any], partial: bool = True) -> dict[str, float]:
        """A reported result -> {quantity: finite float}.

        A map may hold a subset of ``quantities`` (all of them when ``partial`` is False); unknown names are refused
        with the known ones listed. A bare number is the value of the only quantity.
        """
        known = self.quantities
        if isinstance(value, Mapping):
            unknown = [str(k) for k in value if k not in known]
            missing = [n for n in known if n not in value]
            if unknown or not value or (missing and not partial):
                allowed = f"values for {'some' if partial else 'all'} of the quantities {known} are required"
                close = [m for name in unknown for m in difflib.get_close_matches(name, known, n=1)]
                hint = f"; did you mean {close[0]!r}?" if len(close) == 1 else ""
                if unknown:  # a partial result may leave quantities out: only the unknown names are wrong
                    fix = f"unknown {unknown}: correct or leave out each{hint}"
                elif value:
                    fix = f"missing {missing}: give every one"
                else:
                    fix = f"missing {missing}: give at least one"
                raise ValidationError("results", dict(value), allowed, fix)
            return {name: check_finite(f"result '{name}'", value[name]) for name in known if name in value}
        if len(known) != 1:
            raise ValidationError(
                "results",
                value,
                f"a bare number is the value of the only quantity, but there are {known}",
                "give a map, e.g. " + ", ".join(f"{n}=..." for n in known),
            )
        return {known[0]: check_finite(f"result '{known[0]}'", value)}

    def is_complete(self, results: Mapping[str, float]) -> bool:
        """Whether every quantity (targets and constrained ones) has a value."""
        return all(name in results for name in self.quantities)

    def violated(self, results: Mapping[str, float]) -> list[OutcomeConstraint]:
        """The constraints whose quantity has a value that breaks them."""
        return [c for c in self.constraints if c.name in results and not c.satisfied(results[c.name])]

    def feasible(self, results: Mapping[str, float]) -> bool:
        """Whether every constraint's quantity has a value and every constraint holds."""
        return all(c.name in results and c.satisfied(results[c.name]) for c in self.constraints)

    def scores(self, results: Mapping[str, float]) -> tuple[float, ...]:
        """Each target's score (maximisation sense), in target order; every target needs a value."""
        return tuple(float(t.score(float(results[t.name]))) for t in self.targets)

    # --------------------------------------------------------------------------------------------- utility
    def utility(self, results: Mapping[str, float], observed: Sequence[Mapping[str, float]] = ()) -> float:
        """The scalar to maximise.

        One target: its score (``observed`` is not used). Scalarised: the desirability or priority value over the
        score bounds of ``observed`` together with ``results`` (complete results; incomplete ones are skipped).
        Several targets without a scalarisation: raises ValidationError.
        """
        if self.scalarisation is None:
            return float(self._only_target().score(float(results[self.targets[0].name])))
        rows = [self.scores(r) for r in observed if self._has_targets(r)]
        return float(self.scalarised(list(self.scores(results)), [*rows, self.scores(results)]))

    def utilities(self, results: Sequence[Mapping[str, float]]) -> list[float]:
        """The utility of each of several results (each with every target), scalarised over this set."""
        if self.scalarisation is None:
            return [self.utility(r) for r in results]
        rows = [self.scores(r) for r in results]
        return [float(self.scalarised(list(row), rows)) for row in rows]

    def scalarised(self, scores: Sequence[Any], observed_scores: Sequence[Sequence[float]]) -> Any:
        """The scalarisation of per-target scores (target order; floats, or arrays / tensors of one shape) over
        the score bounds of ``observed_scores`` (n >= 1 rows x k targets, e.g. ``[objective.scores(r) ...]``)."""
        bounds = score_bounds(observed_scores)
        if self.scalarisation == "desirability":
            return desirability(scores, bounds, [t.weight for t in self.targets])
        if self.scalarisation == "priority":
            order = [self.targets.index(t) for t in self.priority_order]
            return priority_value(
                [scores[i] for i in order],
                [bounds[i] for i in order],
                [self.targets[i].tolerance or 0.0 for i in order],
            )
        raise ValidationError(
            "objective: scalarisation", None, f"one of {list(SCALARISATIONS)} is needed to scalarise", "set one"
        )

    def best_index(self, results: Sequence[Mapping[str, float]]) -> int | None:
        """Index of the best feasible result that has every target (the first of equals), or None when there is
        none; a scalarisation is computed over every result that has every target.

        Several unscalarised targets have no single best: raises (use ``pareto_indices``).
        """
        if self.scalarisation is None:
            self._only_target()
        measured = [i for i, r in enumerate(results) if self._has_targets(r)]
        usable = [i for i in measured if self.feasible(results[i])]
        if not usable:
            return None
        # a scalarisation's bounds come from every measured result, as the models see them; the best is feasible
        values = dict(zip(measured, self.utilities([results[i] for i in measured]), strict=True))
        return max(usable, key=values.__getitem__)

    def pareto_indices(self, results: Sequence[Mapping[str, float]]) -> list[int]:
        """Indices (ascending) of the complete, feasible results that no other such result dominates in the
        targets' scores; equal results are all kept."""
        usable = [i for i, r in enumerate(results) if self.is_complete(r) and self.feasible(r)]
        front = non_dominated([self.scores(results[i]) for i in usable])
        return [usable[k] for k in front]

    def on_front(self, results: Mapping[str, float], others: Sequence[Mapping[str, float]]) -> bool:
        """Whether ``results`` (complete and feasible) is on the Pareto front of itself and ``others`` (the
        complete, feasible ones count): no other dominates it. O(len(others))."""
        if not (self.is_complete(results) and self.feasible(results)):
            return False
        mine = self.scores(results)
        return not any(dominates(self.scores(r), mine) for r in others if self.is_complete(r) and self.feasible(r))

    def _has_targets(self, results: Mapping[str, float]) -> bool:
        return all(t.name in results for t in self.targets)

    def _only_target(self) -> Target:
        if len(self.targets) != 1:
            raise ValidationError(
                "objective: utility",
                self.names,
                "several targets without a scalarisation have no single utility or best",
                "use the Pareto front (pareto_indices), or set scalarisation: desirability or priority",
            )
        return self.targets[0]

    # --------------------------------------------------------------------------------------------- config
    def to_config(self) -> dict[str, Any]:
        """The spec form; a one-target objective without constraints gives ``{targets: [{name, direction}]}``."""
        config: dict[str, Any] = {"targets": [t.to_config() for t in self.targets]}
        if self.constraints:
            config["constraints"] = [c.to_config() for c in self.constraints]
        if self.scalarisation is not None:
            config["scalarisation"] = self.scalarisation
        if self.reference is not None:
            config["reference"] = dict(self.reference)
        if self.goal != "optimise":  # written only when set, so configs stored before goals existed stay the same
            config["goal"] = self.goal
        return config


_FIELDS = ("targets", "constraints", "scalarisation", "reference", "goal")


def objective_from_config(config: Mapping[str, Any]) -> Objective:
    """An Objective from its spec form.

    ``{targets: [...], constraints: [...], scalarisation: desirability|priority, reference: {name: value},
    goal: optimise|map}`` (each target a map, see ``target_from_config``; each constraint ``"name >= x"`` or
    ``{name, op, bound}``), or the short form of one target ``{target: NAME, direction: max|min, unit: ...,
    goal: ...}``.
    """
    if not isinstance(config, Mapping):
        raise SpecError("objective", config, "a map is required", "e.g. {target: yield, direction: max}")
    if "targets" in config:
        unknown = sorted(str(k) for k in config if k not in _FIELDS)
        if unknown:
            raise SpecError("objective", unknown, f"fields are {list(_FIELDS)}", "remove the others")
        raw = config["targets"]
        if not isinstance(raw, list):
            raise SpecError(
                "objective.targets", raw, "a list of {name, direction} is required", "e.g. [{name: y, direction: max}]"
            )
        targets = tuple(target_from_config(t, f"objective.targets[{i}]") for i, t in enumerate(raw))
        constraints = config.get("constraints") or []
        if not isinstance(constraints, list):
            raise SpecError(
                "objective.constraints", constraints, "a list of constraints is required", "e.g. ['stability >= 0.9']"
            )
        scalarisation = config.get("scalarisation")
        if scalarisation is not None and not isinstance(scalarisation, str):
            raise SpecError("objective.scalarisation", scalarisation, f"one of {list(SCALARISATIONS)}", "use one")
        return Objective(
            targets,
            tuple(constraint_from_config(c, f"objective.constraints[{i}]") for i, c in enumerate(constraints)),
            scalarisation=scalarisation,
            reference=config.get("reference"),
            goal=_goal(config),
        )
    if "target" not in config:
        raise SpecError(
            "objective", dict(config), "a target name is required", "add target: NAME and direction: max|min"
        )
    unknown = sorted(set(config) - {"target", "direction", "unit", "goal"})
    if unknown:
        raise SpecError(
            "objective",
            unknown,
            "fields are target, direction, unit and goal",
            "remove the others, or use the list form targets: [...] for constraints and several targets",
        )
    target = Target(config["target"], config.get("direction", "max"), config.get("unit", ""))
    return Objective((target,), goal=_goal(config))


def _goal(config: Mapping[str, Any]) -> str:
    """The spec's ``goal`` (default "optimise"); SpecError naming ``objective.goal`` for another value."""
    goal = config.get("goal", "optimise")
    if not isinstance(goal, str) or goal not in GOALS:
        raise SpecError(
            "objective.goal", goal, f"one of {list(GOALS)}", "use map for a good model everywhere, or leave goal out"
        )
    return str(goal)
