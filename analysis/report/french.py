"""French number formatting for everything a reader of the report sees.

Every number printed in the report, its tables, chart labels, alt texts and captions goes
through this module, so that the typography is the same everywhere:

- thousands grouped with a narrow no-break space (U+202F, babel's ``fr_FR`` group symbol):
  ``num(3500) == "3 500"``;
- decimal comma: ``dec(0.52) == "0,52"``;
- a narrow no-break space (U+202F) before ``%``: ``pct(47) == "47 %"``. babel's own ``fr_FR``
  percent pattern puts a plain no-break space (U+00A0) there; the report uses the narrow one,
  as French typography does and as the thousands separator already is;
- a true minus sign (U+2212), never a hyphen: ``points(-2) == "−2 pts"``;
- missing values (None, NaN, ``pd.NA``) print as an en dash ``"–"``.

**Rounding.** Values are rounded half to even, on their decimal value: ``pct(12.5) == "12 %"``,
``pct(13.5) == "14 %"``. This is what the published tables do (R's ``round``: 27/216 = 12.5 %
was published as 12 %), so the report reproduces their figures. Floating-point noise is removed
first (the value is rounded to 9 decimals before the half-even rounding), so that a tie computed
in binary floating point, ``11 / 40 * 100 == 27.500000000000004``, is treated as the exact tie
27.5 it is and gives ``"28 %"``, like ``57.49999999999999`` (23/40) gives ``"58 %"``.

**Fonts.** U+202F is rendered by the fonts the report uses (Libertinus Serif, typst's default,
DejaVu Sans in the charts). For an output chain whose font lacks it, ``set_ascii_safe(True)``
(or ``ascii_safe=True`` on a call) uses the ordinary no-break space U+00A0 instead.

Percentages are given in percent (0–100), as in the estimates frame, not as shares (0–1).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation, localcontext
from numbers import Integral, Number

from babel.numbers import format_decimal

from analysis.survey import strata

LOCALE = "fr_FR"
#: Narrow no-break space: thousands separator, before ``%``, ``;``, ``?``, ``!``.
NNBSP = "\u202f"
#: No-break space: between a number and its unit or noun, around ``=``, before ``:``.
NBSP = "\u00a0"
#: True minus sign.
MINUS = "\u2212"
#: What a missing value prints as (en dash).
MISSING = "\u2013"
#: What a suppressed figure (base too small) prints as.
SUPPRESSED = "n.s."

_ASCII_SAFE = False
_NOISE = Decimal("1e-9")


class ReportError(ValueError):
    """Bad input to the report helpers (formatting, charts, tables)."""


class FormatError(ReportError):
    """A value cannot be formatted."""


def set_ascii_safe(flag: bool) -> None:
    """Use U+00A0 instead of the narrow U+202F everywhere (for fonts that lack U+202F)."""
    global _ASCII_SAFE
    _ASCII_SAFE = bool(flag)


def thin_space(ascii_safe: bool | None = None) -> str:
    """The narrow no-break space in use: U+202F, or U+00A0 in ascii-safe mode."""
    safe = _ASCII_SAFE if ascii_safe is None else ascii_safe
    return NBSP if safe else NNBSP


# -- numbers -----------------------------------------------------------------------------------


def is_missing(x: object) -> bool:
    """True for None, NaN and ``pd.NA`` (without importing pandas)."""
    if x is None:
        return True
    if type(x).__name__ == "NAType":
        return True
    try:
        return bool(x != x)  # NaN
    except (TypeError, ValueError):  # arrays, exotic objects
        return False


def _to_decimal(x: object, what: str) -> Decimal | None:
    """``x`` as a Decimal, None when missing; FormatError for anything that is not a number."""
    if is_missing(x):
        return None
    if isinstance(x, bool) or not isinstance(x, Number):
        # numpy scalars are registered as numbers.Number; strings, lists… are not.
        raise FormatError(
            f"{what}: expected a number (or None/NaN for a missing value), "
            f"got {x!r} of type {type(x).__name__}"
        )
    if isinstance(x, Decimal):
        value = x
    elif isinstance(x, Integral):
        value = Decimal(int(x))
    else:
        try:
            f = float(x)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise FormatError(f"{what}: expected a real number, got {x!r}") from exc
        if math.isinf(f):
            raise FormatError(f"{what}: expected a finite number, got {x!r}")
        value = Decimal(repr(f))
    if not value.is_finite():
        raise FormatError(f"{what}: expected a finite number, got {x!r}")
    return value


def round_half_even(
    x: object, decimals: int = 0, *, what: str = "round_half_even"
) -> Decimal | None:
    """``x`` rounded half to even to ``decimals`` places (None when missing).

    Floating-point noise below 1e-9 is removed first, so that ties computed in binary
    floating point (``23 / 40 * 100 == 57.49999999999999``) round as the exact ties they are.
    """
    if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 6:
        raise FormatError(f"decimals: expected an integer from 0 to 6, got {decimals!r}")
    value = _to_decimal(x, what)
    if value is None:
        return None
    with localcontext() as ctx:
        ctx.prec = 60
        try:
            value = value.quantize(_NOISE, rounding=ROUND_HALF_EVEN)
            value = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)
        except InvalidOperation as exc:  # pragma: no cover - absurdly large values
            raise FormatError(f"round_half_even: cannot round {x!r}") from exc
    if value == 0:
        value = abs(value)  # no "−0"
    return value


def _format(x: object, decimals: int, what: str, ascii_safe: bool | None, group: bool = True):
    """(formatted absolute value, sign) or None when missing."""
    value = round_half_even(x, decimals, what=what)
    if value is None:
        return None
    pattern = ("#,##0" if group else "0") + ("." + "0" * decimals if decimals else "")
    text = format_decimal(abs(value), format=pattern, locale=LOCALE)
    text = text.replace(NNBSP, thin_space(ascii_safe)).replace(NBSP, thin_space(ascii_safe))
    sign = -1 if value < 0 else (1 if value > 0 else 0)
    return text, sign


def num(x: object, decimals: int = 0, *, ascii_safe: bool | None = None) -> str:
    """A number with French grouping: ``num(3500) == "3 500"``, ``num(-1234.5, 1) == "−1 234,5"``."""
    out = _format(x, decimals, "num", ascii_safe)
    if out is None:
        return MISSING
    text, sign = out
    return (MINUS if sign < 0 else "") + text


def dec(x: object, decimals: int = 2, *, ascii_safe: bool | None = None) -> str:
    """A decimal number with a decimal comma: ``dec(0.5249) == "0,52"``."""
    return num(x, decimals, ascii_safe=ascii_safe)


def pct(x: object, decimals: int = 0, *, ascii_safe: bool | None = None) -> str:
    """A percentage given in percent (0–100): ``pct(47) == "47 %"``, ``pct(12.5, 1) == "12,5 %"``."""
    out = _format(x, decimals, "pct", ascii_safe)
    if out is None:
        return MISSING
    text, sign = out
    return (MINUS if sign < 0 else "") + text + thin_space(ascii_safe) + "%"


def points(d: object, decimals: int = 0, *, ascii_safe: bool | None = None) -> str:
    """A difference in percentage points, always signed: ``"+3 pts"``, ``"−2 pts"``, ``"0 pt"``.

    French plural rule: singular below 2 in absolute value (``"+1 pt"``, ``"−1,5 pt"``).
    """
    out = _format(d, decimals, "points", ascii_safe)
    if out is None:
        return MISSING
    text, sign = out
    value = round_half_even(d, decimals)
    unit = "pts" if value is not None and abs(value) >= 2 else "pt"
    prefix = "+" if sign > 0 else (MINUS if sign < 0 else "")
    return f"{prefix}{text}{NBSP}{unit}"


def base(n: object, *, ascii_safe: bool | None = None) -> str:
    """The base of a percentage: ``base(191) == "n = 191"`` (no-break spaces)."""
    if is_missing(n):
        return MISSING
    return f"n{NBSP}={NBSP}{num(n, ascii_safe=ascii_safe)}"


def ci(lo: object, hi: object, decimals: int = 0, *, ascii_safe: bool | None = None) -> str:
    """A confidence interval in percent: ``ci(41.2, 52.4) == "[41 % ; 52 %]"``."""
    if is_missing(lo) or is_missing(hi):
        # validate the other bound anyway, so that a string is never silently accepted
        _to_decimal(lo, "ci (lower bound)")
        _to_decimal(hi, "ci (upper bound)")
        return MISSING
    sp = thin_space(ascii_safe)
    low = pct(lo, decimals, ascii_safe=ascii_safe)
    high = pct(hi, decimals, ascii_safe=ascii_safe)
    return f"[{low}{sp};{NBSP}{high}]"


def pct_base(x: object, n: object, decimals: int = 0, *, ascii_safe: bool | None = None) -> str:
    """A percentage with its base: ``pct_base(46.3, 191) == "46 % (n = 191)"``."""
    return f"{pct(x, decimals, ascii_safe=ascii_safe)} ({base(n, ascii_safe=ascii_safe)})"


# -- words -------------------------------------------------------------------------------------


def plural(
    n: object,
    singular: str,
    plural: str | None = None,
    *,
    number: bool = True,
    ascii_safe: bool | None = None,
) -> str:
    """A count and its noun with the French rule (singular below 2 in absolute value).

    ``plural(191, "répondant") == "191 répondants"``, ``plural(1, "région") == "1 région"``,
    ``plural(0, "réponse") == "0 réponse"``; ``plural(3, "bureau", "bureaux")``;
    ``number=False`` returns the word alone.
    """
    value = _to_decimal(n, "plural")
    if value is None:
        raise FormatError(f"plural: expected a count, got a missing value {n!r}")
    if plural is None:
        plural = singular if singular.endswith(("s", "x", "z")) else singular + "s"
    word = singular if abs(value) < 2 else plural
    if not number:
        return word
    decimals = 0 if value == value.to_integral_value() else 1
    return f"{num(n, decimals, ascii_safe=ascii_safe)}{NBSP}{word}"


def join_fr(items: Iterable[object], last: str = "et") -> str:
    """French enumeration: ``join_fr(["a", "b", "c"]) == "a, b et c"`` (no serial comma)."""
    words = [str(i) for i in items]
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


def cap(s: str) -> str:
    """First letter upper-cased, the rest untouched: ``cap("état des lieux") == "État des lieux"``."""
    if not isinstance(s, str):
        raise FormatError(f"cap: expected a string, got {s!r} of type {type(s).__name__}")
    return s[:1].upper() + s[1:]


_BEFORE_THIN = re.compile(r"[ \u00a0\u202f]*([;?!])")
_BEFORE_COLON = re.compile(r"(?<=\S)[ \u00a0\u202f]*:(?=\s|$)")
_BEFORE_PERCENT = re.compile(r"(?<=\d)[ \u00a0\u202f]*%")
_OPEN_GUILLEMET = re.compile(r"«[ \u00a0\u202f]*")
_CLOSE_GUILLEMET = re.compile(r"[ \u00a0\u202f]*»")


def typo(text: str, *, ascii_safe: bool | None = None) -> str:
    """French punctuation spacing: no-break space before ``:`` and inside « », narrow
    no-break space before ``;``, ``?``, ``!`` and a ``%`` that follows a digit. Idempotent."""
    if not isinstance(text, str):
        raise FormatError(f"typo: expected a string, got {text!r} of type {type(text).__name__}")
    sp = thin_space(ascii_safe)
    text = _BEFORE_THIN.sub(lambda m: sp + m.group(1), text)
    text = _BEFORE_COLON.sub(NBSP + ":", text)
    text = _BEFORE_PERCENT.sub(sp + "%", text)
    text = _OPEN_GUILLEMET.sub("«" + NBSP, text)
    text = _CLOSE_GUILLEMET.sub(NBSP + "»", text)
    # a narrow space is not wanted at the very start (e.g. a text beginning with "?")
    return text.lstrip(NBSP + NNBSP)


def quote(text: str) -> str:
    """French quotation marks with no-break spaces: ``quote("Oui") == "« Oui »"``."""
    return f"«{NBSP}{text}{NBSP}»"


# -- group labels ------------------------------------------------------------------------------

#: Short labels of the groups, for table headers and chart axes (numbers with U+202F).
SHORT_LABELS: dict[str, str] = {
    "ensemble": "Ensemble",
    "hors_communes_lt_3500": f"Hors communes < 3{NNBSP}500 hab.",
    "commune": "Communes",
    "commune_lt_3500": f"Communes < 3{NNBSP}500 hab.",
    "commune_3500_10000": f"Communes 3{NNBSP}500–10{NNBSP}000 hab.",
    "commune_10000_100000": f"Communes 10{NNBSP}000–100{NNBSP}000 hab.",
    "commune_ge_100000": f"Communes ≥ 100{NNBSP}000 hab.",
    "epci": "EPCI",
    "metropole": "Métropoles",
    "epci_metropole": "EPCI et métropoles",
    "departement": "Départements",
    "region": "Régions",
    "autre": "Autres structures",
}

_LONG_EXTRA = {"epci_metropole": "EPCI (y compris métropoles)"}


def group_label(group: str, *, short: bool = True, ascii_safe: bool | None = None) -> str:
    """French label of a group code of ``analysis.survey.strata.GROUPS`` (or ``epci_metropole``)."""
    if short:
        label = SHORT_LABELS.get(group)
    else:
        label = strata.LABELS.get(group) or _LONG_EXTRA.get(group)
        if label is not None:
            label = re.sub(r"(\d) (\d{3})", rf"\1{NNBSP}\2", label)
    if label is None:
        raise FormatError(
            f"group_label: unknown group {group!r}; expected one of {sorted(SHORT_LABELS)}"
        )
    return label.replace(NNBSP, thin_space(ascii_safe))
