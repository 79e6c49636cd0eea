"""What a chapter says: findings, « L'essentiel », checked claims, compact tables, annex.

Mixed into :class:`analysis.report.chapter.Chapter`; each method displays one thing in the
notebook, with every number taken from the chapter's estimates:

- ``r.essentiel()`` — the box « L'essentiel » of the chapter's 3–4 key findings;
- ``r.finding(id)`` — a section's title stating its finding and its 2–4 sentences
  (:mod:`analysis.report.findings`), with the question text once;
- ``r.chart(id)`` — the section's one chart: the finding's answer by type of structure (with
  population intervals and counts) for a single-choice share, the distribution otherwise;
- ``r.compact(qid)`` — the question's compact table (answer, share, respondents), rows in the
  chart's order;
- ``r.share(qid, option, item, group)`` and ``r.claim(sentence, condition, **figures)`` — a
  hand-written sentence checked at build time (:mod:`analysis.report.claims`);
- ``r.evolutions()`` — the chapter's comparisons with the previous edition in one table,
  comparable pairs only, the others listed with the reason;
- ``r.annex()`` — every question of the chapter by type of structure (the cross-tabulation);
- ``r.key_findings()`` — rows of the key findings (the introduction and the home page).
"""

from __future__ import annotations

from typing import Any

from analysis.report import claims
from analysis.report import findings as F
from analysis.report import french as fmt
from analysis.report.tables import pipe_table

#: Estimates' statistic rows (not percentages).
_STATISTICS = ("rang moyen", "moyenne", "médiane")
_NEUTRAL = ("Je ne sais pas", "sans réponse")


def _md(text: str) -> None:
    from IPython.display import display

    display({"text/markdown": text, "text/plain": text}, raw=True)


def _slug(text: str) -> str:
    import re
    import unicodedata

    t = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", t).strip("-")[:40]


def _squash(text: str) -> str:
    return " ".join(str(text).split())


class Narrative:
    """Findings, key points, checked claims, compact tables and the annex of a chapter."""

    # provided by Chapter: name, edition, previous_edition, codebook, estimates, comparison,
    # groups, scope, n, _show_figure, too_small, too_small_notice, _placeholder

    # -- findings ---------------------------------------------------------------------------------
    def findings(self) -> list[F.Finding]:
        """The chapter's findings (all of them for the introduction)."""
        every = (
            list(F.FINDINGS)
            if self.name in ("contexte", "introduction")
            else F.of_chapter(self.name)
        )
        # a new edition may no longer ask some questions: the chapter's key points, evolutions
        # and key findings keep those it asks (a section naming a dropped one fails, see finding)
        return [f for f in every if f.question in self.codebook]

    def finding(self, finding_id: str) -> None:
        """A section: its title (the finding), the question once, then its sentences."""
        f = F.get(finding_id)
        q = self.question(f.question)  # names the edition and what to do when it is not asked
        if self.too_small:
            _md(fmt.typo(f"## {_squash(q.text)}\n\n{self.too_small_notice()}"))
            return
        head, sentences = F.lede(self, f)
        text = f"## {head}\n\n" + " ".join(sentences)
        text += f"\n\n*Question : « {_squash(q.text)} »*"
        _md(fmt.typo(text))

    def essentiel(self) -> None:
        """The box « L'essentiel »: the chapter's 3–4 key findings, one line each."""
        if self.too_small:  # nothing publishable: the chapter's header says why
            return
        keys = [f for f in self.findings() if f.key][:4]
        if not keys:
            return
        lines = [f"- {F.key_point(self, f)}" for f in keys]
        _md(
            '::: {.callout-note appearance="simple"}\n**L’essentiel**\n\n'
            + "\n".join(lines)
            + "\n:::"
        )

    def key_findings(self, intro: bool | None = None) -> list[dict]:
        """Rows of the key findings with the previous edition's value where comparable.

        ``intro=None``: the introduction's 6–8 findings for the introduction chapter
        ("contexte"), the chapter's key findings otherwise. Each row: ``label``, ``title``,
        ``pct``, ``count``, ``base_n``, ``base``, ``comparable``, ``comparable_why``,
        ``previous_edition``, ``previous_pct`` / ``previous_base_n`` and ``comparison_pct`` /
        ``comparison_base_n`` (the base the editions are compared on: structures excluding
        communes under 3 500 inhabitants), ``significant``.
        """
        if intro is None:
            intro = self.name in ("contexte", "introduction")
        chosen = [f for f in self.findings() if (f.intro if intro else f.key)]
        return F.key_findings(self, chosen)

    def key_findings_table(self) -> None:
        """The introduction's key findings, each with the previous edition's value beside it."""
        if self.too_small:  # nothing publishable: the chapter's header says why
            return
        from analysis.report.tables import show_table

        prev = self.previous_edition if self.previous_path else None
        rows = []
        for k in self.key_findings(intro=True):
            now = f"{fmt.pct(k['pct'])} ({fmt.num(k['count'])} sur {fmt.num(k['base_n'])})"
            if prev is None:
                then = "–"
            elif k["comparable"] in ("", None):
                then = "question nouvelle"
            elif k["comparable"] == "no":
                then = "non comparable"
            elif k["previous_pct"] is None:
                then = "–"
            else:
                then = f"{fmt.pct(k['previous_pct'])} → {fmt.pct(k['comparison_pct'])}" + (
                    " (écart significatif)" if k["significant"] else " (écart non significatif)"
                )
                if k["comparable"] == "wording":
                    then += " ¹"
            rows.append([fmt.cap(k["label"]), now, then])
        header = [
            "Part des structures répondantes qui…",
            f"{self.edition}",
            f"{prev or 'Édition précédente'} → {self.edition}, hors communes "
            f"<{fmt.NBSP}{fmt.num(3500)}{fmt.NBSP}hab.",
        ]
        md = pipe_table(header, rows, "lrr")
        caption = (
            f"Chiffres clés {self.edition} : part des {fmt.num(self.n)} structures répondantes"
        )
        if prev:
            caption += (
                f" ; évolution depuis {prev} sur les structures répondantes hors communes de "
                f"moins de {fmt.num(3500)} habitants (¹ : question reformulée, voir le chapitre)"
            )
        show_table(md, caption, "tbl-chiffres-cles")

    # -- checked claims -----------------------------------------------------------------------------
    def share(
        self, qid: str, option: str, item: str = "", group: str = "ensemble"
    ) -> claims.Figure:
        """One answer's share of respondents in a group, for a checked claim."""
        f = F.Finding("_", self.name, qid, option, "", "", item=item)
        return F.figure(self, f, group)

    def claim(self, sentence: str, condition: claims.Condition, **figures: Any) -> None:
        """Display ``sentence`` (``{name}`` = a figure) if ``condition`` holds; else fail the build."""
        if self.too_small:  # no figure is published, so no claim is made
            return
        text = fmt.typo(claims.render(sentence, figures))
        if getattr(self, "synthetic", False) and not condition.holds:
            # fictional figures: show the sentence as unchecked instead of failing the build
            _md(f"{text} *(affirmation non vérifiée : données synthétiques.)*")
            return
        claims.check(self.name, sentence, condition)
        _md(text)

    # -- the section's chart and table --------------------------------------------------------------
    def chart(self, finding_id: str) -> None:
        """The section's chart: by type for a single-choice share, the distribution otherwise."""
        from analysis.report import charts

        if self.too_small:
            self._placeholder(F.get(finding_id).question)
            return
        fig, cap = self.chart_figure(finding_id)
        self._show_figure(fig, cap, charts.alt_text(fig))

    def chart_figure(self, finding_id: str):
        """The section's chart and its caption (not displayed)."""
        f = F.get(finding_id)
        q = self.question(f.question)
        if f.kind == "share" and q.type == "single":
            return self.by_type_figure(f.question, f.option)
        return self.figure_of(f.question)

    def by_type(self, qid: str, option: str, item: str | None = None) -> None:
        """One answer by type of structure: share, population interval, counts."""
        from analysis.report import charts

        if self.too_small:
            self._placeholder(qid)
            return
        fig, cap = self.by_type_figure(qid, option, item)
        self._show_figure(fig, cap, charts.alt_text(fig))

    def by_type_figure(self, qid: str, option: str, item: str | None = None):
        from analysis.report import charts

        frame = self._frame_counts()
        types = [s for s in F.TYPES if s in self.scope]
        fig = charts.by_type(self.estimates, qid, option, item, types=types, frame_counts=frame)
        info = fig.barometre
        base = int(self.rows(qid)["base_n"].max())
        who = next((f.base for f in F.FINDINGS if f.question == qid), "structures répondantes")
        cap = (
            f"Part des répondants ayant répondu {info['answer']}, ensemble et par type de "
            f"structure (répondants, et nombre en France). Base : {fmt.num(base)} {who}."
        )
        if info.get("intervals"):
            cap += " Trait : intervalle de confiance à 95 % pour toutes les structures du type."
        if info.get("few"):
            cap += " Hachuré : moins de 10 répondants, chiffre fragile."
        return fig, fmt.typo(cap)

    def short_label(self, qid: str) -> str:
        """What a question is about, without repeating its text: its section's title."""
        for f in F.FINDINGS:
            if f.question == qid:
                return F.title(self, f)
        return _squash(self.codebook[qid].text)

    def question_text(self, qid: str) -> None:
        """The question's text, once (for a section without a finding)."""
        _md(fmt.typo(f"*Question : « {_squash(self.codebook[qid].text)} »*"))

    def _frame_counts(self) -> dict[str, int]:
        from analysis.survey.reference import load_frame

        try:
            return dict(load_frame(self.edition).counts)
        except Exception:  # noqa: BLE001 - a missing frame only drops the "sur N"
            return {}

    def compact(self, qid: str) -> None:
        """The question's compact table for all respondents, rows in the chart's order."""
        if self.too_small:  # nothing publishable: the chapter's header says why
            return
        from analysis.report.tables import show_table

        q = self.codebook[qid]
        est = self.estimates
        sub = est[(est["question_id"] == qid) & (est["stratum"] == "ensemble")]
        sub = sub[~sub["option"].isin(_STATISTICS)]
        base = int(sub["base_n"].max()) if len(sub) else 0
        if q.type == "single":
            rows = [
                [o, fmt.pct(p), fmt.num(c)]
                for o, p, c in zip(sub["option"], sub["pct"], sub["count"], strict=True)
            ]
            header = ["Réponse", "Part", "Répondants"]
        elif q.type == "multiple":
            main = sub[~sub["option"].isin(_NEUTRAL)].sort_values(
                "pct", ascending=False, kind="stable"
            )
            rest = sub[sub["option"].isin(_NEUTRAL)]
            rows = [
                [o, fmt.pct(p), fmt.num(c)]
                for part in (main, rest)
                for o, p, c in zip(part["option"], part["pct"], part["count"], strict=True)
            ]
            header = ["Réponse (plusieurs possibles)", "Part", "Répondants"]
        elif q.type == "matrix":
            first = q.options[0]
            levels = [o for o in q.options[:2]]
            piv = sub[sub["item"] != ""].pivot(index="item", columns="option", values="pct")
            items = list(dict.fromkeys(sub.loc[sub["item"] != "", "item"]))
            piv = piv.reindex(items)
            order = piv[first].sort_values(ascending=False, kind="stable").index
            header = ["", *levels, "Autres réponses"]
            rows = []
            for it in order:
                vals = [piv.at[it, lv] for lv in levels]
                rows.append([it, *[fmt.pct(v) for v in vals], fmt.pct(100 - sum(vals))])
        elif q.type == "ranking":
            r1 = sub[sub["option"] == "rang 1"].set_index("item")["pct"]
            r2 = sub[sub["option"] == "rang 1 ou 2"].set_index("item")["pct"]
            order = sorted(r1.index, key=lambda i: (-r1[i], -r2.get(i, 0)))
            header = ["", "Classée 1re", "Classée 1re ou 2e"]
            rows = [[i, fmt.pct(r1[i]), fmt.pct(r2.get(i))] for i in order if i]
        else:
            return
        md = pipe_table(header, rows, "l" + "r" * (len(header) - 1))
        who = F.get(qid).base if any(f.id == qid for f in F.FINDINGS) else "structures répondantes"
        show_table(md, fmt.typo(f"Base : {fmt.num(base)} {who}"), f"tbl-{qid.replace('_', '-')}")

    # -- evolutions and annex -----------------------------------------------------------------------
    def evolutions(self) -> None:
        """The chapter's comparisons with the previous edition, honest about comparability."""
        if self.too_small:  # nothing publishable: the chapter's header says why
            return
        from analysis.report.tables import show_table

        prev = self.previous_edition
        if not prev or not self.previous_path:
            _md("*Pas d'édition précédente à comparer.*")
            return
        comparable_rows, other = [], []
        for f in self.findings():
            comparable, why = F.comparability(self, f.question)
            if comparable == "":
                continue
            q = self.codebook[f.question]
            if comparable == "no":
                other.append(f"- *{self.short_label(q.id)}* — {why}")
                continue
            r = F.evolution_row(self, f)
            if r is None:
                continue
            answer = F._short(r["option"]) + (f" — {r['item']}" if r["item"] else "")
            sig = "oui" if bool(r["significant"]) else "non"
            mark = " ¹" if comparable == "wording" else ""
            comparable_rows.append(
                [
                    f"{fmt.cap(f.says if f.kind == 'share' else answer)}{mark}",
                    f"{fmt.pct(r['previous_pct'])} ({fmt.num(int(r['previous_base_n']))})",
                    f"{fmt.pct(r['pct'])} ({fmt.num(int(r['base_n']))})",
                    fmt.points(float(r["pct"]) - float(r["previous_pct"])),
                    sig,
                ]
            )
            if comparable == "wording":
                other.append(f"- ¹ *{self.short_label(q.id)}* — {why}")
        if not comparable_rows and not other:
            return
        parts = []
        if comparable_rows:
            md = pipe_table(
                [
                    "Part des structures répondantes qui…",
                    f"{prev} (n)",
                    f"{self.edition} (n)",
                    "Écart",
                    "Significatif",
                ],
                comparable_rows,
                "lrrrr",
            )
            show_table(
                md,
                fmt.typo(
                    f"Évolution {prev}–{self.edition}, structures répondantes hors communes de "
                    f"moins de {fmt.num(3500)} habitants (même réponse comparée ; test à 5 %)"
                ),
                f"tbl-{self.name}-evolutions",
            )
        if other:
            parts.append("Comparaisons à nuancer ou impossibles :\n\n" + "\n".join(other))
            _md(fmt.typo("\n\n".join(parts)))

    def annex(self) -> None:
        """Every tabulated question of the chapter by type of structure (the cross-tab)."""
        if self.too_small:  # nothing publishable: the chapter's header says why
            return
        from analysis.report import tables
        from analysis.survey.codebook import TABULATED

        groups = [
            g
            for g in self.groups
            if g in ("ensemble", "commune", "epci", "metropole", "departement", "region", "autre")
        ]
        name = self.name
        for q in self.codebook.of_type(*TABULATED):
            if q.chapter != name and not (name in ("introduction",) and q.chapter == "contexte"):
                continue
            option = None
            if q.type == "matrix":
                option = q.options[0]
            elif q.type == "ranking":
                option = "rang 1"
            md = tables.stratum_table(
                self.estimates,
                q.id,
                option,
                groups=groups,
                weighted_total=False,
                max_columns=len(groups) + 1,  # one table per question, not split
            )
            what = f" — part « {option} »" if option else ""
            tables.show_table(
                md,
                fmt.typo(f"{self.short_label(q.id)}{what} : par type de structure"),
                f"tbl-annexe-{q.id.replace('_', '-')}",
            )
