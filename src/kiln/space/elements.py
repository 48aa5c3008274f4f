"""Chemical formulas and elements as inputs: strict parsing, elemental properties, Magpie-style features.

A materials scientist's choices are formulas (``Ni0.5Fe0.3Co0.2``, ``Ca3(PO4)2``, ``Cs``) and the parts of a
composition are often elements (``ni_load``, ``Fe loading (mg)``). This module reads them:

- ``fractions(field, text)``: a formula -> element symbol -> atomic fraction (sum 1), through
  ``pymatgen.core.Composition``, after a strict check of the text (pymatgen alone reads ``FA`` as F plus a dummy
  species ``A`` and drops zero amounts);
- ``is_formula(text)``: the same check, quiet, without importing pymatgen;
- ``element_of(name)``: the element a column or composition-part name stands for, or None;
- ``PROPERTIES``, ``element_properties(symbols)``: elemental properties (elements x properties) from pymatgen's
  element data, with every gap filled by a documented rule;
- ``formula_table(field, texts)``: per formula, the fraction-weighted statistics of each property (Magpie's
  mean, mean absolute deviation, min, max and range) as a ``FeatureTable``.

pymatgen is imported inside the functions that need it, so ``import kiln`` does not load it, and its warnings
(missing data, unusual values) are silenced: every rule the user meets is stated here.

The grammar of a formula (whitespace around it is ignored; none is allowed inside):

    formula := part+
    part    := (symbol | "(" formula ")" | "[" formula "]") amount?
    symbol  := one of the 118 element symbols, H to Og, written as usual: a capital letter, then at most one
               lower-case letter (D and T are not accepted: write H)
    amount  := a positive decimal number: digits with an optional decimal point ("2", "0.5", ".5", "1.")

A dot is always a decimal point (``CuSO4.5H2O`` reads as CuSO4.5 H2 O; write a hydrate as ``CuSO4(H2O)5``);
charges, hydrate dots (``·``, ``*``), exponents (``1e-3``) and signs are refused. The total amount of each
element, nested groups multiplied out, must lie between ``AMOUNT_TOLERANCE`` and ``MAX_AMOUNT``.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from kiln.core.errors import ValidationError
from kiln.space.features import FeatureTable

_SYMBOL_ROWS = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr Rb Sr Y Zr "
    "Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir "
    "Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl "
    "Mc Lv Ts Og"
)
#: The element symbols by atomic number (index 0 is H, Z = 1), as pymatgen spells them.
SYMBOLS: tuple[str, ...] = tuple(_SYMBOL_ROWS.split())
_Z = {symbol: z for z, symbol in enumerate(SYMBOLS, start=1)}

#: Longest formula text accepted (characters); longer text is refused rather than parsed.
MAX_LENGTH = 500
#: Smallest total amount of an element that counts (pymatgen's ``Composition.amount_tolerance``).
AMOUNT_TOLERANCE = 1e-8
#: Largest total amount of an element (pymatgen cannot read the exponent form of larger nested products).
MAX_AMOUNT = 1e12

ALLOWED = (
    "a chemical formula of element symbols (a capital letter, then at most one lower-case letter: Ni, O, Cs), "
    "each optionally followed by a positive amount, with ( ) or [ ] for groups, e.g. Ni0.5Fe0.3Co0.2, "
    "Ca3(PO4)2, (CH3NH3)PbI3 or Cs"
)

_TOKEN = re.compile(
    r"(?P<symbol>[A-Z][a-z]*)|(?P<amount>\d+(?:\.\d*)?|\.\d+)|(?P<open>[(\[])|(?P<close>[)\]])",
)
_CLOSING = {"(": ")", "[": "]"}


@dataclass(frozen=True)
class _Token:
    kind: str  # "symbol", "amount", "open" or "close"
    text: str
    start: int
    end: int


# -------------------------------------------------------------------------------------------- parsing
def _refuse(field: str, text: str, problem: str, fix: str) -> ValidationError:
    return ValidationError(field, text, f"{problem}; allowed: {ALLOWED}", fix)


def _tokens(field: str, text: str, body: str, offset: int) -> list[_Token]:
    """Split ``body`` (``text`` stripped, starting at ``offset``) into tokens or refuse its first stray character."""
    tokens: list[_Token] = []
    position = 0
    while position < len(body):
        match = _TOKEN.match(body, position)
        if match is None:
            raise _stray(field, text, body, position, offset)
        kind = match.lastgroup or ""
        tokens.append(_Token(kind, match.group(), offset + match.start(), offset + match.end()))
        position = match.end()
    return tokens


def _stray(field: str, text: str, body: str, position: int, offset: int) -> ValidationError:
    """The error for the character at ``body[position]`` that no token starts with."""
    char = body[position]
    where = f"position {offset + position + 1}"
    if char == "e" and position > 0 and body[position - 1].isdigit():  # an exponent, e.g. 1e-3
        return _refuse(field, text, f"an exponent at {where}", "write amounts as plain decimals, e.g. 0.001")
    if char.islower():
        word = re.match(r"[A-Za-z]+", body[position:])
        seen = word.group() if word else char
        return _refuse(
            field,
            text,
            f"{seen!r} at {where} is not an element symbol (symbols start with a capital letter)",
            "write element symbols with a capital first letter (NaCl, not nacl); a name such as water or "
            "toluene is not a formula: write H2O, C7H8",
        )
    if char == "-" or char == "+":
        if char == "-" and position + 1 < len(body) and (body[position + 1].isdigit() or body[position + 1] == "."):
            return _refuse(field, text, f"a negative amount at {where}", "give every amount as a positive number")
        return _refuse(field, text, f"{char!r} at {where}: charges are not part of a formula", "leave out the charge")
    if char.isspace():
        return _refuse(field, text, f"a space at {where}", "write the formula without spaces, e.g. Fe2O3")
    if char in "·•*":
        return _refuse(
            field,
            text,
            f"{char!r} at {where}: hydrate dots are not read",
            "write the water as a group, e.g. CuSO4(H2O)5 for CuSO4·5H2O",
        )
    return _refuse(field, text, f"{char!r} at {where} is not part of a formula", "remove it")


def _unknown_names(tokens: list[_Token], text: str) -> list[str]:
    """The text of each run of unknown symbols, widened to the one-letter symbols touching it ("FA", "DMF")."""
    names: list[str] = []
    i = 0
    while i < len(tokens):
        if tokens[i].kind != "symbol" or tokens[i].text in _Z:
            i += 1
            continue
        first = last = i
        while _touching(tokens, last, last + 1) and (
            tokens[last + 1].text not in _Z or len(tokens[last + 1].text) == 1
        ):
            last += 1
        while _touching(tokens, first - 1, first) and len(tokens[first - 1].text) == 1:
            first -= 1
        name = text[tokens[first].start : tokens[last].end]
        if name not in names:
            names.append(name)
        i = last + 1
    return names


def _touching(tokens: list[_Token], i: int, j: int) -> bool:
    """True when tokens i and j (= i + 1) exist, are both symbols and nothing stands between them."""
    if i < 0 or j >= len(tokens):
        return False
    return tokens[i].kind == tokens[j].kind == "symbol" and tokens[i].end == tokens[j].start


def _amounts(field: str, text: str) -> dict[str, float]:
    """Element symbol -> total amount in ``text``, in order of first appearance; refuses anything not a formula."""
    if not isinstance(text, str):
        raise ValidationError(field, text, f"a formula as text; allowed: {ALLOWED}", "give the formula as a string")
    body = text.strip()
    if not body:
        raise _refuse(field, text, "an empty formula", "give a formula such as NaCl or Cs")
    if len(body) > MAX_LENGTH:
        raise ValidationError(
            field,
            text[:40] + "...",
            f"a formula of at most {MAX_LENGTH} characters (this one has {len(body)})",
            "shorten the formula, e.g. by reducing it to its smallest amounts",
        )
    tokens = _tokens(field, text, body, len(text) - len(text.lstrip()))
    unknown = _unknown_names(tokens, text)
    if unknown:
        listed = ", ".join(repr(name) for name in unknown)
        what = "is not an element symbol" if len(unknown) == 1 else "are not element symbols"
        raise _refuse(
            field,
            text,
            f"{listed} {what}",
            "write each group out in element symbols, in brackets: e.g. formamidinium FA = CH5N2 and "
            "methylammonium MA = CH6N, so FA0.8MA0.2PbI3 is (CH5N2)0.8(CH6N)0.2PbI3; write H for D and T",
        )
    return _structure(field, text, tokens)


def _structure(field: str, text: str, tokens: list[_Token]) -> dict[str, float]:
    """Check the brackets and amounts of ``tokens`` and add the amounts up (nested groups multiply)."""
    stack: list[tuple[str, dict[str, float], int]] = []  # (bracket, counts of the enclosing level, its position)
    counts: dict[str, float] = {}
    last: dict[str, float] | None = None  # what the next amount multiplies: the last symbol or closed group
    for token in tokens:
        where = f"position {token.start + 1}"
        if token.kind == "symbol":
            last = {token.text: 1.0}
            _add(counts, last)
        elif token.kind == "amount":
            if last is None:
                raise _refuse(
                    field,
                    text,
                    f"the number {token.text!r} at {where} follows no element or group",
                    "put each amount after its element or closing bracket, e.g. Fe2O3",
                )
            value = float(token.text)
            if value == 0.0:
                raise _refuse(
                    field, text, f"the amount {token.text!r} at {where} is zero", "leave out elements with no amount"
                )
            _add(counts, {symbol: amount * (value - 1.0) for symbol, amount in last.items()})
            last = None
        elif token.kind == "open":
            stack.append((token.text, counts, token.start))
            counts, last = {}, None
        else:
            if not stack or _CLOSING[stack[-1][0]] != token.text:
                raise _refuse(field, text, f"{token.text!r} at {where} closes no open bracket", "match every bracket")
            if not counts:
                raise _refuse(field, text, f"an empty group ending at {where}", "remove the empty brackets")
            _, outer, _ = stack.pop()
            last = counts
            _add(outer, counts)
            counts = outer
    if stack:
        bracket, _, start = stack[-1]
        raise _refuse(
            field, text, f"{bracket!r} at position {start + 1} is never closed", f"close it with {_CLOSING[bracket]!r}"
        )
    for symbol, amount in counts.items():
        if not amount <= MAX_AMOUNT:
            raise _refuse(
                field,
                text,
                f"the amount of {symbol} is above {MAX_AMOUNT:g}",
                "scale every amount down by the same factor",
            )
        if amount < AMOUNT_TOLERANCE:
            raise _refuse(
                field,
                text,
                f"the amount of {symbol} ({amount:g}) is below {AMOUNT_TOLERANCE:g}",
                "scale every amount up by the same factor",
            )
    return counts


def _add(counts: dict[str, float], more: dict[str, float]) -> None:
    for symbol, amount in more.items():
        counts[symbol] = counts.get(symbol, 0.0) + amount


def fractions(field: str, text: str) -> dict[str, float]:
    """Atomic fractions of a chemical formula.

    Args:
        field: the name of the parameter or column, for error messages.
        text: a formula (see the module's grammar): ``Ni0.5Fe0.3Co0.2``, ``Ca3(PO4)2``, ``(CH3NH3)PbI3``, ``Cs``.

    Returns:
        element symbol -> atomic fraction (summing to 1), in order of first appearance, e.g. ``Ca3(PO4)2`` ->
        ``{"Ca": 3/13, "P": 2/13, "O": 8/13}``.

    Raises:
        ValidationError: naming ``field`` and ``text`` when the text is empty, is not a formula, has symbols that
        are not elements (``FA0.8MA0.2PbI3``: 'FA', 'MA'), a zero amount or a negative one.
    """
    counts = _amounts(field, text)
    from pymatgen.core import Composition

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            composition = Composition(text.strip())
            amounts = composition.get_el_amt_dict()
        except (ValueError, KeyError) as error:  # the check above should leave nothing that pymatgen refuses
            raise _refuse(field, text, f"pymatgen: {error}", "write the formula in the form shown") from error
    if set(amounts) != set(counts) or not all(math.isclose(amounts[s], counts[s], rel_tol=1e-9) for s in counts):
        raise _refuse(
            field,
            text,
            f"pymatgen reads it as {dict(amounts)}, not {counts}",
            "write the formula in the form shown",
        )
    total = math.fsum(amounts.values())
    return {symbol: amounts[symbol] / total for symbol in counts}


def is_formula(text: str) -> bool:
    """True when ``text`` is a chemical formula that ``fractions`` accepts (quiet; does not import pymatgen).

    Plain words are not formulas: "water", "toluene" and "DMF" (no element M) are False; "NaCl", "Cs" and
    "Ni0.5Fe0.5" are True. The answer is about the text alone: some SMILES strings are formulas too ("C", "CO",
    "Cl", "O", "CCO" as C2O, "CC(C)O" as C3O) and give True here; which reading wins is the caller's choice
    (e.g. a column whose every value parses as a molecule and contains a bond or ring is one of molecules).
    Lower-case aromatic SMILES ("c1ccccc1") and anything with "=", "#", "@" or charges give False.
    """
    try:
        _amounts("formula", text)
    except ValidationError:
        return False
    return True


# -------------------------------------------------------------------------------------------- names
_NAME_TOKEN = re.compile(r"\s*([^\s_\-(\[/,;:.%]*)")


def element_of(name: str) -> str | None:
    """The element a column or composition-part name stands for, or None.

    The first token of the name (split at whitespace, ``_``, ``-``, ``(``, ``[``, ``/``, ``,``, ``;``, ``:``,
    ``.``, ``%``) must be an element symbol in any letter case: ``Ni``, ``ni``, ``ni_load``, ``Ni loading (mg)``,
    ``fe_load``, ``co_load`` (Co), ``ta_load`` (Ta), ``no_load`` (nobelium) give the symbol. To stay
    conservative:

    - a single lower-case letter is not read as an element (``c``, ``b_load``, ``k``: common variable names);
      write it in capitals (``C``, ``B_load``);
    - a token whose letter case makes it a formula of several elements is not one element: ``CO`` (C and O),
      ``NI`` (N and I), ``CU_load`` (C and U) give None, while ``Co``, ``co``, ``Cu`` give the element;
    - anything else gives None: ``P3HT content (%)``, ``temperature``, ``x``, ``nickel``, ``Ni2``.
    """
    if not isinstance(name, str):
        return None
    match = _NAME_TOKEN.match(name)
    token = match.group(1) if match else ""
    if not (1 <= len(token) <= 2 and token.isascii() and token.isalpha()):
        return None
    if len(token) == 1 and token.islower():
        return None
    symbol = token[0].upper() + token[1:].lower()
    if symbol not in _Z:
        return None
    if token != symbol and is_formula(token) and len(_amounts("name", token)) > 1:
        return None
    return symbol


# -------------------------------------------------------------------------------------------- properties
#: The elemental properties, in the column order of ``element_properties`` (units in ``UNITS``).
PROPERTIES: tuple[str, ...] = (
    "atomic number",
    "Mendeleev number",
    "atomic mass",
    "row",
    "group",
    "melting point",
    "atomic radius",
    "electronegativity",
    "first ionization energy",
    "electron affinity",
    "molar volume",
    "s valence electrons",
    "p valence electrons",
    "d valence electrons",
    "f valence electrons",
    "valence electrons",
)

#: The unit of each property ("" for counts and ordinals).
UNITS: dict[str, str] = {
    "atomic number": "",
    "Mendeleev number": "",
    "atomic mass": "u",
    "row": "",
    "group": "",
    "melting point": "K",
    "atomic radius": "Å",
    "electronegativity": "Pauling",
    "first ionization energy": "eV",
    "electron affinity": "eV",
    "molar volume": "cm³/mol",
    "s valence electrons": "",
    "p valence electrons": "",
    "d valence electrons": "",
    "f valence electrons": "",
    "valence electrons": "",
}

_ATTRIBUTES = {  # property -> public attribute of pymatgen.core.Element
    "atomic number": "Z",
    "Mendeleev number": "mendeleev_no",
    "atomic mass": "atomic_mass",
    "row": "row",
    "group": "group",
    "melting point": "melting_point",
    "atomic radius": "atomic_radius",
    "electronegativity": "X",
    "first ionization energy": "ionization_energy",
    "electron affinity": "electron_affinity",
    "molar volume": "molar_volume",
}
_NOBLE_GASES = (2, 10, 18, 36, 54, 86, 118)
_SHELLS = ("s", "p", "d", "f")


def element_properties(symbols: Sequence[str]) -> np.ndarray:
    """The properties of elements, one row per symbol: len(symbols) x len(PROPERTIES), float64, all finite.

    Values come from pymatgen's element data (shipped with the package; nothing is downloaded): the public
    attributes of ``pymatgen.core.Element`` (``Z``, ``mendeleev_no``, ``atomic_mass``, ``row``, ``group``,
    ``melting_point``, ``atomic_radius`` (empirical), ``X`` (Pauling), ``ionization_energy``,
    ``electron_affinity``, ``molar_volume``). pymatgen gives lanthanides and actinides group 3.

    Valence electrons are the electrons outside the preceding noble-gas core, counted per subshell from
    ``full_electronic_structure`` (Magpie's NsValence ... NValence): Fe 2 s + 6 d = 8, Ga 2 s + 1 p + 10 d = 13,
    Ne 2 s + 6 p = 8, Hf 2 s + 2 d + 14 f = 18.

    Where pymatgen has no value (electronegativity of He, Ne, Ar; the atomic radius of the noble gases, At, Fr,
    Cm to Lr; molar volumes of At, Fr, Fm to Lr; most data past Lr, among them the electronic
    structures of Db to Og), the value is borrowed: for a lanthanide or
    actinide from the nearest element of its series that has one (nearest in Z, the lighter on a tie), else from
    the nearest element of its group that has one (nearest in row, the lighter on a tie). So He, Ne and Ar take
    Kr's electronegativity (3.0), At takes I's atomic radius (1.4 Å), Fr takes Cs's (2.6 Å), Cm to Lr take Am's
    (1.75 Å).

    Raises:
        ValidationError: for a symbol that is not an element (the symbols are case-sensitive: "Ni", not "NI").
    """
    table = _property_table()
    rows = []
    for symbol in symbols:
        if symbol not in _Z:
            raise ValidationError(
                "element",
                symbol,
                "an element symbol from H to Og, written with a capital first letter (Ni, O, Cs)",
                "correct the symbol",
            )
        rows.append(table[_Z[symbol] - 1])
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(PROPERTIES))


@cache
def _property_table() -> np.ndarray:
    """All 118 elements x PROPERTIES, gaps filled (see ``element_properties``); computed once per process."""
    from pymatgen.core import Element

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        elements = [Element(symbol) for symbol in SYMBOLS]
        raw = np.array([[_raw_value(element, name) for name in PROPERTIES] for element in elements])
        series = [_series(element) for element in elements]
        groups = [int(element.group) for element in elements]
        rows = [int(element.row) for element in elements]
    filled = raw.copy()
    for i, j in zip(*np.nonzero(~np.isfinite(raw)), strict=True):
        filled[i, j] = raw[_donor(i, raw[:, j], series, groups, rows), j]
    filled.setflags(write=False)
    return filled


def _raw_value(element: Any, name: str) -> float:
    """pymatgen's value of one property, NaN where it has none."""
    if name in _ATTRIBUTES:
        try:
            value = getattr(element, _ATTRIBUTES[name])
        except (KeyError, ValueError, AttributeError, TypeError):
            return math.nan
        try:
            number = float(value)
        except (TypeError, ValueError):
            return math.nan
        return number if math.isfinite(number) else math.nan
    counts = _valence(element)
    if counts is None:
        return math.nan
    if name == "valence electrons":
        return float(sum(counts.values()))
    return float(counts[name[0]])


def _valence(element: Any) -> dict[str, int] | None:
    """Electrons outside the preceding noble-gas core, by subshell letter; None where pymatgen has no configuration
    (Db to Og)."""
    from pymatgen.core import Element

    z = int(element.Z)
    core_z = max((g for g in _NOBLE_GASES if g < z), default=0)
    try:
        structure = element.full_electronic_structure
        core = (
            set() if core_z == 0 else {(n, shell) for n, shell, _ in Element.from_Z(core_z).full_electronic_structure}
        )
    except (KeyError, ValueError):
        return None
    counts = dict.fromkeys(_SHELLS, 0)
    for n, shell, occupancy in structure:
        if (n, shell) not in core:
            counts[shell] += int(occupancy)
    if sum(counts.values()) != z - core_z:  # pymatgen's configuration must hold exactly Z electrons
        raise RuntimeError(f"pymatgen's electronic structure of {element} does not hold {z} electrons")
    return counts


def _series(element: Any) -> str:
    if element.is_lanthanoid:
        return "lanthanoid"
    if element.is_actinoid:
        return "actinoid"
    return ""


def _donor(i: int, column: np.ndarray, series: list[str], groups: list[int], rows: list[int]) -> int:
    """The element whose value fills element i's gap in ``column`` (see ``element_properties``)."""
    candidates = [k for k in range(len(column)) if np.isfinite(column[k])]
    if series[i]:
        near = [k for k in candidates if series[k] == series[i]]
        if near:
            return min(near, key=lambda k: (abs(k - i), k))
    near = [k for k in candidates if groups[k] == groups[i] and not series[k]]
    if not near:
        raise RuntimeError(f"no element of group {groups[i]} has a value to lend to {SYMBOLS[i]}")
    return min(near, key=lambda k: (abs(rows[k] - rows[i]), k))


# -------------------------------------------------------------------------------------------- features
#: The statistics of ``formula_table``, per property, in column order.
STATISTICS: tuple[str, ...] = ("mean", "mean absolute deviation", "min", "max", "range")


def feature_names() -> tuple[str, ...]:
    """The columns of ``formula_table``: ``"{statistic} {property}"`` for each property, then each statistic
    ("mean electronegativity", "mean absolute deviation electronegativity", ..., "range electronegativity")."""
    return tuple(f"{statistic} {name}" for name in PROPERTIES for statistic in STATISTICS)


def formula_table(field: str, texts: Sequence[str]) -> FeatureTable:
    """Magpie-style elemental statistics of each formula.

    For a formula with atomic fractions f_i of elements with property values p_i: mean = sum f_i p_i, mean
    absolute deviation = sum f_i |p_i - mean|, min and max over its elements (whatever their fraction), range =
    max - min. A single element gives its own values, deviation 0 and range 0.

    Args:
        field: what the formulas are, for error messages (e.g. "parameter 'cation'").
        texts: the choices' formulas, in order (see ``fractions``).

    Returns:
        len(texts) x (len(PROPERTIES) * len(STATISTICS)) table, columns ``feature_names()``; all finite.

    Raises:
        ValidationError: for the first text that is not a formula (see ``fractions``); for no texts.
    """
    if isinstance(texts, str) or len(texts) == 0:
        raise ValidationError(field, texts, "allowed: a list of one or more chemical formulas", "list the choices")
    parsed = [fractions(field, text) for text in texts]
    rows = np.empty((len(parsed), len(PROPERTIES) * len(STATISTICS)))
    for i, composition in enumerate(parsed):
        weights = np.fromiter(composition.values(), dtype=np.float64, count=len(composition))
        values = element_properties(list(composition))  # elements x properties
        mean = weights @ values
        deviation = weights @ np.abs(values - mean)
        low, high = values.min(axis=0), values.max(axis=0)
        rows[i] = np.stack([mean, deviation, low, high, high - low], axis=1).ravel()
    return FeatureTable(feature_names(), rows)
