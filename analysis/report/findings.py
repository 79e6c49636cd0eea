"""The report's findings: what each section says, written from the estimates.

A :class:`Finding` names the figure a section rests on — one answer of one question (one row
of a matrix), or the leading answer of a question (``top``) — and the words around it. From
the chapter's estimates, :func:`lede` writes the section's title (it states the finding, e.g.
"Une structure sur cinq a déjà subi une cyberattaque importante") and its 2–4 sentences:

1. the level, as a share of respondents with its population named ("21 % des 191 structures
   répondantes");
2. the differences between types of structure, only where their population intervals do not
   overlap (types with at least :data:`MIN_TYPE_N` respondents), otherwise that the
   differences stay within the uncertainty;
3. a population estimate, only where the estimates mark it ``reliable``, with its interval
   and its population named;
4. the evolution since the previous edition, only where the codebook marks the pair
   comparable, with the answer and the population compared named.

The number of sentence 1 is the one the section's chart shows (its ``Ensemble`` value) and the
one the introduction's key findings give: one number per finding.

Title templates: ``{Part}`` / ``{part}`` — the proportion in words
(:func:`analysis.report.wording.proportion`), ``{v:a|ont}`` — the verb agreeing with it,
``{top}`` / ``{Top}`` — the leading answer (``top`` findings).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from analysis.report import french as fmt
from analysis.report import wording
from analysis.survey.strata import STRATA

#: Types of structure with fewer respondents are not compared in prose (and pale in charts).
MIN_TYPE_N = 10
#: The types of structure (strata) a finding compares, in report order.
TYPES: tuple[str, ...] = STRATA
#: French names of the types in prose ("chez les métropoles").
TYPE_NAMES: dict[str, str] = {
    "commune_lt_3500": "les communes de moins de 3 500 habitants",
    "commune_3500_10000": "les communes de 3 500 à 10 000 habitants",
    "commune_10000_100000": "les communes de 10 000 à 100 000 habitants",
    "commune_ge_100000": "les communes de 100 000 habitants ou plus",
    "epci": "les EPCI (hors métropoles)",
    "metropole": "les métropoles",
    "departement": "les départements",
    "region": "les régions",
    "autre": "les autres structures",
}
#: Population of the population estimates, in prose.
POPULATIONS: dict[str, str] = {
    "ensemble": "l'ensemble des collectivités",
    "hors_communes_lt_3500": "l'ensemble des collectivités hors communes de moins de 3 500 habitants",
}


class FindingError(ValueError):
    """A finding that does not match the codebook or the estimates."""


@dataclass(frozen=True)
class Finding:
    """One section's finding. ``option``: the answer; ``item``: the matrix row (or ``top``)."""

    id: str
    chapter: str
    question: str
    option: str
    title: str
    #: What the respondents giving the answer do, after "21 % des 191 structures répondantes".
    says: str
    item: str = ""
    #: "share": the answer's share; "top": the answer (or matrix row) cited most often.
    kind: str = "share"
    #: Who was asked, when not every respondent ("structures ayant mené un projet d'IA").
    base: str = "structures répondantes"
    #: Among the chapter's key points (« L'essentiel ») and, with ``intro``, the introduction.
    key: bool = False
    intro: bool = False
    #: Short label of the key findings' table ("ont défini des règles de gouvernance").
    label: str = ""


# -- figures ---------------------------------------------------------------------------------------
def _rows(est, qid: str, group: str):
    sub = est[(est["question_id"] == qid) & (est["stratum"] == group)]
    if sub.empty:
        raise FindingError(f"no estimates for question {qid!r} and group {group!r}")
    return sub


def resolve(ch: Any, f: Finding) -> tuple[str, str]:
    """The (item, option) the finding rests on; for ``top`` findings, the leading one."""
    if f.kind == "share":
        return f.item, f.option
    sub = _rows(ch.estimates, f.question, "ensemble")
    q = ch.codebook[f.question]
    if q.type in ("matrix", "ranking"):
        cand = sub[sub["option"] == f.option]
        cand = cand[cand["item"] != ""]
    else:
        cand = sub[~sub["option"].isin(["sans réponse", "Je ne sais pas"])]
    if cand.empty:
        raise FindingError(f"finding {f.id!r}: no answer {f.option!r} in {f.question!r}")
    best = cand.sort_values("pct", ascending=False, kind="stable").iloc[0]
    return str(best["item"]), str(best["option"])


def figure(
    ch: Any, f: Finding, group: str = "ensemble", item: str | None = None, option: str | None = None
):
    """The finding's figure in one group, as a :class:`analysis.report.claims.Figure`."""
    from analysis.report.claims import Figure

    it, opt = resolve(ch, f)
    it = it if item is None else item
    opt = opt if option is None else option
    sub = _rows(ch.estimates, f.question, group)
    row = sub[(sub["item"] == it) & (sub["option"] == opt)]
    if row.empty:
        raise FindingError(
            f"finding {f.id!r}: question {f.question!r} has no answer {opt!r} (item {it!r}); "
            f"expected one of {sorted(set(sub['option']))}"
        )
    r = row.iloc[0]
    ci = _population_ci(r)
    label = f"{f.question} « {it + ' — ' if it else ''}{opt} » ({group})"
    return Figure(
        label=label,
        pct=float(r["pct"]),
        base_n=int(r["base_n"]),
        count=int(r["count"]),
        ci=ci,
        reliable=bool(r["reliable"])
        if "reliable" in r.index and r["reliable"] == r["reliable"]
        else False,
    )


def _population_ci(r) -> tuple[float, float] | None:
    """The design-based population interval of a row, when the estimates give one.

    Only intervals of the design-based estimates (``ci_method`` set) count: the Wilson
    interval on the Kish size of the published method's weights describes another population.
    """
    if "ci_method" not in r.index or not isinstance(r["ci_method"], str) or not r["ci_method"]:
        return None
    lo, hi = r.get("ci_low"), r.get("ci_high")
    if fmt.is_missing(lo) or fmt.is_missing(hi):
        return None
    return float(lo), float(hi)


# -- words -----------------------------------------------------------------------------------------
_VERB = re.compile(r"\{v:([^|{}]*)\|([^|{}]*)\}")


def fill(
    template: str, pct: float, *, top: str = "", noun: wording.Noun = wording.STRUCTURE
) -> str:
    """A title template with its proportion, verb and leading answer filled in."""
    w = wording.proportion(pct, noun)
    text = _VERB.sub(lambda m: w.verb(m.group(1), m.group(2)), template)
    top_text = _short(top)
    return (
        text.replace("{Part}", w.cap())
        .replace("{part}", w.text)
        .replace("{Top}", top_text[:1].upper() + top_text[1:])
        .replace(
            "{top}",
            top_text[:1].lower() + top_text[1:]
            if top_text[:2] != top_text[:2].upper()
            else top_text,
        )
    )


def _short(label: str) -> str:
    """An answer label without its parenthesis or explanation: "Modèles prédictifs"."""
    text = re.split(r" \(| : ", str(label), maxsplit=1)[0]
    return text.strip()


def leaders(ch: Any, f: Finding) -> list[str]:
    """The answers (or matrix rows) tied in the lead once printed, for a ``top`` finding."""
    item, option = resolve(ch, f)
    if f.kind != "top":
        return [item or option]
    sub = _rows(ch.estimates, f.question, "ensemble")
    q = ch.codebook[f.question]
    if q.type in ("matrix", "ranking"):
        cand = sub[(sub["option"] == option) & (sub["item"] != "")]
        names = list(cand["item"])
    else:
        cand = sub[~sub["option"].isin(["sans réponse", "Je ne sais pas"])]
        names = list(cand["option"])
    best = wording.printed(float(cand["pct"].max()))
    return [n for n, p in zip(names, cand["pct"], strict=True) if wording.printed(float(p)) == best]


def title(ch: Any, f: Finding) -> str:
    """The section's title; a ``top`` finding names every answer tied in the lead."""
    fig = figure(ch, f)
    tied = [_short(n) for n in leaders(ch, f)]
    top = tied[0] if len(tied) == 1 else fmt.join_fr([tied[0]] + [_lower(t) for t in tied[1:]])
    return fmt.typo(fill(f.title, fig.pct, top=top))


def level_sentence(ch: Any, f: Finding) -> str:
    """ "21 % des 191 structures répondantes ont déjà dû faire face à … (40 sur 191)." """
    fig = figure(ch, f)
    if f.kind == "top":
        q = ch.codebook[f.question]
        item, option = resolve(ch, f)
        sub = _rows(ch.estimates, f.question, "ensemble")
        if q.type in ("matrix", "ranking"):
            cand = sub[(sub["option"] == option) & (sub["item"] != "")]
            names = list(cand["item"])
        else:
            cand = sub[~sub["option"].isin(["sans réponse", "Je ne sais pas"])]
            names = list(cand["option"])
        items = [(_lower(_short(n)), float(p)) for n, p in zip(names, cand["pct"], strict=True)]
        text = wording.ranking(items, top=3)
        return fmt.typo(f"Parmi les {fmt.num(fig.base_n)} {f.base}, {text} ({f.says}).")
    if fig.base_n == 0:
        return ""
    return fmt.typo(f"{fmt.pct(fig.pct)} des {fmt.num(fig.base_n)} {f.base} {f.says}.")


_ARTICLES = ("Le ", "La ", "Les ", "L’", "L'", "Un ", "Une ", "Des ", "D’", "D'")


def _decap(text: str) -> str:
    """Lower-case a capitalised first word after a colon ("En 2022" → "en 2022"), not an acronym."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _lower(text: str) -> str:
    """Lower-case an opening article ("Le manque…" → "le manque…"), not a name."""
    return text[:1].lower() + text[1:] if text.startswith(_ARTICLES) else text


def types_sentence(ch: Any, f: Finding) -> str:
    """The difference between types of structure, where their intervals support it.

    Only for a finding whose chart is drawn by type (a single-choice share), so that every
    number of the sentence is one the reader sees in the chart.
    """
    if f.kind != "share" or ch.codebook[f.question].type != "single":
        return ""
    figs = []
    groups = set(ch.estimates["stratum"])
    for s in TYPES:
        if s not in groups:
            continue
        fig = figure(ch, f, s)
        # types with a population interval ("autre" has no frame) and enough respondents
        if fig.base_n >= MIN_TYPE_N and fig.ci is not None:
            figs.append((s, fig))
    if len(figs) < 2:
        return ""
    hi_s, hi = max(figs, key=lambda t: t[1].pct)
    lo_s, lo = min(figs, key=lambda t: t[1].pct)
    if hi.printed == lo.printed:
        return ""
    if wording.intervals_separate(hi.ci, lo.ci):
        return fmt.typo(
            f"La part est nettement plus élevée chez {TYPE_NAMES[hi_s]} ({fmt.pct(hi.pct)}, "
            f"{fmt.num(hi.count)} sur {fmt.num(hi.base_n)}) que chez {TYPE_NAMES[lo_s]} "
            f"({fmt.pct(lo.pct)}, {fmt.num(lo.count)} sur {fmt.num(lo.base_n)})."
        )
    return fmt.typo(
        f"Elle va de {fmt.pct(lo.pct)} chez {TYPE_NAMES[lo_s]} à {fmt.pct(hi.pct)} chez "
        f"{TYPE_NAMES[hi_s]}, des écarts qui restent dans les marges d'incertitude."
    )


def population_sentence(ch: Any, f: Finding) -> str:
    """The population estimate, only where it is reliable (interval and population named)."""
    est = ch.estimates
    if "reliable" not in est.columns or f.kind != "share":
        return ""
    for group in ("hors_communes_lt_3500", "ensemble"):
        if group not in set(est["stratum"]):
            continue
        sub = _rows(est, f.question, group)
        row = sub[(sub["item"] == f.item) & (sub["option"] == f.option)]
        if row.empty:
            continue
        r = row.iloc[0]
        if r["reliable"] is True or r["reliable"] == True:  # noqa: E712 (numpy bool)
            ci = _population_ci(r)
            if ci is None or fmt.is_missing(r.get("weighted_pct")):
                continue
            return fmt.typo(
                f"Rapportée à {POPULATIONS[group]}, cette part est estimée à "
                f"{fmt.pct(r['weighted_pct'])} (intervalle de confiance à 95 % : "
                f"{fmt.pct(ci[0])} à {fmt.pct(ci[1])})."
            )
    return ""


def comparability(ch: Any, qid: str) -> tuple[str, str]:
    """The codebook's (comparable, why) of a question; ("", "") without a crosswalk."""
    q = ch.codebook[qid]
    prev = q.previous
    if prev is None:
        return "", ""
    return getattr(prev, "comparable", "yes") or "yes", getattr(prev, "comparable_why", "") or ""


def evolution_row(ch: Any, f: Finding, group: str = "hors_communes_lt_3500"):
    """The comparison row of the finding's answer, or None (not comparable, no data)."""
    comparable, _ = comparability(ch, f.question)
    if comparable in ("", "no"):
        return None
    cmp = ch.comparison
    if cmp is None:
        return None
    item, option = resolve(ch, f)
    rows = cmp[(cmp["question_id"] == f.question) & (cmp["stratum"] == group)]
    rows = rows[
        (rows["item"] == item) & rows["option"].str.split(" \\+ ").map(lambda o: option in o)
    ]
    if rows.empty:
        return None
    return rows.iloc[0]


def evolution_sentence(ch: Any, f: Finding) -> str:
    comparable, why = comparability(ch, f.question)
    prev_ed = ch.previous_edition
    if comparable == "" or not prev_ed or not getattr(ch, "previous_path", None):
        return ""  # no previous edition to compare with
    if comparable == "no":
        return fmt.typo(f"Pas de comparaison avec {prev_ed} : {_decap(why.rstrip('.'))}.")
    r = evolution_row(ch, f)
    if r is None or bool(r["suppressed"]):
        return ""
    group = "hors communes de moins de 3 500 habitants"
    change = wording.evolution(
        float(r["pct"]),
        float(r["previous_pct"]),
        previous_edition=prev_ed,
        significant=bool(r["significant"]),
    )
    text = (
        f"Parmi les structures répondantes {group} ({fmt.num(int(r['base_n']))} en "
        f"{ch.edition}, {fmt.num(int(r['previous_base_n']))} en {prev_ed}), la part de "
        f"« {_short(r['option'])} » est {change}."
    )
    if comparable == "wording":
        text += f" Comparaison à lire avec prudence : {_decap(why.rstrip('.'))}."
    return fmt.typo(text)


def lede(ch: Any, f: Finding) -> tuple[str, list[str]]:
    """The section's title and its sentences (level, types, population, evolution)."""
    sentences = [
        level_sentence(ch, f),
        types_sentence(ch, f),
        population_sentence(ch, f),
        evolution_sentence(ch, f),
    ]
    return title(ch, f), [s for s in sentences if s]


def key_point(ch: Any, f: Finding) -> str:
    """One line of « L'essentiel »: the finding in words and its number."""
    fig = figure(ch, f)
    item, option = resolve(ch, f)
    head = title(ch, f)
    return fmt.typo(f"**{head}** ({fmt.pct(fig.pct)} des {fmt.num(fig.base_n)} {f.base}).")


def key_findings(ch: Any, findings: list[Finding]) -> list[dict]:
    """Rows of the key findings: finding, its number, the previous edition's value if comparable."""
    out = []
    for f in findings:
        fig = figure(ch, f)
        item, option = resolve(ch, f)
        comparable, why = comparability(ch, f.question)
        row = {
            "id": f.id,
            "chapter": f.chapter,
            "question_id": f.question,
            "item": item,
            "option": option,
            "label": f.label or f.says,
            "title": title(ch, f),
            "pct": fig.pct,
            "count": fig.count,
            "base_n": fig.base_n,
            "base": f.base,
            "comparable": comparable,
            "comparable_why": why,
            "previous_edition": ch.previous_edition,
            "previous_pct": None,
            "previous_base_n": None,
            "comparison_pct": None,
            "comparison_base_n": None,
            "significant": None,
        }
        r = evolution_row(ch, f)
        if r is not None and not bool(r["suppressed"]):
            row.update(
                previous_pct=float(r["previous_pct"]),
                previous_base_n=int(r["previous_base_n"]),
                comparison_pct=float(r["pct"]),
                comparison_base_n=int(r["base_n"]),
                significant=bool(r["significant"]),
            )
        out.append(row)
    return out


# -- the 2023 findings -------------------------------------------------------------------------------
_F = Finding
PREVU = "Non, mais c’est prévu dans les 12 prochains mois"
#: Every section's finding, chapter by chapter, in the order of the chapters' sections.
FINDINGS: tuple[Finding, ...] = (
    # motivations
    _F(
        "priorites",
        "motivations",
        "priorites",
        "rang 1",
        "{Top}, première priorité pour utiliser davantage les données",
        "la classent en premier",
        kind="top",
        key=True,
        label="priorité classée première",
    ),
    _F(
        "projets_domaines",
        "motivations",
        "projets_domaines",
        "Oui, au cours des deux dernières années",
        "{Top} : le domaine où les projets data sont les plus fréquents",
        "y ont engagé un projet au cours des deux dernières années",
        kind="top",
        key=True,
    ),
    _F(
        "acculturation",
        "motivations",
        "acculturation",
        "Le niveau est insuffisant : le sujet n’est identifié que par quelques experts",
        "{Part} {v:juge|jugent} insuffisante leur acculturation aux enjeux des données",
        "jugent le niveau d’acculturation de leur structure insuffisant, le sujet n’étant identifié "
        "que par quelques experts",
        key=True,
        intro=True,
        label="jugent insuffisante l’acculturation de leur structure aux données",
    ),
    _F(
        "obstacles",
        "motivations",
        "obstacles",
        "",
        "{Top}, premier obstacle aux outils innovants",
        "plusieurs réponses possibles",
        kind="top",
        key=True,
    ),
    # organisation
    _F(
        "directions_implication",
        "organisation",
        "directions_implication",
        "Fonction leader",
        "{Top} : la direction le plus souvent en tête sur la donnée",
        "part des structures où chaque direction a une fonction leader",
        kind="top",
        key=True,
    ),
    _F(
        "fonctions_data",
        "organisation",
        "fonctions_data",
        "Existe",
        "{Top} : la fonction consacrée à la donnée la plus répandue",
        "part des structures où elle existe",
        kind="top",
    ),
    _F(
        "formation_besoins",
        "organisation",
        "formation_besoins",
        "",
        "{Top}, premier besoin de formation",
        "plusieurs réponses possibles",
        kind="top",
    ),
    _F(
        "partenaires",
        "organisation",
        "partenaires",
        "Je le fais déjà",
        "{Top}, partenaire le plus fréquent",
        "part des structures qui collaborent déjà avec lui",
        kind="top",
    ),
    _F(
        "hebergement",
        "organisation",
        "hebergement",
        "Sur des serveurs internes",
        "{Part} {v:héberge|hébergent} surtout leurs données sur des serveurs internes",
        "hébergent leurs données majoritairement sur des serveurs internes",
        key=True,
        intro=True,
        label="hébergent leurs données surtout sur des serveurs internes",
    ),
    _F(
        "technologies",
        "organisation",
        "technologies",
        "En place",
        "{Top} : la technologie la plus souvent en place",
        "part des structures où elle est en place",
        kind="top",
    ),
    _F(
        "technologies_mutualisees",
        "organisation",
        "technologies_mutualisees",
        "En place",
        "{Top} : la technologie mutualisée la plus répandue",
        "part des structures où elle est en place",
        kind="top",
    ),
    _F(
        "logiciels_choix",
        "organisation",
        "logiciels_choix",
        "Fait le choix de logiciels français ou européen à chaque fois que c’est possible",
        "{Part} {v:choisit|choisissent} des logiciels français ou européens dès que possible",
        "choisissent des logiciels français ou européens à chaque fois que c’est possible",
        key=True,
        label="choisissent des logiciels français ou européens dès que possible",
    ),
    _F(
        "open_source",
        "organisation",
        "open_source",
        "La structure privilégie systématiquement l’open source",
        "{Part} {v:privilégie|privilégient} systématiquement l’open source",
        "privilégient systématiquement l’open source lorsqu’une alternative existe",
    ),
    _F(
        "reversibilite",
        "organisation",
        "reversibilite",
        "La structure privilégie systématiquement les solutions qui garantissent la récupération des données",
        "{Part} {v:exige|exigent} systématiquement de pouvoir récupérer leurs données",
        "privilégient systématiquement les solutions qui garantissent la récupération des données",
    ),
    # gouvernance
    _F(
        "rgpd_conformite",
        "gouvernance",
        "rgpd_conformite",
        "Oui, tout à fait",
        "{Part} se {v:dit|disent} tout à fait en conformité avec le RGPD",
        "se disent tout à fait en conformité avec le RGPD",
        key=True,
    ),
    _F(
        "dpo_nomme",
        "gouvernance",
        "dpo_nomme",
        "Oui, en interne",
        "{Part} {v:a|ont} nommé un délégué à la protection des données en interne",
        "ont nommé leur DPO en interne",
    ),
    _F(
        "rgpd_processus",
        "gouvernance",
        "rgpd_processus",
        "Oui",
        "{Part} {v:a|ont} modifié leurs processus pour respecter le RGPD",
        "ont modifié des processus de gestion des données pour respecter le RGPD",
    ),
    _F(
        "souverainete_politique",
        "gouvernance",
        "souverainete_politique",
        "Oui",
        "{Part} {v:a|ont} une politique de souveraineté sur les données",
        "ont défini une politique de souveraineté publique sur les données",
    ),
    _F(
        "clauses_juridiques",
        "gouvernance",
        "clauses_juridiques",
        "Oui",
        "{Part} {v:prévoit|prévoient} des clauses sur les données dans leurs contrats",
        "ont mis en place des clauses juridiques sur la gestion des données dans leurs contrats",
    ),
    _F(
        "clauses_domaines",
        "gouvernance",
        "clauses_domaines",
        "",
        "{Top} : premier objet de ces clauses",
        "plusieurs réponses possibles",
        kind="top",
        base="structures ayant mis en place des clauses",
    ),
    _F(
        "gouvernance_regles",
        "gouvernance",
        "gouvernance_regles",
        "Oui",
        "{Part} {v:a|ont} défini des règles de gouvernance de la donnée",
        "ont défini des règles de gouvernance de la donnée",
        key=True,
        intro=True,
        label="ont défini des règles de gouvernance de la donnée",
    ),
    _F(
        "gouvernance_regles_types",
        "gouvernance",
        "gouvernance_regles_types",
        "",
        "{Top} : la règle la plus fréquente",
        "plusieurs réponses possibles",
        kind="top",
        base="structures ayant défini des règles",
    ),
    _F(
        "acteurs_externes",
        "gouvernance",
        "acteurs_externes",
        "D’autres acteurs publics",
        "{Part} {v:associe|associent} d’autres acteurs publics à leurs règles",
        "y ont associé d’autres acteurs publics",
        base="structures ayant défini des règles",
    ),
    _F(
        "charte_ethique",
        "gouvernance",
        "charte_ethique",
        "Oui",
        "{Part} {v:a|ont} adopté une charte éthique de la donnée",
        "ont adopté une charte éthique de la donnée",
        key=True,
    ),
    _F(
        "partage_prives",
        "gouvernance",
        "partage_prives",
        "Oui",
        "{Top} : la forme de partage avec le privé la plus répandue",
        "part des structures qui la pratiquent",
        kind="top",
    ),
    _F(
        "opendata_obligations",
        "gouvernance",
        "opendata_obligations",
        "Oui",
        "{Part} {v:estime|estiment} leurs services bien informés des obligations d’open data",
        "jugent leurs services bien informés des obligations d’open data",
        key=True,
        intro=True,
        label="jugent leurs services bien informés des obligations d’open data",
    ),
    _F(
        "transparence_algo_info",
        "gouvernance",
        "transparence_algo_info",
        "Oui",
        "{Part} se {v:dit bien informée|disent bien informées} de la transparence algorithmique",
        "jugent leurs services bien informés de l’obligation de transparence algorithmique",
    ),
    _F(
        "transparence_algo_actions",
        "gouvernance",
        "transparence_algo_actions",
        "Oui",
        "{Part} {v:a|ont} agi pour la transparence algorithmique",
        "ont conduit des actions pour mettre en œuvre la transparence algorithmique",
    ),
    # environnement
    _F(
        "numerique_responsable",
        "environnement",
        "numerique_responsable",
        "Oui, et la stratégie a déjà été adoptée",
        "{Part} {v:a|ont} déjà adopté une stratégie numérique responsable",
        "ont déjà adopté une stratégie numérique responsable",
        key=True,
        intro=True,
        label="ont adopté une stratégie numérique responsable",
    ),
    _F(
        "nr_thematiques",
        "environnement",
        "nr_thematiques",
        "",
        "{Top} : le thème le plus souvent abordé",
        "plusieurs réponses possibles",
        kind="top",
        key=True,
    ),
    _F(
        "nr_inclusion",
        "environnement",
        "nr_inclusion",
        "",
        "{Top} : première action d’inclusion",
        "plusieurs réponses possibles",
        kind="top",
        base="structures dont la stratégie aborde l’inclusion ou l’accessibilité",
    ),
    _F(
        "environnement_outil",
        "environnement",
        "environnement_outil",
        "Oui tout à fait : c’est un outil prioritaire",
        "{Part} {v:voit|voient} dans la donnée un outil prioritaire pour l’environnement",
        "voient dans la maîtrise de la donnée un outil prioritaire pour les enjeux environnementaux",
        key=True,
        label="voient la donnée comme un outil prioritaire pour l’environnement",
    ),
    # ia
    _F(
        "ia_projets",
        "ia",
        "ia_projets",
        "Oui",
        "{Part} {v:a|ont} déjà mené un projet d’intelligence artificielle",
        "ont déjà mis en place des projets ou expérimentations d’intelligence artificielle",
        key=True,
        intro=True,
        label="ont déjà mené des projets d’intelligence artificielle",
    ),
    _F(
        "ia_techniques",
        "ia",
        "ia_techniques",
        "",
        "{Top} en tête des techniques employées",
        "plusieurs réponses possibles",
        kind="top",
        key=True,
        base="structures ayant mené un projet d’IA",
    ),
    _F(
        "ia_domaines",
        "ia",
        "ia_domaines",
        "",
        "{Top} : premier domaine des projets d’IA",
        "plusieurs réponses possibles",
        kind="top",
        base="structures ayant mené un projet d’IA",
    ),
    _F(
        "ia_envisage",
        "ia",
        "ia_envisage",
        "Oui",
        "{Part} {v:envisage|envisagent} un projet d’IA dans les douze mois",
        "envisagent de déployer des projets d’IA dans les 12 prochains mois",
        key=True,
    ),
    _F(
        "ia_envisage_techniques",
        "ia",
        "ia_envisage_techniques",
        "",
        "{Top} en tête des techniques envisagées",
        "plusieurs réponses possibles",
        kind="top",
        base="structures envisageant un projet d’IA",
    ),
    _F(
        "ia_envisage_domaines",
        "ia",
        "ia_envisage_domaines",
        "",
        "{Top} : premier domaine des projets d’IA envisagés",
        "plusieurs réponses possibles",
        kind="top",
        base="structures envisageant un projet d’IA",
    ),
    # cybersecurite
    _F(
        "cyber_attaque_subie",
        "cybersecurite",
        "cyber_attaque_subie",
        "Oui",
        "{Part} {v:a|ont} déjà subi une cyberattaque importante",
        "ont déjà dû faire face à une cyberattaque importante",
        key=True,
        intro=True,
        label="ont déjà subi une cyberattaque importante",
    ),
    _F(
        "cyber_exposition",
        "cybersecurite",
        "cyber_exposition",
        "Oui, de façon continue",
        "{Part} se {v:sent exposée|sentent exposées} en continu aux attaques",
        "se pensent exposées de façon continue à des attaques cyber",
        key=True,
    ),
    _F(
        "cyber_risque_niveau",
        "cybersecurite",
        "cyber_risque_niveau",
        "Le niveau est bon : une stratégie est en place avec un budget dédié",
        "{Part} {v:a|ont} une stratégie cyber dotée d’un budget",
        "jugent bon leur niveau de prise en compte du risque cyber, avec une stratégie et un "
        "budget dédié",
        key=True,
    ),
    _F(
        "cyber_obstacles",
        "cybersecurite",
        "cyber_obstacles",
        "",
        "{Top}, premier obstacle à la sécurité",
        "plusieurs réponses possibles",
        kind="top",
    ),
    _F(
        "cyber_mesures",
        "cybersecurite",
        "cyber_mesures",
        "Oui",
        "{Top} : la mesure de sécurité la plus répandue",
        "part des structures qui l’ont mise en place",
        kind="top",
    ),
)


def of_chapter(chapter: str) -> list[Finding]:
    return [f for f in FINDINGS if f.chapter == chapter]


def get(finding_id: str) -> Finding:
    for f in FINDINGS:
        if f.id == finding_id:
            return f
    raise FindingError(f"no finding {finding_id!r}; expected one of {[f.id for f in FINDINGS]}")
