"""What a campaign optimises: named targets with directions, and the results an experiment reports."""

from kiln.objective.objective import Direction, Objective, Target, objective_from_config

__all__ = ["Direction", "Objective", "Target", "objective_from_config"]
