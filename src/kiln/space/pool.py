"""CandidatePool: a fixed table of allowed experiments (a materials library, a plate of wells).

Suggestions are rows of the table, identified by their row key (0..N-1 after identical rows are merged). Numeric
columns are min-max scaled over the pool for the model; text columns are one-hot encoded.
"""

from __future__ import annotations

import functools
import math
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kiln.core.errors import ValidationError
from kiln.space.encodings import (
    ENCODINGS,
    Encoding,
    check_element_block,
    check_encoding,
    element_block_config,
    resolve,
)
from kiln.space.kernel_layout import FeatureBlock, KernelLayout
from kiln.space.parameters import check_finite, check_point_keys, check_unit

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from kiln.space.pool_image import PoolImage


class CandidatePool:
    """Allowed rows of the design space.

    Args:
        columns: input column names.
        rows: the candidates, one sequence of values per row (numbers or text), in ``columns`` order.
        allow_repeats: whether a candidate may be suggested again after it was suggested once.
        units: column name -> unit label (e.g. {"temperature": "°C"}), shown in tables and plots.
        encoding: how text columns reach the model (``kiln.space.encodings``): one name for every text column
            ("auto", the default: descriptors for molecules, elemental properties for formulas, else one-hot;
            "onehot", "descriptors", "fingerprints", "elements") or a map column -> name. "elements" may also
            name numeric columns that each name one element (``ni_load`` -> Ni): their amounts are then modelled
            through their elemental properties as well as directly; a single name "elements" applies to every
            such column.
        encodings: the stored result (a campaign's configuration keeps it; without it it is computed here).
        image: an image patch per candidate (``kiln.space.pool_image.PoolImage``: an overview image placed by two
            pixel columns, or one image per row), checked against the rows; kept attached as ``self.image``
            (None without one) and stored in ``to_config``. The model coordinates do not change with it.
    """

    def __init__(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        allow_repeats: bool = False,
        units: Mapping[str, str] | None = None,
        encoding: str | Mapping[str, str] = "auto",
        encodings: Mapping[str, Any] | None = None,
        image: PoolImage | None = None,
    ) -> None:
        self.columns = [str(c) for c in columns]
        if not self.columns or len(set(self.columns)) != len(self.columns):
            raise ValidationError("pool: columns", list(columns), "distinct column names are required", "rename them")
        if not rows:
            raise ValidationError("pool: rows", [], "at least one candidate row is required", "give a non-empty table")
        if not isinstance(allow_repeats, bool):
            raise ValidationError(
                "pool: allow_repeats", allow_repeats, "true or false is required", "write allow_repeats: true or false"
            )
        self.allow_repeats = allow_repeats
        self._units = self._checked_units(units or {})
        self.numeric = [self._is_numeric(j, rows) for j in range(len(self.columns))]
        unique: dict[tuple[Any, ...], int] = {}
        for i, row in enumerate(rows):
            if len(row) != len(self.columns):
                raise ValidationError(
                    f"pool: row {i}", list(row), f"{len(self.columns)} values are required", "fix the row"
                )
            key = tuple(
                check_finite(f"pool: row {i}, column '{c}'", v) if num else str(v)
                for v, c, num in zip(row, self.columns, self.numeric, strict=True)
            )
            unique.setdefault(key, len(unique))
        self.rows: list[tuple[Any, ...]] = list(unique)
        self._index = unique
        self._categories = {
            c: sorted({row[j] for row in self.rows}) for j, c in enumerate(self.columns) if not self.numeric[j]
        }
        self.encoding = self._checked_request(encoding)
        self.encodings, self.elements = self._resolved(encodings)
        self.dim = int(sum(self.numeric)) + sum(self.encodings[c].width(len(v)) for c, v in self._categories.items())
        self.image = self._attached(image)

    def _attached(self, image: Any) -> PoolImage | None:
        if image is None:
            return None
        from kiln.space.pool_image import PoolImage

        if not isinstance(image, PoolImage):
            raise ValidationError(
                "pool: image",
                type(image).__name__,
                "a PoolImage (kiln.space.pool_image)",
                "build one with PoolImage.overview(image, patch=9) or PoolImage.stack(images)",
            )
        return image.attached(self)

    def _checked_request(self, encoding: Any) -> str | dict[str, str]:
        if isinstance(encoding, str):
            return check_encoding("pool: encoding", encoding)
        if not isinstance(encoding, Mapping):
            raise ValidationError(
                "pool: encoding", encoding, f"one of {list(ENCODINGS)} or a map column -> one of them", "e.g. auto"
            )
        unknown = [str(k) for k in encoding if str(k) not in self.columns]
        if unknown:
            raise ValidationError(
                "pool: encoding", unknown, f"an encoding may name only the input columns {self.columns}", "fix it"
            )
        checked = {str(k): check_encoding(f"pool: encoding[{k}]", v) for k, v in encoding.items()}
        for column, name in checked.items():
            if self.numeric[self.columns.index(column)] and name != "elements":
                raise ValidationError(
                    f"pool: encoding[{column}]",
                    name,
                    "a numeric column is used as it is; only 'elements' applies to one (an element's amount)",
                    "remove it, or name a text column",
                )
        return checked

    def _requested(self, column: str) -> str:
        if isinstance(self.encoding, str):
            return self.encoding
        return self.encoding.get(column, "auto")

    def _resolved(self, stored: Mapping[str, Any] | None) -> tuple[dict[str, Encoding], dict[str, Any]]:
        """Text column -> its encoding, and the elements block of numeric columns ({} when none)."""
        if stored is not None:
            if not isinstance(stored, Mapping):
                raise ValidationError("pool: encodings", stored, "a stored map column -> encoding", "recompute it")
            missing = [c for c in self._categories if c not in stored]
            if missing:  # every text column is stored: one left out would silently become one-hot
                raise ValidationError(
                    "pool: encodings",
                    sorted(map(str, stored)),
                    f"a stored encoding for every text column (missing {missing})",
                    "remove encodings to recompute them all",
                )
            texts = {
                c: Encoding.from_config(f"pool: encodings[{c}]", stored[c], v) for c, v in self._categories.items()
            }
            return texts, self._checked_elements(stored.get("(elements)"))
        texts = {c: resolve(f"pool column '{c}'", v, self._requested(c)) for c, v in self._categories.items()}
        return texts, self._element_columns()

    def _element_columns(self) -> dict[str, Any]:
        """Numeric columns to be seen through their elements' properties, and those properties (scaled)."""
        if isinstance(self.encoding, str):
            chosen = [c for c, num in zip(self.columns, self.numeric, strict=True) if num]
            if self.encoding != "elements":
                return {}
        else:
            chosen = [
                c for c, name in self.encoding.items() if name == "elements" and self.numeric[self.columns.index(c)]
            ]
        if not chosen:
            return {}
        from kiln.space.elements import element_of

        symbols = {c: element_of(c) for c in chosen}
        unnamed = [c for c, symbol in symbols.items() if symbol is None]
        if unnamed and not isinstance(self.encoding, str):
            raise ValidationError(
                "pool: encoding",
                unnamed,
                "'elements' applies to numeric columns whose names name one element (ni_load, Fe, co (mg))",
                "rename the columns after their elements, or remove them from the encoding",
            )
        named = {c: s for c, s in symbols.items() if s is not None}
        if len(set(named.values())) < 2:
            if isinstance(self.encoding, str):
                return {}
            raise ValidationError(
                "pool: encoding",
                sorted(named),
                "'elements' needs columns of at least two different elements",
                "name more columns",
            )
        self._check_amounts(list(named))
        return element_block_config(named)

    def _checked_elements(self, config: Any) -> dict[str, Any]:
        if config is None:
            return {}
        where = "pool: encodings[(elements)]"
        columns = config.get("columns") if isinstance(config, Mapping) else None
        if not isinstance(columns, list):
            raise ValidationError(where, config, "a stored elements block", "remove it to recompute it")
        bad = [c for c in columns if c not in self.columns or not self.numeric[self.columns.index(c)]]
        if bad or len(set(columns)) != len(columns) or len(columns) < 2:
            raise ValidationError(
                f"{where}: columns", columns, "two or more distinct numeric input columns", "remove it to recompute it"
            )
        self._check_amounts(columns)
        return check_element_block(where, config, columns)

    def _check_amounts(self, columns: Sequence[str]) -> None:
        """ValidationError unless every value of the element columns is >= 0 (an amount; the elemental kernel
        weighs the elements by them)."""
        for column in columns:
            j = self.columns.index(column)
            lowest = min(row[j] for row in self.rows)
            if lowest < 0:
                raise ValidationError(
                    f"pool column '{column}'",
                    lowest,
                    "amounts of an element (encoding 'elements') are >= 0",
                    "fix the values, or leave the column out of encoding 'elements'",
                )

    @functools.cached_property
    def _scale(self) -> tuple[np.ndarray, np.ndarray]:
        """Low end and span (1 where a column is constant) of each numeric column, for ``encode``; computed on
        first use, so that opening a campaign (``kiln show``, ``tell``) does not import numpy."""
        import numpy as np

        numeric_values = np.array(
            [[row[j] for j, num in enumerate(self.numeric) if num] for row in self.rows], dtype=float
        ).reshape(len(self.rows), -1)
        low = numeric_values.min(0) if numeric_values.size else np.zeros(0)
        span = np.ptp(numeric_values, 0) if numeric_values.size else np.zeros(0)
        return low, np.where(span > 0, span, 1.0)

    @functools.cached_property
    def _encoded(self) -> np.ndarray:
        return self.encode([dict(zip(self.columns, row, strict=True)) for row in self.rows])

    def _checked_units(self, units: Mapping[str, str]) -> dict[str, str]:
        if not isinstance(units, Mapping):
            raise ValidationError("pool: units", units, "a map column -> unit is required", "e.g. {T: '°C'}")
        unknown = [k for k in units if k not in self.columns]
        if unknown:
            raise ValidationError(
                "pool: units", unknown, f"units may name only the input columns {self.columns}", "fix the names"
            )
        checked = {str(k): check_unit(f"pool: units[{k}]", v) for k, v in units.items()}
        return {k: v for k, v in checked.items() if v}

    @staticmethod
    def _is_numeric(j: int, rows: Sequence[Sequence[Any]]) -> bool:
        for row in rows:
            value = row[j] if j < len(row) else None
            if isinstance(value, bool) or not isinstance(value, (int, float, *_numpy_numbers())):
                return False
        return True

    @classmethod
    def from_dataframe(
        cls,
        frame: pd.DataFrame,
        inputs: Sequence[str] | None = None,
        *,
        allow_repeats: bool = False,
        units: Mapping[str, str] | None = None,
        encoding: str | Mapping[str, str] = "auto",
        image: PoolImage | None = None,
    ) -> CandidatePool:
        """A pool from the ``inputs`` columns of a DataFrame (all columns by default), with an optional image."""
        columns = list(inputs) if inputs is not None else [str(c) for c in frame.columns]
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValidationError(
                "pool: inputs", missing, f"columns of the table are {list(map(str, frame.columns))}", "fix the names"
            )
        rows = [[_plain(v) for v in record] for record in frame[columns].itertuples(index=False, name=None)]
        return cls(columns, rows, allow_repeats=allow_repeats, units=units, encoding=encoding, image=image)

    @classmethod
    def from_csv(
        cls,
        path: str | os.PathLike[str],
        inputs: Sequence[str] | None = None,
        *,
        allow_repeats: bool = False,
        encoding: str | Mapping[str, str] = "auto",
    ) -> CandidatePool:
        """A pool from the ``inputs`` columns of a CSV file (all columns by default)."""
        import pandas as pd

        try:
            frame = pd.read_csv(path)
        except FileNotFoundError:
            raise ValidationError("pool: csv", str(path), "the file does not exist", "check the path") from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
            raise ValidationError(
                "pool: csv", str(path), f"a CSV table is required ({error})", "export as CSV"
            ) from None
        return cls.from_dataframe(frame, inputs, allow_repeats=allow_repeats, encoding=encoding)

    # ------------------------------------------------------------------------------------------------- queries
    @property
    def names(self) -> list[str]:
        return list(self.columns)

    @property
    def kernel_layout(self) -> KernelLayout:
        """The model columns that need a kernel of their own (fingerprints, element compositions)."""
        blocks, start = [], int(sum(self.numeric))
        for column, categories in self._categories.items():
            width = self.encodings[column].width(len(categories))
            if self.encodings[column].kernel:
                blocks.append(FeatureBlock("tanimoto", tuple(range(start, start + width)), name=column))
            start += width
        if self.elements:
            numeric_columns = [c for c, num in zip(self.columns, self.numeric, strict=True) if num]
            low, span = self._scale
            index = [numeric_columns.index(c) for c in self.elements["columns"]]
            blocks.append(
                FeatureBlock(
                    "elements",
                    tuple(index),
                    tuple(tuple(row) for row in self.elements["properties"]),
                    name="elements of " + ", ".join(self.elements["columns"]),
                    low=tuple(float(low[i]) for i in index),
                    span=tuple(float(span[i]) for i in index),
                )
            )
        return KernelLayout(self.dim, tuple(blocks))

    def describe_encodings(self) -> dict[str, str]:
        """Column -> one line on how the model sees it, for the columns that are not plain numbers."""
        lines = {c: self.encodings[c].describe(len(v)) for c, v in self._categories.items()}
        if self.elements:
            for column, symbol in zip(self.elements["columns"], self.elements["symbols"], strict=True):
                lines[column] = (
                    f"amount of {symbol}: as it is, and through elemental properties ({self.elements['source']})"
                )
        return lines

    @property
    def units(self) -> dict[str, str]:
        """Column name -> unit label, for the columns that declare one."""
        return dict(self._units)

    def snap(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """A pool's candidates are as they are: nothing to round."""
        return dict(params)

    def __len__(self) -> int:
        return len(self.rows)

    def patches(self, keys_or_rows: Iterable[Any]) -> np.ndarray:
        """The normalised image patches of candidates given by row keys or as rows (maps in lab units), n x p x p
        float32 (``PoolImage.patches``). Raises ValidationError when the pool has no image or a row is not one
        of its candidates."""
        if self.image is None:
            raise ValidationError(
                "pool: image", None, "this pool has no image", "give CandidatePool(..., image=PoolImage...)"
            )
        numpy = sys.modules.get("numpy")
        if numpy is not None and isinstance(keys_or_rows, numpy.ndarray):  # row keys already: holds no maps
            return self.image.patches(keys_or_rows)
        keys = []
        for i, item in enumerate(keys_or_rows):
            if isinstance(item, Mapping):
                key = self.key_of(item)
                if key is None:
                    raise ValidationError(f"pool: row {i}", dict(item), "a candidate of the pool", "use its values")
                keys.append(key)
            else:
                keys.append(item)
        return self.image.patches(keys)

    def row(self, key: int) -> dict[str, Any]:
        """The candidate with row key ``key`` as a dict in lab units."""
        return dict(zip(self.columns, self.rows[key], strict=True))

    def key_of(self, params: Mapping[str, Any]) -> int | None:
        """The row key of a point equal to a candidate (numbers compared with a relative tolerance of 1e-9)."""
        try:
            clean = self.validate(params)
        except ValidationError:
            return None
        key = tuple(clean[c] for c in self.columns)
        if key in self._index:
            return self._index[key]
        for candidate, index in self._index.items():
            if all(
                math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) if num else a == b
                for a, b, num in zip(key, candidate, self.numeric, strict=True)
            ):
                return index
        return None

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Check a point given in lab units (every column; known categories; finite numbers)."""
        check_point_keys(params, self.columns, "pool column")
        clean: dict[str, Any] = {}
        for column, numeric in zip(self.columns, self.numeric, strict=True):
            value = params[column]
            if numeric:
                clean[column] = check_finite(f"parameter '{column}'", value)
                if clean[column] < 0 and column in self.elements.get("columns", ()):
                    raise ValidationError(
                        f"parameter '{column}'",
                        value,
                        "an amount of an element is >= 0 (the column is modelled through its element)",
                        "give the amount measured, 0 or more",
                    )
            elif str(value) in self._categories[column]:
                clean[column] = str(value)
            else:
                raise ValidationError(
                    f"parameter '{column}'",
                    value,
                    f"allowed values are the pool's values of this column: {_shown(self._categories[column])}",
                    "use a value that appears in the pool",
                )
        return clean

    def encode(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Points in lab units -> model coordinates, shape n x dim."""
        import numpy as np

        X = np.zeros((len(rows), self.dim))
        if not rows:
            return X
        numeric_columns = [c for c, num in zip(self.columns, self.numeric, strict=True) if num]
        if numeric_columns:
            values = np.array([[float(r[c]) for c in numeric_columns] for r in rows], dtype=float)
            low, span = self._scale
            X[:, : len(numeric_columns)] = (values.reshape(len(rows), -1) - low) / span
        start = len(numeric_columns)
        for column, categories in self._categories.items():
            encoded = self.encodings[column]
            if encoded.rows:
                width = encoded.width(len(categories))
                X[:, start : start + width] = [encoded.rows[str(r[column])] for r in rows]
                start += width
                continue
            for i, r in enumerate(rows):
                X[i, start + categories.index(str(r[column]))] = 1.0
            start += len(categories)
        return X

    @property
    def encoded(self) -> np.ndarray:
        """All candidates in model coordinates, N x dim, in row-key order (read-only)."""
        view = self._encoded.view()
        view.flags.writeable = False
        return view

    def to_config(self) -> dict[str, Any]:
        return {
            "kind": "pool",
            "columns": self.columns,
            "rows": [list(r) for r in self.rows],
            "allow_repeats": self.allow_repeats,
            **({"units": dict(self._units)} if self._units else {}),
            "encoding": self.encoding,
            "encodings": {
                **{c: e.to_config() for c, e in self.encodings.items()},
                **({"(elements)": dict(self.elements)} if self.elements else {}),
            },
            **({"image": self.image.to_config()} if self.image is not None else {}),
        }

    def __repr__(self) -> str:
        image = f", image={self.image!r}" if self.image is not None else ""
        return f"CandidatePool({len(self.rows)} rows, columns={self.columns}{image})"


def _shown(values: Sequence[Any], most: int = 20) -> str:
    """A list for a message: at most ``most`` items, then how many more."""
    head = ", ".join(map(str, values[:most]))
    return head + (f", ... ({len(values) - most} more)" if len(values) > most else "")


def _numpy_numbers() -> tuple[type, ...]:
    """numpy's number types when numpy is loaded (a numpy value can only come from a loaded numpy), else none:
    checking a pool's values does not import numpy."""
    numpy = sys.modules.get("numpy")
    return (numpy.integer, numpy.floating) if numpy is not None else ()


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars, so rows are JSON-able."""
    numpy = sys.modules.get("numpy")
    return value.item() if numpy is not None and isinstance(value, numpy.generic) else value
