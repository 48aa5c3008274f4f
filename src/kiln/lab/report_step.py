"""The ``report:`` step of a run spec: after ``kiln run``'s loop ends, the campaign report is written.

``report: true`` writes ``NAME-report.html`` next to the spec file; ``report: {out: FILE.html, pdf: FILE.pdf,
seed: N}`` writes the HTML page, the PDF, or both (a relative path is relative to the spec file, as every path of
a spec is) with the report's model fits and simulations seeded by N (default 0). Without the key, or with
``report: false``, no report is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiln.core.errors import SpecError

REPORT_FIELDS = ("out", "pdf", "seed")
_EXAMPLE = "e.g. report: {out: report.html} or report: true"


@dataclass(frozen=True)
class ReportStep:
    """Where ``kiln run`` writes the campaign report at its end (the HTML page, the PDF; at least one is set) and
    the report's seed."""

    out: Path | None
    pdf: Path | None = None
    seed: int = 0

    @property
    def files(self) -> tuple[Path, ...]:
        """The files the step writes, HTML first."""
        return tuple(path for path in (self.out, self.pdf) if path is not None)


def report_step(value: Any, *, name: str, base: Path) -> ReportStep | None:
    """The ``report:`` value of a spec as a ReportStep (None: no report); SpecError naming the field at fault.

    ``base`` is the spec file's folder; the report's folder must exist when the spec is read, so a run never ends
    with a report it cannot write."""
    if value is None or value is False:
        return None
    if value is True:
        step = ReportStep(base / f"{name}-report.html")
    elif isinstance(value, Mapping):
        unknown = sorted(map(str, set(value) - set(REPORT_FIELDS)))
        if unknown:
            raise SpecError(
                f"report.{unknown[0]}", value[unknown[0]], f"the fields of report are {list(REPORT_FIELDS)}", _EXAMPLE
            )
        if "out" not in value and "pdf" not in value:
            raise SpecError("report.out", None, "out (an .html file), pdf (a .pdf file) or both", _EXAMPLE)
        seed = value.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise SpecError(
                "report.seed", seed, "a whole number >= 0 is required", "e.g. report: {out: r.html, seed: 0}"
            )
        step = ReportStep(_file(value, "out", ".html", base), _file(value, "pdf", ".pdf", base), seed)
    else:
        raise SpecError("report", value, "true, false or a map {out: FILE.html, pdf: FILE.pdf, seed: N}", _EXAMPLE)
    for key, path in (("out", step.out), ("pdf", step.pdf)):
        if path is None:
            continue
        if not path.parent.is_dir():
            raise SpecError(
                f"report.{key}",
                str(path),
                "its folder does not exist (paths are relative to the spec file)",
                "create the folder or pick another path",
            )
        if path.is_dir():
            raise SpecError(f"report.{key}", str(path), "a file is required, not a folder", f"e.g. {key}: report")
    if step.out is not None and step.out == step.pdf:
        raise SpecError("report.pdf", str(step.pdf), "another file than out", "e.g. pdf: report.pdf")
    return step


def _file(value: Mapping[str, Any], key: str, suffix: str, base: Path) -> Path | None:
    """``value[key]`` as a path relative to ``base``, None when absent; SpecError unless it ends in ``suffix``."""
    if key not in value:
        return None
    text = value[key]
    if not isinstance(text, str) or not text.strip().lower().endswith(suffix) or text.strip() == suffix:
        raise SpecError(
            f"report.{key}", text, f"a file name ending in {suffix} is required", f"e.g. {key}: report{suffix}"
        )
    return base / text.strip()
