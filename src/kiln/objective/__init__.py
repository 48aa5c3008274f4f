"""What a campaign optimises: targets with directions or windows, outcome constraints, scalarisations, and the
results an experiment reports."""

from kiln.objective.objective import SCALARISATIONS, Objective, objective_from_config
from kiln.objective.targets import Direction, OutcomeConstraint, Target

__all__ = ["SCALARISATIONS", "Direction", "Objective", "OutcomeConstraint", "Target", "objective_from_config"]
