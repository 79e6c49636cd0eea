"""Claims checked at build time: a hand-written sentence and the condition it rests on.

A researcher writes a sentence the figures alone do not say — "les agents conversationnels
devancent l'IA prédictive chez les structures qui ont mené un projet" — and declares what
it rests on, as a small expression over the estimates::

    chat = r.share("ia_techniques", "Agents conversationnels")
    pred = r.share("ia_techniques", "Modèles prédictifs")
    r.claim("Les agents conversationnels ({chat}) devancent l'IA prédictive ({pred}).",
            chat > pred, chat=chat, pred=pred)

When the data no longer support it (a new edition, a corrected export), the build fails with
a :class:`ClaimError` naming the chapter, the sentence and the figures, e.g.::

    chapitre 'ia' : la phrase « Les agents conversationnels … » n'est plus vraie :
    ia_techniques « Agents conversationnels » = 31 % (12 sur 39) n'est pas > ia_techniques
    « Modèles prédictifs » = 38 % (15 sur 39)

(the execution engine adds the notebook and the cell). A claim holds on the figures *as
printed* (rounded), so that a sentence never says "devant" between two equal printed values.

Conditions: comparisons of figures (``a > b``, ``a >= b``, ``a < b``, ``a <= b``) or of a
figure with a number of percent (``a > 25``); :meth:`Figure.ahead_of` (``significant=True``:
their intervals must not overlap); :meth:`Figure.between`; :meth:`Figure.worded` (the
French wording of :func:`analysis.report.wording.proportion` starts with the given words:
"plus d'un quart"); combined with ``&`` and ``|``; :func:`first_of` (the figure leads a
list).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from analysis.report import french as fmt
from analysis.report import wording


class ClaimError(AssertionError):
    """A checked sentence the data no longer support (names chapter, sentence, figures)."""


@dataclass(frozen=True)
class Figure:
    """One printed figure: a share of respondents (0–100) with what identifies it."""

    label: str
    pct: float
    base_n: int
    count: int
    #: Population interval (0–100) of the group, when the estimates give one.
    ci: tuple[float, float] | None = None
    reliable: bool = True

    @property
    def printed(self) -> int:
        return wording.printed(self.pct)

    def describe(self) -> str:
        return (
            f"{self.label} = {fmt.pct(self.pct)} ({fmt.num(self.count)} sur {fmt.num(self.base_n)})"
        )

    def __str__(self) -> str:
        return fmt.pct(self.pct)

    def __format__(self, spec: str) -> str:
        return str(self)

    # -- conditions -------------------------------------------------------------------------
    def _cmp(self, other: Figure | float, op: str) -> Condition:
        ops: dict[str, Callable[[int, float], bool]] = {
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
        }
        if isinstance(other, Figure):
            ok = ops[op](self.printed, other.printed)
            text = f"{self.describe()} {op} {other.describe()}"
            figs: tuple[Figure, ...] = (self, other)
        else:
            ok = ops[op](self.printed, float(other))
            text = f"{self.describe()} {op} {fmt.pct(other)}"
            figs = (self,)
        return Condition(ok, text, figs)

    def __gt__(self, other: Figure | float) -> Condition:  # type: ignore[override]
        return self._cmp(other, ">")

    def __ge__(self, other: Figure | float) -> Condition:  # type: ignore[override]
        return self._cmp(other, ">=")

    def __lt__(self, other: Figure | float) -> Condition:  # type: ignore[override]
        return self._cmp(other, "<")

    def __le__(self, other: Figure | float) -> Condition:  # type: ignore[override]
        return self._cmp(other, "<=")

    def between(self, low: float, high: float) -> Condition:
        ok = low <= self.printed <= high
        return Condition(ok, f"{self.describe()} entre {fmt.pct(low)} et {fmt.pct(high)}", (self,))

    def ahead_of(self, other: Figure, *, significant: bool = False) -> Condition:
        """Printed value above ``other``'s; ``significant``: their intervals do not overlap."""
        ok = self.printed > other.printed
        text = f"{self.describe()} devant {other.describe()}"
        if significant:
            if self.ci is None or other.ci is None:
                return Condition(False, text + " (pas d'intervalle pour en juger)", (self, other))
            ok = ok and wording.intervals_separate(self.ci, other.ci)
            text += (
                f", intervalles {fmt.ci(*self.ci)} et {fmt.ci(*other.ci)} disjoints"
                if ok
                else f", intervalles {fmt.ci(*self.ci)} et {fmt.ci(*other.ci)} qui se recouvrent"
            )
        return Condition(ok, text, (self, other))

    def worded(self, words: str, noun: wording.Noun = wording.STRUCTURE) -> Condition:
        """The share's French wording starts with ``words`` ("plus d'un quart")."""
        actual = wording.proportion(self.pct, noun).text
        ok = actual.startswith(words)
        return Condition(
            ok, f"{self.describe()} se dit « {words} » (calculé : « {actual} »)", (self,)
        )


@dataclass(frozen=True)
class Condition:
    """Whether a claim holds, and how to say so with the figures it compared."""

    holds: bool
    text: str
    figures: tuple[Figure, ...] = field(default=())

    def __bool__(self) -> bool:
        raise TypeError(
            "a claim's condition is checked by claims.check (or Chapter.claim), "
            "not by Python's if/and/or; combine conditions with & and |"
        )

    def __and__(self, other: Condition) -> Condition:
        return Condition(
            self.holds and other.holds,
            f"({self.text}) et ({other.text})",
            self.figures + other.figures,
        )

    def __or__(self, other: Condition) -> Condition:
        return Condition(
            self.holds or other.holds,
            f"({self.text}) ou ({other.text})",
            self.figures + other.figures,
        )

    def __invert__(self) -> Condition:
        return Condition(not self.holds, f"non ({self.text})", self.figures)


def first_of(figure: Figure, others: Sequence[Figure]) -> Condition:
    """``figure`` is strictly ahead of every one of ``others`` (printed values)."""
    behind = [o for o in others if o is not figure and o.printed >= figure.printed]
    rest = ", ".join(o.describe() for o in others if o is not figure)
    if behind:
        return Condition(
            False,
            f"{figure.describe()} en tête devant {rest} ; rattrapé par "
            + ", ".join(o.describe() for o in behind),
            (figure, *others),
        )
    return Condition(True, f"{figure.describe()} en tête devant {rest}", (figure, *others))


def check(chapter: str, sentence: str, condition: Condition) -> None:
    """Raise :class:`ClaimError` when ``condition`` does not hold."""
    if not isinstance(condition, Condition):
        raise TypeError(
            f"chapitre {chapter!r} : la phrase « {sentence} » doit déclarer sa condition "
            f"(une comparaison de chiffres), pas {type(condition).__name__}"
        )
    if not condition.holds:
        raise ClaimError(
            f"chapitre {chapter!r} : la phrase « {sentence} » n'est plus vraie : "
            f"la condition n'est pas remplie : {condition.text}. Réécrivez la phrase "
            "ou sa condition."
        )


def render(sentence: str, figures: dict[str, Figure | str]) -> str:
    """The sentence with its ``{name}`` placeholders replaced by the printed figures."""
    try:
        return sentence.format(**{k: str(v) for k, v in figures.items()})
    except KeyError as exc:
        raise ClaimError(
            f"la phrase « {sentence} » cite {{{exc.args[0]}}} sans le chiffre correspondant"
        ) from None
