"""PoolImage: an image patch for every candidate of a CandidatePool (a microscope's overview, one image per well).

Two forms:

- **overview**: one H x W image shared by the pool, whose two integer pixel columns (``x`` = column index,
  ``y`` = row index by default) place each candidate on it; a candidate's patch is the p x p window centred on its
  pixel (p odd, the image reflected at its edges).
- **stack**: one h x w image per candidate, n x h x w in the pool's row-key order.

Patches come out normalised by numbers fixed from the image itself (its mean and standard deviation over every
pixel), never from measurements, so the same image always gives the same patches. The image travels with the pool
in its JSON configuration (float32 bytes in base64, with the shape and a schema number), so a campaign reopened
from its store needs nothing else. numpy is imported only when an image is built or read.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kiln.core.errors import ValidationError

if TYPE_CHECKING:
    import numpy as np

    from kiln.space.pool import CandidatePool

IMAGE_SCHEMA = 1
"""Version of a stored image's configuration."""

FORMS = ("overview", "stack")
MIN_SIDE = 3
"""The smallest patch side (a CNN's first 3 x 3 convolution needs it)."""


@dataclass(frozen=True, eq=False)
class PoolImage:
    """Image patches for the candidates of a pool.

    Build one with ``PoolImage.overview(image, patch=9)``, ``PoolImage.stack(images)`` or
    ``PoolImage.from_npy(path, ...)``; give it to ``CandidatePool(..., image=...)``, which checks it against the
    pool and keeps an attached copy (``pool.image``) whose ``patches(keys)`` cuts the candidates' patches.

    Attributes:
        data: the image, float32 and read-only: H x W (overview) or n x h x w (stack).
        patch: the side p of an overview's square patch (odd, >= 3, at most the image's smaller side);
            None for a stack.
        columns: the pool's pixel columns (x = column index, y = row index) for an overview; () for a stack.
        pixels: the pixel (x, y) of every pool row, N x 2 int64, once attached to a pool (None before; a stack
            has none). Not part of the configuration: the pool's rows hold it.
    """

    data: np.ndarray
    patch: int | None = None
    columns: tuple[str, ...] = ()
    pixels: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        import numpy as np

        where = "pool image"
        try:
            data = np.array(self.data, dtype=np.float32)
        except (TypeError, ValueError) as error:
            raise ValidationError(
                f"{where}: data", type(self.data).__name__, f"an array of numbers is required ({error})", "fix it"
            ) from None
        if data.ndim not in (2, 3):
            raise ValidationError(
                f"{where}: data",
                f"shape {tuple(data.shape)}",
                "a 2-D overview image (H x W) or a stack of images, one per candidate (n x h x w)",
                "give one of them",
            )
        if not np.isfinite(data).all():
            bad = int((~np.isfinite(data)).sum())
            raise ValidationError(
                f"{where}: data", f"{bad} non-finite values", "every pixel must be a finite number", "fill them"
            )
        if data.ndim == 2:
            self._check_overview(data)
        else:
            self._check_stack(data)
        data.flags.writeable = False
        object.__setattr__(self, "data", data)

    def _check_overview(self, data: np.ndarray) -> None:
        where = "pool image"
        patch = self.patch
        if isinstance(patch, bool) or not isinstance(patch, int) or patch < MIN_SIDE or patch % 2 == 0:
            raise ValidationError(
                f"{where}: patch", patch, f"an odd whole number >= {MIN_SIDE} (the side of the window)", "e.g. 9"
            )
        if patch > min(data.shape):
            raise ValidationError(
                f"{where}: patch",
                patch,
                f"at most the image's smaller side ({min(data.shape)} of {data.shape[0]} x {data.shape[1]})",
                "take a smaller patch",
            )
        columns = tuple(self.columns) if self.columns else ("x", "y")
        if len(columns) != 2 or not all(isinstance(c, str) and c for c in columns) or columns[0] == columns[1]:
            raise ValidationError(
                f"{where}: columns", list(self.columns), "two different column names: x (column) and y (row)", ""
            )
        object.__setattr__(self, "columns", columns)

    def _check_stack(self, data: np.ndarray) -> None:
        where = "pool image"
        if self.patch is not None or self.columns:
            raise ValidationError(
                where,
                {"patch": self.patch, "columns": list(self.columns)},
                "a stack of images (one per candidate) has no patch size or pixel columns",
                "leave them out, or give a 2-D overview image",
            )
        if min(data.shape[1:]) < MIN_SIDE:
            raise ValidationError(
                f"{where}: data",
                f"images of {data.shape[1]} x {data.shape[2]}",
                f"each image at least {MIN_SIDE} x {MIN_SIDE}",
                "give larger images",
            )

    # ------------------------------------------------------------------------------------------- building
    @classmethod
    def overview(cls, image: Any, *, patch: int = 9, columns: Sequence[str] = ("x", "y")) -> PoolImage:
        """One H x W image for the whole pool; each candidate's patch is the ``patch`` x ``patch`` window around
        its pixel (``columns``: the pool's column index and row index columns)."""
        return cls(image, patch, tuple(columns))

    @classmethod
    def stack(cls, images: Any) -> PoolImage:
        """One h x w image per candidate, n x h x w in the pool's row-key order (identical rows merged)."""
        return cls(images)

    @classmethod
    def from_npy(
        cls, path: str | os.PathLike[str], *, patch: int | None = None, columns: Sequence[str] = ("x", "y")
    ) -> PoolImage:
        """An image from a .npy file (read without pickle): 2-D as an overview (``patch`` needed, default 9),
        3-D as a stack."""
        import numpy as np

        try:
            data = np.load(os.fspath(path), allow_pickle=False)
        except FileNotFoundError:
            raise ValidationError("pool image: npy", str(path), "the file does not exist", "check the path") from None
        except (ValueError, OSError) as error:
            raise ValidationError(
                "pool image: npy", str(path), f"a .npy array of numbers is required ({error})", "save it with np.save"
            ) from None
        if getattr(data, "ndim", 0) == 2:
            return cls.overview(data, patch=9 if patch is None else patch, columns=columns)
        if patch is not None:
            raise ValidationError(
                "pool image: patch", patch, "a stack of images (3-D file) has no patch size", "leave it out"
            )
        return cls.stack(data)

    # ------------------------------------------------------------------------------------------- queries
    @property
    def form(self) -> str:
        """ "overview" (one H x W image) or "stack" (n x h x w)."""
        return "overview" if self.data.ndim == 2 else "stack"

    @property
    def patch_shape(self) -> tuple[int, int]:
        """(rows, columns) of one patch."""
        if self.patch is not None:
            return (self.patch, self.patch)
        return (int(self.data.shape[1]), int(self.data.shape[2]))

    @property
    def normalisation(self) -> tuple[float, float]:
        """(offset, scale): patches are (image - offset) / scale, the image's mean and standard deviation over
        every pixel (scale 1 for a constant image). Fixed by the image alone."""
        mean = float(self.data.mean(dtype="float64"))
        std = float(self.data.std(dtype="float64"))
        return mean, std if std > 0 else 1.0

    def attached(self, pool: CandidatePool) -> PoolImage:
        """This image checked against ``pool``, with the pixel of each row (overview) looked up: the copy a pool
        keeps. Raises ValidationError when the columns are missing, not whole numbers, or outside the image, or
        when a stack does not hold one image per row."""
        import numpy as np

        if self.form == "stack":
            if self.data.shape[0] != len(pool):
                raise ValidationError(
                    "pool image: data",
                    f"{self.data.shape[0]} images",
                    f"one image per candidate row: {len(pool)} (after identical rows are merged), in row order",
                    "give as many images as the pool has rows",
                )
            return PoolImage(self.data)
        pixels = np.zeros((len(pool), 2), dtype=np.int64)
        height, width = self.data.shape
        for j, (column, size) in enumerate(zip(self.columns, (width, height), strict=True)):
            if column not in pool.columns:
                raise ValidationError(
                    "pool image: columns",
                    column,
                    f"a pixel column of the pool (its columns are {pool.columns})",
                    "name the pool's columns of x (column index) and y (row index): columns: [x, y]",
                )
            index = pool.columns.index(column)
            if not pool.numeric[index]:
                raise ValidationError(
                    f"pool image: column '{column}'", "text", "pixel indices are whole numbers", "fix the column"
                )
            values = np.array([row[index] for row in pool.rows], dtype=float)
            whole = np.round(values)
            off = np.flatnonzero((whole != values) | (whole < 0) | (whole >= size))
            if off.size:
                raise ValidationError(
                    f"pool image: column '{column}'",
                    float(values[off[0]]),
                    f"pixel indices are whole numbers from 0 to {size - 1} (the image is {height} x {width})",
                    f"fix the {off.size} rows outside, e.g. row {int(off[0])}",
                )
            pixels[:, j] = whole.astype(np.int64)
        pixels.flags.writeable = False
        return PoolImage(self.data, self.patch, self.columns, pixels)

    def patches(self, keys: Any, *, normalised: bool = True) -> np.ndarray:
        """The patches of the pool rows ``keys`` (row keys, any integer sequence), n x p x p float32 (n x h x w
        for a stack); normalised by ``normalisation`` unless ``normalised`` is False. An overview must be
        attached to its pool (``pool.image``)."""
        import numpy as np

        index = np.asarray(keys, dtype=np.int64).reshape(-1)
        if self.form == "stack":
            size = self.data.shape[0]
            if index.size and (index.min() < -size or index.max() >= size):
                raise ValidationError("pool image: keys", int(index.max()), f"row keys 0..{size - 1}", "fix them")
            return self._normalised(self.data[index], normalised)
        if self.pixels is None:
            raise ValidationError(
                "pool image",
                "not attached",
                "row keys need the pool's pixel columns",
                "use pool.image (attached by CandidatePool(..., image=...)) or patches_at(x, y)",
            )
        size = self.pixels.shape[0]
        if index.size and (index.min() < -size or index.max() >= size):
            raise ValidationError("pool image: keys", int(index.max()), f"row keys 0..{size - 1}", "fix them")
        return self.patches_at(self.pixels[index, 0], self.pixels[index, 1], normalised=normalised)

    def patches_at(self, x: Any, y: Any, *, normalised: bool = True) -> np.ndarray:
        """The p x p windows of an overview centred on the pixels (x[i], y[i]) (column, row), n x p x p float32."""
        import numpy as np

        if self.form != "overview":
            raise ValidationError("pool image", "a stack", "pixels name windows of an overview image", "use keys")
        xs = np.asarray(x, dtype=np.int64).reshape(-1)
        ys = np.asarray(y, dtype=np.int64).reshape(-1)
        height, width = self.data.shape
        if xs.shape != ys.shape:
            raise ValidationError("pool image: pixels", (xs.size, ys.size), "as many x as y", "pair them")
        if xs.size and (xs.min() < 0 or xs.max() >= width or ys.min() < 0 or ys.max() >= height):
            raise ValidationError(
                "pool image: pixels", "outside", f"x in 0..{width - 1}, y in 0..{height - 1}", "fix them"
            )
        windows = np.lib.stride_tricks.sliding_window_view(self._padded, self.patch_shape)
        return self._normalised(windows[ys, xs], normalised)

    def _normalised(self, patches: np.ndarray, normalised: bool) -> np.ndarray:
        import numpy as np

        if not normalised:
            return np.array(patches, dtype=np.float32)
        offset, scale = self.normalisation
        return ((patches - np.float32(offset)) / np.float32(scale)).astype(np.float32, copy=False)

    @property
    def _padded(self) -> np.ndarray:
        """The overview reflected by p // 2 pixels on every side (computed once)."""
        import numpy as np

        cached = self.__dict__.get("_padded_cache")
        if cached is None:
            assert self.patch is not None
            cached = np.pad(self.data, self.patch // 2, mode="reflect")
            cached.flags.writeable = False
            object.__setattr__(self, "_padded_cache", cached)
        return cached

    # ------------------------------------------------------------------------------------------ config
    def to_config(self) -> dict[str, Any]:
        """JSON-able: the float32 little-endian bytes in base64 with the shape, the form and its settings."""
        import numpy as np

        config: dict[str, Any] = {
            "schema": IMAGE_SCHEMA,
            "form": self.form,
            "shape": [int(s) for s in self.data.shape],
            "dtype": "float32",
            "data": base64.b64encode(np.ascontiguousarray(self.data, dtype="<f4").tobytes()).decode("ascii"),
        }
        if self.form == "overview":
            config["patch"] = self.patch
            config["columns"] = list(self.columns)
        return config

    @classmethod
    def from_config(cls, config: Any, where: str = "pool image") -> PoolImage:
        """The image of ``to_config``; a spec may also name a .npy file instead of the data: ``{npy: FILE,
        patch: 9, columns: [x, y]}`` (read relative to the working folder)."""
        import numpy as np

        if not isinstance(config, Mapping):
            raise ValidationError(where, config, "a map with form, shape and data (or npy: FILE)", "see docs/spec.md")
        if "npy" in config:
            unknown = sorted(map(str, set(config) - {"npy", "patch", "columns"}))
            if unknown:
                raise ValidationError(where, unknown, "an image file takes npy, patch and columns", "remove them")
            return cls.from_npy(
                str(config["npy"]), patch=config.get("patch"), columns=config.get("columns", ("x", "y"))
            )
        schema = config.get("schema")
        if schema != IMAGE_SCHEMA or isinstance(schema, bool):
            raise ValidationError(
                f"{where}: schema", schema, f"this Kiln reads image schema {IMAGE_SCHEMA}", "upgrade Kiln"
            )
        known = {"schema", "form", "shape", "dtype", "data", "patch", "columns"}
        unknown = sorted(map(str, set(config) - known))
        if unknown:
            raise ValidationError(where, unknown, f"fields of a stored image are {sorted(known)}", "remove them")
        form, shape = config.get("form"), config.get("shape")
        if form not in FORMS:
            raise ValidationError(f"{where}: form", form, f"one of {list(FORMS)}", "fix it")
        if (
            not isinstance(shape, list)
            or len(shape) != (2 if form == "overview" else 3)
            or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape)
        ):
            raise ValidationError(f"{where}: shape", shape, f"the positive sizes of a {form}", "fix it")
        if config.get("dtype", "float32") != "float32":
            raise ValidationError(f"{where}: dtype", config.get("dtype"), "float32", "store float32 bytes")
        try:
            raw = base64.b64decode(str(config.get("data", "")), validate=True)
        except ValueError:
            raise ValidationError(f"{where}: data", "(not base64)", "base64 of float32 bytes", "re-save it") from None
        expected = 4 * int(np.prod(shape))
        if len(raw) != expected:
            raise ValidationError(
                f"{where}: data", f"{len(raw)} bytes", f"{expected} bytes for shape {shape}", "re-save the image"
            )
        data = np.frombuffer(raw, dtype="<f4").reshape(shape).astype(np.float32)
        if form == "overview":
            return cls.overview(data, patch=config.get("patch", 9), columns=config.get("columns", ("x", "y")))
        if "patch" in config or "columns" in config:
            raise ValidationError(where, sorted(config), "a stack has no patch or columns", "remove them")
        return cls.stack(data)

    # ------------------------------------------------------------------------------------------ identity
    @property
    def digest(self) -> str:
        """A short hash of the image and its settings (equal images have equal digests)."""
        text = f"{self.form}|{self.data.shape}|{self.patch}|{list(self.columns)}|".encode()
        return hashlib.sha256(text + self.data.tobytes()).hexdigest()[:16]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PoolImage):
            return NotImplemented
        return self.digest == other.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    def __repr__(self) -> str:
        shape = " x ".join(map(str, self.data.shape))
        if self.form == "overview":
            return f"PoolImage(overview {shape}, patch={self.patch}, columns={list(self.columns)})"
        return f"PoolImage(stack {shape})"


def pixel_pool(
    image: Any,
    *,
    stride: int = 1,
    patch: int = 9,
    columns: Sequence[str] = ("x", "y"),
    units: Mapping[str, str] | None = None,
    allow_repeats: bool = False,
) -> CandidatePool:
    """The pool of an overview image's pixels, every ``stride``-th in each direction, with the image attached.

    Rows are the pixels (x, y) = (column, row) in row-major order (y outer, x inner), so the row key of pixel
    (x, y) at stride 1 is ``y * W + x``. ``image``: H x W numbers (or a PoolImage overview, whose patch and
    columns then apply).
    """
    from kiln.space.pool import CandidatePool

    if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
        raise ValidationError("pixel pool: stride", stride, "a whole number >= 1", "e.g. stride 1 (every pixel)")
    overview = image if isinstance(image, PoolImage) else PoolImage.overview(image, patch=patch, columns=columns)
    if overview.form != "overview":
        raise ValidationError("pixel pool: image", "a stack", "a 2-D overview image", "give one H x W image")
    height, width = overview.data.shape
    rows = [[x, y] for y in range(0, height, stride) for x in range(0, width, stride)]
    return CandidatePool(list(overview.columns), rows, units=units, allow_repeats=allow_repeats, image=overview)


__all__ = ["IMAGE_SCHEMA", "PoolImage", "pixel_pool"]
