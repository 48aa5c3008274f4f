"""A campaign's experiments counted the one way every view shows them (``kiln list``, ``kiln show``, REST,
dashboard).

The five counts split the experiments: ``completed`` and ``failed`` are current results (not retracted),
``pending`` are open suggestions (sent to an instrument or not), ``retracted`` are finished experiments kept in
the record that nothing learns from, ``discarded`` are suggestions that were never run. ``amended`` is a note
beside them: experiments whose result was corrected at least once (counted in one of the five as well).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kiln.core.records import Experiment, ExperimentStatus

COUNTS = ("completed", "failed", "pending", "retracted", "discarded")
"""The keys that split the experiments, in the order views show them."""


def status_counts(experiments: Iterable[Experiment]) -> dict[str, int]:
    """Map of each of ``COUNTS`` and ``amended`` -> number of experiments; the ``COUNTS`` add up to them all."""
    counts = dict.fromkeys((*COUNTS, "amended"), 0)
    for e in experiments:
        if e.status is ExperimentStatus.PENDING:
            counts["pending"] += 1
        elif e.status is ExperimentStatus.DISCARDED:
            counts["discarded"] += 1
        elif e.retracted:
            counts["retracted"] += 1
        else:
            counts[e.status.value] += 1
        counts["amended"] += e.amended > 0
    return counts


def counts_in_words(counts: Mapping[str, int]) -> str:
    """The counts that are not zero, e.g. ``2 completed, 1 pending, 1 retracted; 1 amended`` (empty if none)."""
    words = ", ".join(f"{counts[key]} {key}" for key in COUNTS if counts.get(key))
    if counts.get("amended"):
        words += f"; {counts['amended']} amended"
    return words
