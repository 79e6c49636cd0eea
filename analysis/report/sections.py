"""The introduction's and the notice technique's sections: composition of the sample, key
figures, cleaning, frame, weights and precision — generated from the data and the parameters.

:class:`ChapterSections` is mixed into :class:`analysis.report.chapters.Chapter`; its methods
read the chapter's data, codebook, estimates and metadata through the chapter's attributes.
"""

from __future__ import annotations

from pathlib import Path

from analysis.report import french as fmt
from analysis.report.tables import pipe_table, show_table
from analysis.survey.strata import LABELS, STRATA

SOURCE = "Baromètre de la data dans les territoires"


def display_markdown(text: str) -> None:
    from IPython.display import display

    display({"text/markdown": text, "text/plain": text}, raw=True)


def lower_label(label: str) -> str:
    """Lower-case a label's first word unless it is an acronym ("EPCI", "OPSN")."""
    first = label.split(" ", 1)[0]
    return label if first.isupper() else label[:1].lower() + label[1:]


class ChapterSections:
    """The introduction's and the notice technique's tables, figures and texts."""

    def key_figures(self) -> None:
        rows = []
        for r in key_figures_rows(self):
            ns = r["suppressed"]
            rows.append(
                [
                    fmt.cap(r["label"]),
                    fmt.SUPPRESSED if ns else fmt.pct(r["pct"]),
                    fmt.SUPPRESSED if ns or r["wpct"] is None else fmt.pct(r["wpct"]),
                    fmt.num(r["n"]),
                ]
            )
        md = pipe_table(
            ["Part des structures qui…", "Non pondéré", "Pondéré", "Base (n)"], rows, "lrrr"
        )
        show_table(md, f"Chiffres clés de l'édition {self.edition}", "tbl-chiffres-cles")

    def composition(self) -> None:
        """Respondents per stratum against the national frame (and the previous edition)."""
        from analysis.survey.reference import load_frame

        frame = load_frame(self.edition)
        counts = self.data["stratum"].value_counts()
        n = max(len(self.data), 1)
        in_scope = {s: frame.counts[s] for s in self.scope if frame.counts.get(s)}
        frame_total = sum(in_scope.values()) or 1
        prev = self.previous_composition()
        header = [
            "Strate",
            "Répondants",
            "Part de l'échantillon",
            "Collectivités (France)",
            "Part de la population",
        ]
        if prev is not None:
            header.insert(2, f"Répondants {self.previous_edition}")
        rows = []
        for s in self.scope:
            c = int(counts.get(s, 0))
            f = in_scope.get(s)
            row = [
                LABELS[s],
                fmt.num(c),
                fmt.pct(100 * c / n),
                fmt.num(f) if f else "–",
                fmt.pct(100 * f / frame_total) if f else "–",
            ]
            if prev is not None:
                row.insert(2, prev.get(s, "–"))
            rows.append(row)
        total = [
            f"**{LABELS['ensemble']}**",
            f"**{fmt.num(len(self.data))}**",
            fmt.pct(100),
            fmt.num(sum(in_scope.values())),
            fmt.pct(100),
        ]
        if prev is not None:
            total.insert(2, prev.get("ensemble", "–") if list(self.scope) == list(STRATA) else "–")
        rows.append(total)
        md = pipe_table(header, rows, "l" + "r" * (len(header) - 1))
        show_table(
            md,
            f"Répondants par strate et population nationale des collectivités (édition {self.edition})",
            "tbl-composition",
        )

    def previous_composition(self) -> dict[str, str] | None:
        if not self.previous_path:
            return None
        path = Path(self.previous_path)
        if path.suffix == ".parquet":
            from analysis.survey.processed import load

            prev = load(path)
            vc = prev["stratum"].value_counts()
            out = {s: fmt.num(int(vc.get(s, 0))) for s in STRATA}
            out["ensemble"] = fmt.num(len(prev))
            return out
        from analysis.stats.published import read_aggregates

        agg = read_aggregates(path)
        sizes = agg.groupby("stratum")["base_n"].max()
        out = {s: fmt.num(int(sizes[s])) for s in STRATA if s in sizes}
        if "epci_metropole" in sizes:
            out["epci"] = f"{fmt.num(int(sizes['epci_metropole']))} (avec métropoles)"
            out["metropole"] = "(avec EPCI)"
        if "ensemble" in sizes:
            out["ensemble"] = fmt.num(int(sizes["ensemble"]))
        return out

    def cleaning(self) -> None:
        c = self.meta.get("counts", {})
        dropped = c.get("dropped", {})
        labels = {
            "incomplete": "Réponses incomplètes (question « numérique responsable » non atteinte)",
            "duplicate_structure": "Doublons : autre réponse de la même structure (la plus complète est gardée)",
        }
        rows = [["Réponses exportées", fmt.num(c.get("rows_in", 0))]]
        rows += [[labels.get(k, k), "− " + fmt.num(v)] for k, v in sorted(dropped.items())]
        rows.append(["**Réponses analysées**", f"**{fmt.num(c.get('kept', 0))}**"])
        show_table(
            pipe_table(["Étape", "Réponses"], rows, "lr"),
            "Du fichier exporté aux réponses analysées",
            "tbl-nettoyage",
        )

    def weights_table(self) -> None:
        from analysis.stats.weights import diagnostics
        from analysis.survey.reference import load_frame

        frame = load_frame(self.edition)
        full = self.data  # the respondents in scope
        rows = []
        diag = {
            m: diagnostics(full, f"weight_{m}").set_index("stratum")
            for m in ("observatoire", "frame")
        }
        for s in self.scope:
            if s not in diag["observatoire"].index or not diag["observatoire"].loc[s, "n"]:
                continue
            d0, d1 = diag["observatoire"].loc[s], diag["frame"].loc[s]
            rows.append(
                [
                    LABELS[s],
                    fmt.num(int(d0["n"])),
                    fmt.num(frame.counts.get(s, 0)) if frame.counts.get(s) else "–",
                    fmt.dec(d0["weight"], 3),
                    fmt.dec(d1["weight"], 2),
                ]
            )
        show_table(
            pipe_table(
                [
                    "Strate",
                    "Répondants",
                    "Collectivités",
                    "Poids « observatoire »",
                    "Poids « population »",
                ],
                rows,
                "lrrrr",
            ),
            "Poids par strate selon la méthode de redressement",
            "tbl-poids",
        )
        rows = []
        for m, label in (
            ("observatoire", "Observatoire (série publiée)"),
            ("frame", "Population complète"),
        ):
            e = diag[m].loc["ensemble"]
            rows.append(
                [
                    label,
                    fmt.num(int(e["n_weighted"])),
                    fmt.dec(e["deff"], 2),
                    fmt.dec(e["n_eff"], 1),
                    f"{fmt.dec(e['weight_min'], 3)} – {fmt.dec(e['weight_max'], 2)}",
                ]
            )
        show_table(
            pipe_table(
                [
                    "Méthode",
                    "Répondants pondérés",
                    "Effet de plan (Kish)",
                    "Taille effective",
                    "Poids min – max",
                ],
                rows,
                "lrrrr",
            ),
            "Diagnostic des pondérations",
            "tbl-diagnostic-poids",
        )

    def frame_text(self) -> str:
        from analysis.survey.reference import load_frame

        frame = load_frame(self.edition)
        if frame.reference:
            source = f"dénombrement du référentiel {frame.reference}"
        elif frame.source.startswith("published"):
            source = f"effectifs retenus par l'édition {frame.edition} publiée"
        else:
            source = frame.source
        in_scope = sum(frame.counts.get(s, 0) for s in self.scope)
        text = f"La population de référence compte {fmt.num(frame.total)} collectivités ({source})"
        if in_scope != frame.total:
            text += f", dont {fmt.num(in_scope)} dans le périmètre de ce rapport"
        return text + "."

    def composition_figure(self) -> None:
        from analysis.report import charts

        counts = self.data["stratum"].value_counts()
        strata = [s for s in self.scope]
        fig = charts.counts_bar(
            [LABELS[s] for s in strata],
            [int(counts.get(s, 0)) for s in strata],
            title="Répondants par strate",
            edition=self.edition,
            what="répondants",
        )
        cap = fmt.typo(
            f"Répondants analysés par strate, édition {self.edition} ; "
            f"source : {SOURCE} ; base : {fmt.num(self.n)} répondants."
        )
        self._show_figure(fig, cap, charts.alt_text(fig))

    def fieldwork_text(self) -> str:
        """What the edition file (``data/codebook/<edition>.edition.yaml``) says of the
        collection: mode, dates, number of questions; empty when it knows none of them."""
        from analysis.survey.edition import EditionError, french_date, load_edition

        try:
            ed = load_edition(self.edition)
        except EditionError:
            return ""
        parts = []
        if ed.fieldwork:
            parts.append(f"a été ouvert {ed.fieldwork}")
        if ed.questions:
            parts.append(f"comptait {fmt.num(ed.questions)} questions")
        if not parts:
            return ""
        text = f"Le questionnaire de l'édition {ed.edition} ({ed.ordinal} du baromètre)"
        text += (f", {ed.mode}," if ed.mode else "") + " " + " et ".join(parts) + "."
        if ed.published:
            text += f" Le rapport de l'édition a été publié le {french_date(ed.published)}."
        return text

    def method_questionnaire(self) -> None:
        from analysis.survey.codebook import TABULATED

        fieldwork = self.fieldwork_text()
        if fieldwork:
            display_markdown(fieldwork)
        cb = self.codebook
        tab = cb.of_type(*TABULATED)
        filtered = [q for q in tab if q.asked_if is not None]
        by_type = {t: len(cb.of_type(t)) for t in ("single", "multiple", "matrix", "ranking")}
        display_markdown(
            f"Le codebook de l'édition {self.edition} (version {cb.version}) décrit "
            f"{fmt.num(len(cb.questions))} questions, dont {fmt.num(len(tab))} sont tabulées : "
            f"{by_type['single']} à choix unique, {by_type['multiple']} à choix multiples, "
            f"{by_type['matrix']} matrices et {by_type['ranking']} classement(s). "
            f"{fmt.num(len(filtered))} d'entre elles ne sont posées qu'à une partie des répondants ; "
            "les réponses libres ne sont pas tabulées et ne sont citées que délibérément."
        )

    def method_frame(self) -> None:
        display_markdown(self.frame_text())
        self.composition()

    def method_weights(self) -> None:
        from analysis.survey.reference import load_frame

        frame = load_frame(self.edition)
        small = frame.counts.get("commune_lt_3500", 0)
        display_markdown(
            "- **Estimation sur la population (par défaut)** : les répondants de chaque strate "
            "(communes par taille, EPCI, métropoles, départements, régions) sont traités comme un "
            "échantillon aléatoire simple sans remise de la strate ; chaque répondant représente "
            "N/n collectivités de sa strate. Le « pourcentage pondéré » de l'ensemble estime la "
            "part sur **toutes les collectivités**, petites communes comprises ; celui de "
            "« l'ensemble hors communes de moins de 3 500 habitants » estime la population des "
            "éditions publiées. Les structures « autres » sont décrites comme répondantes mais "
            "n'entrent dans aucune estimation de population. Les petites communes "
            f"({fmt.num(small)} en France), très nombreuses et peu représentées, pèsent très "
            "lourd dans l'ensemble : ces estimations sont le plus souvent jugées non fiables.\n"
            "- **Pondération « observatoire »** (celle des éditions publiées, disponible pour "
            "prolonger la série) : post-stratification sur les strates des communes de 3 500 "
            "habitants et plus, des EPCI, des métropoles, des départements et des régions ; les "
            "petites communes et les structures « autres » ont un poids nul. Elle décrit les "
            "collectivités autres que les petites communes.\n"
            "- **Choix multiples** : les éditions publiées rapportaient une part de *mentions* "
            "(les options sommaient à 100 %). Ce rapport donne la part des *répondants* qui ont coché "
            "chaque option : ces parts ne s'additionnent pas, et chacune se lit seule.\n"
            "- L'effet de plan mesure la perte (ou le gain) de précision par rapport à un "
            "échantillon aléatoire simple de même taille ; la taille effective est le nombre de "
            "répondants d'un tel échantillon de même précision."
        )

    def method_precision(self) -> None:
        display_markdown(
            fmt.typo(
                "- **Le chiffre de chaque constat** est la part des structures répondantes qui ont "
                "donné la réponse, sa base nommée (« 38 % des 191 structures répondantes ») : le "
                "même chiffre dans la phrase, le graphique et le tableau.\n"
                "- **Base** : les répondants à qui la question a été posée, non-réponses comprises "
                "(« sans réponse » est une modalité à part entière), comme dans les tableaux "
                "publiés.\n"
                "- **Par type de structure**, chaque barre est la part des répondants du type ; son "
                "trait, quand il est tracé, l'intervalle de confiance à 95 % pour toutes les "
                "structures du type en France (plan stratifié, correction de population finie). "
                "Les types de moins de 10 répondants sont hachurés : une réponse y déplace la part "
                "de dix points ou plus. Le texte ne compare deux types que si leurs intervalles ne "
                "se recouvrent pas.\n"
                "- **Estimations pour l'ensemble des collectivités** : données seulement quand "
                "elles sont jugées fiables, avec leur intervalle et la population décrite. "
                "Intervalles selon le plan de sondage (stratifié, avec correction de population "
                "finie) : pour une strate, intervalle exact en population finie (loi "
                "hypergéométrique), qui se réduit à un point quand toute la strate a répondu ; "
                "pour l'ensemble et les regroupements de strates, variance linéarisée et "
                "intervalle logit (méthode du paquet R survey).\n"
                "- **Fiabilité** : une estimation est jugée fiable si son coefficient de variation "
                "ne dépasse pas un tiers et si les strates de moins de 10 répondants, ou sans "
                "aucune variation des réponses, pèsent moins d'un quart de son poids (une strate "
                "recensée entièrement est toujours fiable). Une estimation non fiable n'est jamais "
                "un chiffre clé.\n"
                f"- **Secret statistique** : un pourcentage dont la base est inférieure à "
                f"{self.min_base} répondants n'est pas publié (« n.s. ») ; il reste signalé dans "
                "les données ouvertes.\n"
                "- **Comparaisons entre éditions** : seulement pour les questions posées dans des "
                "termes comparables (le codebook dit pour chacune si elle l'est, et pourquoi), sur "
                "la même réponse et la même population : les structures répondantes hors communes "
                "de moins de 3 500 habitants ; test de comparaison de deux proportions au seuil de "
                "5 %. Les EPCI et les métropoles sont regroupés, comme dans les tableaux publiés de "
                "l'édition précédente. Les deux échantillons ne sont pas composés de la même façon "
                "(bien plus de structures « autres » cette année) : une évolution peut refléter ce "
                "changement de composition autant qu'un changement des pratiques. L'édition "
                "publiée comparait aussi les domaines des projets engagés en 2023 aux usages "
                "identifiés en 2022, et les priorités classées parmi cinq (2023) et parmi trois "
                "(2022) : ce rapport ne tire pas d'évolution de ces deux questions, qui ne "
                "mesurent pas la même chose."
            )
        )

    def published_weighted_total(self) -> None:
        """The published method's weighted total of the key findings, and what it estimates."""
        from analysis.report import findings
        from analysis.stats.estimates import estimate_question
        from analysis.stats.weights import diagnostics

        rows = []
        for k in findings.key_findings(self, [f for f in findings.FINDINGS if f.intro]):
            q = self.codebook[k["question_id"]]
            est = estimate_question(
                self.data,
                q,
                weight="weight_observatoire",
                groups={"ensemble": STRATA},
                weighted_groups=("ensemble",),
                min_base=self.min_base,
                codebook=self.codebook,
            )
            r = est[(est["item"] == k["item"]) & (est["option"] == k["option"])].iloc[0]
            rows.append(
                [
                    fmt.cap(k["label"]),
                    f"{fmt.pct(k['pct'])} ({fmt.num(k['count'])} sur {fmt.num(k['base_n'])})",
                    fmt.pct(r["weighted_pct"]),
                    fmt.dec(r["n_eff"], 0),
                ]
            )
        d = diagnostics(self.data, "weight_observatoire").set_index("stratum").loc["ensemble"]
        show_table(
            pipe_table(
                [
                    "Part des structures qui…",
                    "Part des répondants",
                    "Total pondéré",
                    "Taille effective",
                ],
                rows,
                "lrrr",
            ),
            fmt.typo(
                "Total pondéré de la méthode publiée : il estime la part parmi les collectivités "
                "hors communes de moins de 3 500 habitants (les structures « autres » et les petites "
                f"communes y pèsent zéro) ; effet de plan {fmt.dec(d['deff'], 1)}, soit une "
                f"précision comparable à celle de {fmt.dec(d['n_eff'], 0)} répondants tirés au hasard"
            ),
            "tbl-total-pondere",
        )

    def weights_figure(self) -> None:
        """Share of each stratum in the published method's weighted total."""
        from analysis.report import charts

        full = self.data  # the respondents in scope
        w = full.groupby("stratum", observed=False)["weight_observatoire"].sum()
        total = float(w.sum()) or 1.0
        strata = [s for s in self.scope if s in w.index]
        fig = charts.counts_bar(
            [LABELS[s] for s in strata],
            [100 * float(w[s]) / total for s in strata],
            title="Part de chaque strate dans le total pondéré",
            edition=self.edition,
            what="répondants",
            value_fmt=fmt.pct,
            base=len(full),
        )
        cap = fmt.typo(
            "Part de chaque strate dans le total pondéré de la méthode publiée. "
            f"Base : {fmt.num(len(full))} structures répondantes."
        )
        self._show_figure(fig, cap, charts.alt_text(fig))

    def composition_comment(self) -> None:
        """How the sample departs from the population, from the figures (scope-aware)."""
        from analysis.survey.reference import load_frame

        frame = load_frame(self.edition)
        counts = self.data["stratum"].value_counts()
        in_scope = {s: frame.counts[s] for s in self.scope if frame.counts.get(s)}
        total_f, n = sum(in_scope.values()), max(len(self.data), 1)
        if not in_scope or total_f == 0:
            return
        ratio = {s: (counts.get(s, 0) / n) / (f / total_f) for s, f in in_scope.items()}
        under = [s for s, r in ratio.items() if r < 0.5]
        over = [s for s, r in ratio.items() if r > 2]
        parts = []
        if under:
            parts.append(
                "Strates sous-représentées parmi les répondants au regard de leur nombre en France : "
                + fmt.join_fr([lower_label(LABELS[s]) for s in under])
                + "."
            )
        if over:
            parts.append(
                "Strates sur-représentées (bien plus de répondants que leur poids dans la "
                "population) : " + fmt.join_fr([lower_label(LABELS[s]) for s in over]) + "."
            )
        text = (
            " ".join(parts) + " "
            if parts
            else "La répartition des répondants est proche de celle de la population. "
        )
        display_markdown(
            fmt.typo(
                text + "C'est pourquoi chaque chiffre est donné comme une part des structures "
                "répondantes, sa base nommée, et qu'une estimation pour l'ensemble des "
                "collectivités n'est donnée que lorsqu'elle est fiable (voir la notice technique)."
            )
        )


# -- introduction ---------------------------------------------------------------------------------
#: Headline figures of the introduction: (question, option(s), item, French label).
KEY_FIGURES: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    (
        "acculturation",
        ("Le niveau est insuffisant : le sujet n’est identifié que par quelques experts",),
        "",
        "jugent insuffisant le niveau d’acculturation aux données",
    ),
    ("gouvernance_regles", ("Oui",), "", "ont défini des règles de gouvernance de la donnée"),
    ("charte_ethique", ("Oui",), "", "ont adopté une charte éthique de la donnée"),
    (
        "rgpd_conformite",
        ("Oui, tout à fait",),
        "",
        "se disent tout à fait en conformité avec le RGPD",
    ),
    (
        "opendata_obligations",
        ("Oui",),
        "",
        "jugent leurs services bien informés des obligations d’open data",
    ),
    (
        "hebergement",
        ("Sur des serveurs internes",),
        "",
        "hébergent leurs données surtout sur des serveurs internes",
    ),
    ("ia_projets", ("Oui",), "", "ont déjà mené des projets d’intelligence artificielle"),
    ("cyber_attaque_subie", ("Oui",), "", "ont déjà subi une cyberattaque importante"),
    (
        "numerique_responsable",
        ("Oui, et la stratégie a déjà été adoptée",),
        "",
        "ont adopté une stratégie numérique responsable",
    ),
    (
        "environnement_outil",
        ("Oui tout à fait : c’est un outil prioritaire",),
        "",
        "voient la donnée comme un outil prioritaire pour l’environnement",
    ),
)


def key_figures_rows(ch: ChapterSections) -> list[dict]:
    """The introduction's headline figures (also used by the tests against the export)."""
    out = []
    for qid, options, item, label in KEY_FIGURES:
        if qid not in ch.codebook:
            continue
        q = ch.codebook[qid]
        opts = [o for o in options if o in q.options]
        if not opts:
            continue
        v = ch.value(qid, opts, item)
        out.append({"question_id": qid, "option": opts, "label": label, **v})
    return out
