"""``kiln export``'s writer without pandas (``kiln.campaign.export_text``) writes what the DataFrame path writes."""

from __future__ import annotations

import math
import random
from typing import Any

import pandas as pd
import pytest

from kiln import Campaign, CandidatePool, Objective, SearchSpace
from kiln.campaign.export_text import column_kind, table_to_csv, table_to_records
from kiln.campaign.table import ExportTable, frame_to_csv, frame_to_records


def _frame(table: ExportTable) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(table.records, columns=table.columns)
    frame.attrs["outputs"] = table.outputs
    return frame


def _assert_same(table: ExportTable, frame: pd.DataFrame) -> None:
    assert table_to_csv(table) == frame_to_csv(frame)
    assert table_to_records(table) == frame_to_records(frame)
    assert len(table.records) == len(frame)


def _worked(campaign: Campaign) -> None:
    """Every kind of stored value: float and whole-number results, text and formula-like notes, outputs of every
    JSON kind (some only on some experiments), failed, pending, discarded, imported, amended and retracted."""
    a, b, c, d, e, f = campaign.ask(6)
    campaign.dispatch(a.id, "robot-1", "job-17")
    outputs_a = {"purity": 0.93, "trace": [1, 2.5], "steps": {"anneal": 410}, "count": 3, "blank": " "}
    campaign.tell(a.id, 1.5, outputs={**outputs_a, "id": "clash", "ratio": 1e-7}, note='hazy, "thick"\nlayer')
    outputs_b = {"colour": "red", "flag": True, "code": "42", "lot": "007", "count": 4, "none": None}
    campaign.tell(b.id, 2, outputs={**outputs_b, "formula": "=HYPERLINK(1)", "ratio": 12345678901234567.0})
    campaign.tell(c.id, -0.25, outputs={"formula": "-2", "purity": 1, "tab": "\ta\tb"}, note="=cmd|' /C calc'!A0")
    campaign.fail(d.id, "=furnace tripped")
    campaign.discard(e.id, reason="+ wrong vial")
    campaign.add_data([{**dict(a.params), "y": 9, "operator": "ana", "note": "@from the notebook"}])
    campaign.amend(a.id, 1.75, reason="re-read the scale", actor="ana")
    campaign.amend(a.id, 1.8, reason="-second look", actor="bo")
    campaign.retract(b.id, reason="contaminated", actor="ana")
    del f  # stays pending


@pytest.mark.parametrize("history", [False, True])
def test_the_writer_matches_the_dataframe_export(space: SearchSpace, store_url: str, history: bool) -> None:
    campaign = Campaign.create("c", space=space, objective=Objective.maximize("y"), strategy="random", store=store_url)
    _worked(campaign)
    table = campaign.to_table(history=history)
    frame = campaign.to_dataframe(history=history)
    assert table.columns == [str(c) for c in frame.columns]
    text = table_to_csv(table)
    assert "'=HYPERLINK(1)" in text and "'=furnace tripped" in text and ",-0.25," in text  # the checks see cells
    _assert_same(table, frame)


def test_the_writer_matches_on_a_pool_with_names(store_url: str) -> None:
    pool = CandidatePool(["x", "c"], [(float(i) / 3, f"=c{i % 3}") for i in range(12)])
    campaign = Campaign.create(
        "p", space=pool, objective=Objective.minimize("cost"), strategy="random", store=store_url
    )
    a, b, _ = campaign.ask(3)
    campaign.tell(a.id, 2)
    campaign.tell(b.id, 3, outputs={"count": 7})
    for history in (False, True):
        _assert_same(campaign.to_table(history=history), campaign.to_dataframe(history=history))


def test_an_empty_campaign_writes_the_header(space: SearchSpace, store_url: str) -> None:
    campaign = Campaign.create("e", space=space, objective=Objective.maximize("y"), strategy="random", store=store_url)
    _assert_same(campaign.to_table(), campaign.to_dataframe())


COLUMNS: dict[str, list[Any]] = {
    "ints": [1, 2, -3],
    "int_none": [1, None, 3],
    "int_nan": [1, math.nan, 2],
    "float_int": [1, 2.5, 3],
    "bool": [True, False, True],
    "bool_none": [True, None, False],
    "bool_int": [True, 1, 0],
    "bool_float": [True, 1.5, None],
    "text": ["a", "=b", "c,d"],
    "text_none": ["a", None, "-1"],
    "none": [None, None, None],
    "nan": [math.nan, None, math.nan],
    "text_int": ["a", 1, 2.5],
    "big": [2**63, 1, 2],
    "below_int64": [-(2**63) - 1, 1, 2],
    "big_none": [2**63, None, 1],
    "lists": [[1, 2], None, {"a": 1}],
}


@pytest.mark.parametrize("column", list(COLUMNS))
def test_columns_are_typed_as_pandas_types_them(column: str) -> None:
    """Each kind of column, as a plain column and as an output column (written through JSON text)."""
    values = COLUMNS[column]
    records = [{"v": v, "o": v} for v in values]
    table = ExportTable(["v", "o"], records, ["o"])
    if column != "lists":
        kind = column_kind(values)
        dtype = pd.DataFrame({"v": values})["v"].dtype
        assert kind == {"i": "int", "u": "int", "f": "float", "b": "bool"}.get(dtype.kind, "object"), dtype
        _assert_same(table, _frame(table))
    else:
        table = ExportTable(["o"], [{"o": v} for v in values], ["o"])  # JSON values: outputs only
        _assert_same(table, _frame(table))


def test_a_missing_output_is_an_empty_cell() -> None:
    table = ExportTable(["id", "o"], [{"id": "a", "o": 2}, {"id": "b"}], ["o"])
    assert table_to_csv(table).splitlines() == ["id,o", "a,2.0", "b,"]
    _assert_same(table, _frame(table))


def test_floats_are_written_with_the_digits_pandas_writes() -> None:
    rng = random.Random(3)
    values = [rng.uniform(-1, 1) * 10.0 ** rng.randint(-30, 30) for _ in range(2000)]
    values += [0.0, -0.0, 1e16, 9999999999999998.0, 1e-4, 0.0001234, 1e-5, 5e-324, 1.7976931348623157e308, 0.1]
    table = ExportTable(["x"], [{"x": v} for v in values], [])
    _assert_same(table, _frame(table))
