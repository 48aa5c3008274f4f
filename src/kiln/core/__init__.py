"""Leaf layer: ids, records, and the error hierarchy. Imports nothing else from Kiln."""

from kiln.core.errors import (
    ConflictError,
    KilnError,
    NotFoundError,
    SpecError,
    StaleHistoryError,
    StateError,
    ValidationError,
)
from kiln.core.ids import new_id
from kiln.core.records import CampaignRecord, Change, Event, Experiment, ExperimentStatus, Origin, Revision

__all__ = [
    "CampaignRecord",
    "Change",
    "ConflictError",
    "Event",
    "Experiment",
    "ExperimentStatus",
    "KilnError",
    "NotFoundError",
    "Origin",
    "Revision",
    "SpecError",
    "StaleHistoryError",
    "StateError",
    "ValidationError",
    "new_id",
]
