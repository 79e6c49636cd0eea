"""French wording of findings: proportions, rankings, differences and evolutions.

A researcher writes "plus d'un quart des structures" or "une structure sur cinq" where a
reader would stumble on "27 %" alone. These helpers choose the words *from the number*, so
that the words stay true when the number changes (a new edition, a corrected export):

- :func:`proportion` — "près de la moitié des structures", "une structure sur cinq", "deux
  tiers des EPCI", "la quasi-totalité des régions". The wording is chosen on the percentage
  *as printed* (rounded half to even), so that a sentence never reads "plus d'un quart (25 %)".
  Every phrase is true of its number: "plus de X" means above X, "près de X" just below it
  (within 15 % of X, at most 5 points), "X" alone the printed value equals X.
- :func:`ranking` — "X arrive en tête (47 %), devant Y (30 %) et Z (12 %)"; :func:`ahead` —
  "X devant Y", or "X et Y à égalité" when their printed values are equal.
- :func:`difference` — two groups compared, "nettement plus souvent" only when the difference
  is significant (intervals or test given by the caller), otherwise "sans écart
  significatif".
- :func:`evolution` — "en hausse de 8 points depuis 2022 (39 % → 47 %)" when significant,
  "stable" otherwise.

Nouns: :class:`Noun` carries the singular, the plural and the gender
(``Noun("structure", "structures", feminine=True)``); :data:`STRUCTURE` is the default. The
phrase returned by :func:`proportion` knows whether its verb is singular ("une structure sur
cinq *a*") or plural ("la moitié des structures *ont*"): :meth:`Wording.verb`.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.report import french as fmt


class WordingError(ValueError):
    """A number or a request the wording helpers cannot put into words."""


@dataclass(frozen=True)
class Noun:
    singular: str
    plural: str
    feminine: bool = True

    @property
    def one(self) -> str:
        return "une" if self.feminine else "un"

    @property
    def none(self) -> str:
        return "aucune" if self.feminine else "aucun"

    @property
    def all(self) -> str:
        return "toutes" if self.feminine else "tous"

    def des(self) -> str:
        """ "des structures", "des EPCI"."""
        return f"des {self.plural}"


STRUCTURE = Noun("structure", "structures", True)
COLLECTIVITE = Noun("collectivité", "collectivités", True)
REPONDANT = Noun("répondant", "répondants", False)

#: Anchors: value (percent), kind, words. ``frac``: "un quart" + "des structures";
#: ``one_in``: "une structure sur cinq".
_ANCHORS: tuple[tuple[float, str, str], ...] = (
    (10.0, "one_in", "dix"),
    (20.0, "one_in", "cinq"),
    (25.0, "frac", "un quart"),
    (100.0 / 3.0, "frac", "un tiers"),
    (40.0, "n_in", "deux sur cinq"),
    (50.0, "frac", "la moitié"),
    (200.0 / 3.0, "frac", "deux tiers"),
    (75.0, "frac", "trois quarts"),
    (80.0, "n_in", "quatre sur cinq"),
    (90.0, "n_in", "neuf sur dix"),
)
#: From this printed value up (below 100), "la quasi-totalité".
QUASI_TOTAL = 95


@dataclass(frozen=True)
class Wording:
    """A proportion put into words: the phrase, its verb's number, and what it says."""

    text: str
    plural: bool
    #: The interval of printed percentages the phrase is true for (inclusive bounds).
    low: float
    high: float

    def verb(self, singular: str, plural: str) -> str:
        """The verb agreeing with the phrase: ``w.verb("a", "ont")``."""
        return plural if self.plural else singular

    def __str__(self) -> str:
        return self.text

    def cap(self) -> str:
        return self.text[:1].upper() + self.text[1:]


def printed(pct: float) -> int:
    """The percentage as the report prints it (rounded half to even, see ``french.pct``)."""
    value = fmt.round_half_even(pct, 0, what="wording")
    if value is None:
        raise WordingError(f"no wording for a missing percentage ({pct!r})")
    return int(value)


def _de(word: str) -> str:
    """ "de" + word with elision and contraction: "d'un quart", "de la moitié", "des deux tiers"."""
    if word.startswith(("un ", "une ")):
        return "d'" + word
    if word.startswith(("deux tiers", "trois quarts")):
        return "des " + word
    return "de " + word


def _phrase(kind: str, words: str, noun: Noun, prefix: str) -> tuple[str, bool]:
    """The anchor's phrase with its noun, and whether the verb is plural."""
    if kind == "one_in":
        core = f"{noun.one} {noun.singular} sur {words}"
        return (f"{prefix} {_de(core)}" if prefix else core), False
    if kind == "n_in":
        n, rest = words.split(" ", 1)
        core = f"{n} {noun.plural} {rest}"
        return (f"{prefix} {_de(core)}" if prefix else core), True
    core = f"{words} {noun.des()}"
    return (f"{prefix} {_de(core)}" if prefix else core), True


def proportion(pct: float, noun: Noun = STRUCTURE) -> Wording:
    """The share ``pct`` (0–100) of ``noun`` in words: "plus d'un quart des structures".

    The words are chosen on the printed (rounded) percentage: 0 → "aucune structure", 100 →
    "toutes les structures", ≥ 95 → "la quasi-totalité", below 8 → "moins d'une structure sur
    dix"; otherwise the anchor equal to the printed value ("la moitié des structures"), the
    next anchor up when the value is just below it ("près de la moitié", within 15 % of the
    anchor and 5 points), or the anchor just below ("plus d'un tiers").
    """
    if pct is None or pct != pct:
        raise WordingError("no wording for a missing percentage")
    if pct < 0 or pct > 100:
        raise WordingError(f"a percentage between 0 and 100 is expected, got {pct!r}")
    r = printed(pct)
    if pct == 0:
        return Wording(f"{noun.none} {noun.singular}", False, 0, 0)
    if pct == 100:
        return Wording(f"{noun.all} les {noun.plural}", True, 100, 100)
    if r >= QUASI_TOTAL:
        return Wording(f"la quasi-totalité {noun.des()}", True, QUASI_TOTAL, 100)
    for value, kind, words in _ANCHORS:
        if abs(r - value) < 1:  # "un tiers" for 33 % and 34 %
            text, plural = _phrase(kind, words, noun, "")
            return Wording(text, plural, value - 1, value + 1)
    # just below an anchor: "près de"
    for value, kind, words in _ANCHORS:
        if r > value:
            continue
        band = min(5.0, 0.15 * value)
        if value - band <= r < value:
            text, plural = _phrase(kind, words, noun, "près")
            return Wording(text, plural, value - band, value)
    below = [a for a in _ANCHORS if a[0] < r]
    if not below:
        # 0 < r < 10 and not "près d'une sur dix": fewer than one in ten
        text, _ = _phrase("one_in", "dix", noun, "moins")
        return Wording(text, False, 0, 10)
    value, kind, words = below[-1]
    text, plural = _phrase(kind, words, noun, "plus")
    nxt = [a[0] for a in _ANCHORS if a[0] > value] + [QUASI_TOTAL]
    return Wording(text, plural, value, nxt[0])


# -- rankings ------------------------------------------------------------------------------------
def _item(label: str, pct: float | None) -> str:
    return f"{label} ({fmt.pct(pct)})" if pct is not None else label


def ahead(
    first: tuple[str, float], second: tuple[str, float], *, significant: bool | None = None
) -> str:
    """ "X (47 %) devant Y (30 %)"; "X et Y à égalité (30 %)" when printed values are equal.

    ``significant=False`` (the caller's test or intervals do not separate them) words it
    "X (35 %) et Y (30 %), sans écart significatif".
    """
    (a, pa), (b, pb) = first, second
    if printed(pa) < printed(pb):
        raise WordingError(
            f"{a!r} ({fmt.pct(pa)}) is not ahead of {b!r} ({fmt.pct(pb)}); order them first"
        )
    if printed(pa) == printed(pb):
        return f"{a} et {b} à égalité ({fmt.pct(pa)})"
    if significant is False:
        return f"{_item(a, pa)} et {_item(b, pb)}, sans écart significatif"
    return f"{_item(a, pa)} devant {_item(b, pb)}"


def ranking(items: list[tuple[str, float]], *, top: int = 3, verb: str = "arrive") -> str:
    """ "X arrive en tête (47 %), devant Y (30 %) et Z (12 %)" — items sorted by value.

    Items whose printed values tie with the first are "en tête" together ("X et Y arrivent
    en tête (40 %)").
    """
    if not items:
        raise WordingError("no item to rank")
    ordered = sorted(items, key=lambda t: -t[1])[: max(top, 1)]
    lead = [t for t in ordered if printed(t[1]) == printed(ordered[0][1])]
    rest = ordered[len(lead) :]
    if len(lead) == 1:
        if lead[0][0].lower().startswith(("des ", "les ")):  # a plural subject
            verb = {"arrive": "arrivent", "est": "sont"}.get(verb, verb)
        head = f"{lead[0][0]} {verb} en tête ({fmt.pct(lead[0][1])})"
    else:
        plural = {"arrive": "arrivent", "est": "sont"}.get(verb, verb)
        head = f"{fmt.join_fr([t[0] for t in lead])} {plural} en tête ({fmt.pct(lead[0][1])})"
    if not rest:
        return head
    return f"{head}, devant {fmt.join_fr([_item(a, p) for a, p in rest])}"


# -- differences ---------------------------------------------------------------------------------
def intervals_separate(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """True when two confidence intervals do not overlap (a conservative difference)."""
    return a[1] < b[0] or b[1] < a[0]


def difference(
    first: tuple[str, float],
    second: tuple[str, float],
    *,
    significant: bool,
) -> str:
    """Two groups' shares compared: "plus souvent chez X (60 %) que chez Y (20 %)".

    ``significant``: whether the data separate them (non-overlapping intervals, a test). When
    they do not, the sentence says so instead of suggesting a difference.
    """
    (a, pa), (b, pb) = first, second
    if not significant:
        return f"sans écart significatif entre {_item(a, pa)} et {_item(b, pb)}"
    if printed(pa) == printed(pb):
        raise WordingError(f"{a!r} and {b!r} print the same value; no difference to word")
    more = "plus" if pa > pb else "moins"
    return f"nettement {more} souvent chez {_item(a, pa)} que chez {_item(b, pb)}"


def evolution(
    current: float,
    previous: float,
    *,
    previous_edition: int,
    significant: bool,
) -> str:
    """The change since the previous edition: "en hausse de 8 points depuis 2022 (39 % → 47 %)".

    Not significant: "stable depuis 2022 (39 % → 47 %, écart non significatif)" — never "en
    hausse" on a difference the data do not support.
    """
    diff = printed(current) - printed(previous)
    values = f"{fmt.pct(previous)} en {previous_edition}, {fmt.pct(current)} aujourd'hui"
    if not significant or diff == 0:
        return f"sans évolution significative depuis {previous_edition} ({values})"
    way = "hausse" if diff > 0 else "baisse"
    pts = "point" if abs(diff) == 1 else "points"
    return f"en {way} de {fmt.num(abs(diff))} {pts} depuis {previous_edition} ({values})"
