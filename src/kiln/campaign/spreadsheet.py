"""CSV cells that a spreadsheet would run as formulas (OWASP "CSV injection"), neutralised on export.

Text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to Excel, LibreOffice and
Google Sheets (``=HYPERLINK(...)``, ``=cmd|...``). An export writes such text with a single quote in front, which
spreadsheets show as text; numbers are left as they are (a negative number is not a formula). Reading a CSV
back removes that one quote again, so an export imports as it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value`` with a quote in front when it is text a spreadsheet would run; anything else as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def restore(value: Any) -> Any:
    """The text ``neutralise`` was given: one leading quote before a formula start is removed."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are neutralised (numeric columns untouched)."""
    from pandas.api.types import is_numeric_dtype

    copy = frame.copy()
    for column in copy.columns:
        if not is_numeric_dtype(copy[column]):
            copy[column] = [neutralise(v) for v in copy[column]]
    return copy


def restore_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` read from CSV with the quotes of ``neutralise`` removed from its text cells."""
    from pandas.api.types import is_numeric_dtype

    for column in frame.columns:
        if not is_numeric_dtype(frame[column]):
            frame[column] = [restore(v) for v in frame[column]]
    return frame
