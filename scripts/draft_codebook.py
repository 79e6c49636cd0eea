"""Draft the 2023 and 2022 codebooks (``data/codebook/<edition>.yaml``) from the survey files.

The questionnaire knowledge (ids, types, answer order, filters, crosswalk) is written below by
hand; the script only lays it over the real files' headings so that nothing is typed twice:

    python scripts/draft_codebook.py --export-2023 <reponses-2023.csv> \\
        --aggregates-2022 <All_statistics_2022.csv> [--out data/codebook]

It refuses to write when a heading or an observed answer does not fit the spec, so the YAML
files it writes always cover every column of the 2023 export and every answer observed.
The YAML files are the reference afterwards (they are what ``analysis.survey.codebook.load`` reads);
re-run this script only when the spec below changes.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.survey.codebook import from_dict, normalise_heading  # noqa: E402

# --------------------------------------------------------------------------------------------
# Shared answer scales
# --------------------------------------------------------------------------------------------
JNSP = "Je ne sais pas"
OUI_NON = ["Oui", "Non", JNSP]
PREVU = "Non, mais c’est prévu dans les 12 prochains mois"
PAS_PREVU = "Non, et ce n’est pas prévu dans les 12 prochains mois"
OUI_PREVU = ["Oui", PREVU, PAS_PREVU, JNSP]
NON_2022 = {PREVU: "Non", PAS_PREVU: "Non"}


@dataclass
class Q:
    """One question of the 2023 spec, in export order."""

    id: str
    type: str
    n: int = 1  # export columns it takes (0: identifying column absent from the real file)
    items: list[str] = field(default_factory=list)  # multiple / matrix sub-question ids
    options: list[str] = field(default_factory=list)
    asked_if: dict[str, Any] | None = None
    previous: dict[str, Any] | None = None
    chapter: str | None = None  # overrides the group's chapter
    code: str | None = None  # fixed code (admin, enrichment); else next timing code of group
    other_of: str | None = None  # "[Autre]" free text of this multiple-choice question
    heading: str | None = None  # for columns absent from the real file
    identifying: bool = False
    text: str | None = None
    note: str | None = None


#: Comparability of each crosswalked question with its 2022 counterpart (``previous:``):
#: ``yes`` (same question and answers, up to "collectivité" → "structure" and the 2023 split
#: of "Non" into "prévu / pas prévu", merged back), ``wording`` (comparable with a caveat the
#: report prints: an answer added, a word changed) or ``no`` (not drawn as an evolution).
#: The reason is in French: the report prints it beside the comparison (or its absence).
COMPARABILITY: dict[str, tuple[str, str]] = {
    "rgpd_conformite": (
        "wording",
        "« Je ne sais pas » est proposé en 2023, pas en 2022.",
    ),
    "dpo_nomme": ("wording", "« Je ne sais pas » est proposé en 2023, pas en 2022."),
    "rgpd_processus": (
        "yes",
        "Même question ; les deux « Non » de 2023 (prévu ou non) sont regroupés comme en 2022.",
    ),
    "souverainete_politique": (
        "yes",
        "Même question ; les deux « Non » de 2023 (prévu ou non) sont regroupés comme en 2022.",
    ),
    "clauses_juridiques": (
        "yes",
        "Même question ; les deux « Non » de 2023 (prévu ou non) sont regroupés comme en 2022.",
    ),
    "clauses_domaines": ("yes", "Même question, mêmes domaines."),
    "projets_domaines": (
        "no",
        "En 2022, la question portait sur les nouveaux usages de la donnée *identifiés* dans "
        "chaque domaine ; en 2023, sur les projets *engagés* (ou prévus) : ce ne sont pas les "
        "mêmes faits.",
    ),
    "priorites": (
        "no",
        "Le classement portait sur trois priorités en 2022 et sur cinq en 2023, dont une seule "
        "commune aux deux éditions : ni les parts classées premières ni les rangs moyens ne se "
        "comparent.",
    ),
    "gouvernance_regles": (
        "yes",
        "Même question ; les deux « Non » de 2023 (prévu ou non) sont regroupés comme en 2022.",
    ),
    "charte_ethique": (
        "wording",
        "La charte devait être *élaborée* en 2022, *adoptée* en 2023.",
    ),
    "acculturation": ("wording", "« Je ne sais pas » est proposé en 2023, pas en 2022."),
    "obstacles": ("yes", "Même question, mêmes obstacles proposés."),
    "formation_besoins": ("yes", "Même question, mêmes besoins proposés."),
    "directions_implication": (
        "wording",
        "Le niveau « Fonction leader » est nouveau en 2023 : le niveau comparé est « fonction "
        "leader ou implication forte » en 2023 contre « implication forte » en 2022.",
    ),
    "opendata_obligations": (
        "wording",
        "En 2023, l'obligation rappelée vise aussi les administrations de plus de 50 agents, "
        "pas seulement les collectivités de plus de 3 500 habitants.",
    ),
    "transparence_algo_info": ("yes", "Même question, mêmes réponses."),
    "transparence_algo_actions": ("yes", "Même question, mêmes réponses."),
    "ia_projets": (
        "wording",
        "La question portait sur les *expérimentations* en 2022, sur les *projets ou "
        "expérimentations* en 2023.",
    ),
    "hebergement": ("yes", "Même question, mêmes réponses."),
    "logiciels_choix": ("yes", "Même question (préambule légèrement abrégé), mêmes réponses."),
    "open_source": ("yes", "Même question, mêmes réponses."),
    "cyber_attaque_subie": ("yes", "Même question, mêmes réponses."),
    "cyber_exposition": ("wording", "« Je ne sais pas » est proposé en 2023, pas en 2022."),
    "cyber_risque_niveau": ("wording", "« Je ne sais pas » est proposé en 2023, pas en 2022."),
    "cyber_obstacles": (
        "wording",
        "Les obstacles à la *diffusion* des outils de sécurité en 2022, à leur *mise en place* "
        "en 2023 ; « Je ne sais pas » est proposé en 2023.",
    ),
    "cyber_mesures": (
        "yes",
        "Même question ; les deux « Non » de 2023 (prévu ou non) sont regroupés comme en 2022.",
    ),
    "numerique_responsable": ("yes", "Même question, mêmes réponses."),
}


# Groups in questionnaire order: (name as in "Durée pour le groupe : <name>", chapter, questions).
# Question codes come from the group's "Durée pour la question: <code>" columns, in order.
GROUPS: list[tuple[str, str, list[Q]]] = [
    (
        "Vous connaître",
        "contexte",
        [
            Q("courriel", "personal", 0, heading="Quelle est votre adresse électronique ? "),
            Q("prenom", "personal", 0, heading="Quel est votre prénom ?"),
            Q("nom", "personal", 0, heading="Quel est votre nom ?"),
            Q("fonction", "personal", 0, heading="Quelle est votre fonction ? "),
            Q("resultats_souhaites", "single", options=["Oui", "Non"]),
        ],
    ),
    (
        "Mieux connaître votre collectivité",
        "contexte",
        [
            Q(
                "structure_name",
                "admin",
                0,
                heading="Quel est le nom de votre structure ? ",
                identifying=True,
            ),
            Q("siret", "admin", 0, heading="Quel est votre numéro SIRET ?", identifying=True),
        ],
    ),
    (
        "Droit des données publiques",
        "gouvernance",
        [
            Q(
                "rgpd_conformite",
                "single",
                options=[
                    "Oui, tout à fait",
                    "Oui, partiellement",
                    "Non, pas complètement",
                    "Non, pas encore",
                    JNSP,
                ],
                previous={"id": "rgpd_conformite"},
            ),
            Q(
                "dpo_nomme",
                "single",
                options=[
                    "Oui, en interne",
                    "Oui, externalisé auprès d'une autre collectivité (mutualisation)",
                    "Oui, externalisé auprès d’un prestataire",
                    "Non, pas encore",
                    JNSP,
                ],
                previous={"id": "dpo_nomme"},
            ),
            Q(
                "rgpd_processus",
                "single",
                options=OUI_PREVU,
                previous={"id": "rgpd_processus", "options": NON_2022},
            ),
            Q(
                "souverainete_politique",
                "single",
                options=OUI_PREVU,
                previous={"id": "souverainete_politique", "options": NON_2022},
            ),
            Q(
                "souverainete_lignes",
                "text",
                asked_if={"question": "souverainete_politique", "in": ["Oui"]},
            ),
            Q(
                "clauses_juridiques",
                "single",
                options=OUI_PREVU,
                previous={"id": "clauses_juridiques", "options": NON_2022},
            ),
            Q(
                "clauses_domaines",
                "multiple",
                4,
                items=["rgpd", "propriete", "open_data", "standards"],
                asked_if={"question": "clauses_juridiques", "in": ["Oui"]},
                previous={"id": "clauses_domaines"},
            ),
            Q(
                "clauses_domaines_autre",
                "text",
                other_of="clauses_domaines",
                asked_if={"question": "clauses_juridiques", "in": ["Oui"]},
            ),
            # Worded about the sovereignty policy, but shown exactly to the structures that
            # answered "Oui" to the contract clauses question (checked on the export).
            Q(
                "souverainete_documents",
                "upload",
                2,
                asked_if={"question": "clauses_juridiques", "in": ["Oui"]},
            ),
        ],
    ),
    (
        "Les objectifs et les priorités pour l'utilisation des données",
        "motivations",
        [
            Q(
                "projets_domaines",
                "matrix",
                13,
                items=[
                    "amenagement",
                    "mobilite",
                    "administration",
                    "developpement_economique",
                    "espace_public",
                    "securite",
                    "patrimoine",
                    "dechets",
                    "energie_eclairage",
                    "tourisme",
                    "citoyennete",
                    "environnement",
                    "autre",
                ],
                options=["Oui, au cours des deux dernières années", PREVU, PAS_PREVU, JNSP],
                previous={
                    "id": "usages_domaines",
                    "options": {"Oui, au cours des deux dernières années": "Oui", PAS_PREVU: "Non"},
                    "note": (
                        "Wording changed: 2022 asked whether new uses of data had been "
                        "identified in each domain, 2023 whether projects were engaged (or "
                        "planned); 'Non, mais c’est prévu' has no 2022 counterpart. The published "
                        "2023 report compares them; say so beside any comparison."
                    ),
                },
            ),
            Q(
                "projets_domaines_autre",
                "text",
                asked_if={
                    "question": "projets_domaines",
                    "item": "autre",
                    "in": ["Oui, au cours des deux dernières années", PREVU],
                },
            ),
            Q(
                "priorites",
                "ranking",
                5,
                options=[
                    "L’efficacité opérationnelle (réduction des coûts)",
                    "L’évaluation des politiques publiques",
                    "Le développement de nouveaux services ou de nouvelles politiques publiques "
                    "(innovation)",
                    "Les retombées en matière de relations au citoyen (transparence, information, "
                    "nouveaux services)",
                    "Les retombées économiques sur le territoire",
                ],
                previous={
                    "id": "priorites",
                    "note": (
                        "2022 ranked 3 items, 2023 ranks 5; only 'Les retombées en matière de "
                        "relations au citoyen' is common to both editions."
                    ),
                },
            ),
            Q("priorites_autres", "text"),
            Q(
                "environnement_outil",
                "single",
                chapter="environnement",
                options=[
                    "Oui tout à fait : c’est un outil prioritaire",
                    "Oui : c’est un outil relativement pertinent",
                    "Avis neutre",
                    "Non : ce n’est pas un outil très pertinent",
                    JNSP,
                ],
            ),
            Q("projets_documents", "upload", 2),
        ],
    ),
    (
        "La gouvernance des données",
        "gouvernance",
        [
            Q(
                "gouvernance_regles",
                "single",
                options=OUI_PREVU,
                previous={"id": "gouvernance_regles", "options": NON_2022},
            ),
            Q(
                "gouvernance_regles_types",
                "multiple",
                4,
                items=["charte_donnee", "politique_interne", "conventions", "clauses_prestataires"],
                asked_if={"question": "gouvernance_regles", "in": ["Oui"]},
            ),
            Q(
                "gouvernance_regles_types_autre",
                "text",
                other_of="gouvernance_regles_types",
                asked_if={"question": "gouvernance_regles", "in": ["Oui"]},
            ),
            Q(
                "charte_ethique",
                "single",
                options=[
                    "Oui",
                    "Non, mais elle prévoit d’en élaborer une dans les 12 prochains mois",
                    "Non, et l’élaboration d’une charte n’est pas prévue dans les 12 prochains mois",
                    JNSP,
                ],
                previous={
                    "id": "charte_ethique",
                    "options": {
                        "Non, mais elle prévoit d’en élaborer une dans les 12 prochains mois": "Non",
                        "Non, et l’élaboration d’une charte n’est pas prévue dans les 12 "
                        "prochains mois": "Non",
                    },
                    "note": "2022 asked whether a charter had been drawn up (élaboré), 2023 adopted.",
                },
            ),
            Q(
                "charte_ethique_document",
                "upload",
                2,
                asked_if={"question": "charte_ethique", "in": ["Oui"]},
            ),
            Q(
                "acteurs_externes",
                "multiple",
                6,
                items=[
                    "non",
                    "ne_sait_pas",
                    "citoyens",
                    "associations",
                    "acteurs_prives",
                    "acteurs_publics",
                ],
                asked_if={"question": "gouvernance_regles", "in": ["Oui"]},
            ),
            Q(
                "acteurs_externes_autre",
                "text",
                other_of="acteurs_externes",
                asked_if={"question": "gouvernance_regles", "in": ["Oui"]},
            ),
            Q(
                "acteurs_externes_forme",
                "text",
                asked_if={
                    "question": "acteurs_externes",
                    "items": ["citoyens", "associations", "acteurs_prives", "acteurs_publics"],
                },
            ),
            Q(
                "partage_prives",
                "matrix",
                3,
                items=["plateformes", "communications_ponctuelles", "echanges_pratiques"],
                options=OUI_PREVU,
            ),
            Q("partage_prives_precisions", "text"),
        ],
    ),
    (
        "Le management de la donnée",
        "organisation",
        [
            Q(
                "acculturation",
                "single",
                chapter="motivations",
                options=[
                    "Le niveau est bon : le sujet est identifié et partagé par les cadres (et les "
                    "élus) de la structure",
                    "Le niveau est correct : le sujet est identifié mais il n’est partagé que par "
                    "quelques services pionniers",
                    "Le niveau est insuffisant : le sujet n’est identifié que par quelques experts",
                    "Le sujet n’est pas identifié",
                    JNSP,
                ],
                previous={
                    "id": "acculturation",
                    "options": {
                        "Le niveau est bon : le sujet est identifié et partagé par les cadres (et "
                        "les élus) de la structure": "Le niveau est bon : le sujet est identifié "
                        "et partagé par les cadres (et les élus) de la collectivité"
                    },
                },
            ),
            Q(
                "obstacles",
                "multiple",
                5,
                chapter="motivations",
                items=["competences", "formations", "recrutement", "moyens_financiers", "temps"],
                previous={"id": "obstacles"},
            ),
            Q("obstacles_autre", "text", chapter="motivations", other_of="obstacles"),
            Q(
                "formation_besoins",
                "multiple",
                6,
                items=[
                    "juridiques",
                    "techniques",
                    "metiers",
                    "acculturation_services",
                    "acculturation_elus",
                    "management_quotidien",
                ],
                previous={"id": "formation_besoins"},
            ),
            Q("formation_besoins_autre", "text", other_of="formation_besoins"),
            Q(
                "directions_implication",
                "matrix",
                8,
                items=[
                    "direction_generale",
                    "informatique",
                    "sig",
                    "archives",
                    "communication",
                    "services_techniques",
                    "ressources_humaines",
                    "autres",
                ],
                options=[
                    "Fonction leader",
                    "Implication forte",
                    "Implication ponctuelle",
                    "Implication rare",
                    "Pas d’implication",
                    "Cette direction n'existe pas dans ma structure",
                    JNSP,
                ],
                previous={
                    "id": "directions_implication",
                    "options": {
                        # "Fonction leader" is new in 2023: compared with it added to "forte"
                        "Fonction leader": "Implication forte",
                        "Cette direction n'existe pas dans ma structure": "Cette direction "
                        "n'existe pas dans ma collectivité",
                    },
                },
            ),
            Q(
                "directions_autres_metiers",
                "text",
                asked_if={
                    "question": "directions_implication",
                    "item": "autres",
                    "in": [
                        "Fonction leader",
                        "Implication forte",
                        "Implication ponctuelle",
                        "Implication rare",
                    ],
                },
            ),
            Q(
                "fonctions_data",
                "matrix",
                4,
                items=["comite_data", "referents_data", "direction_donnee", "chief_data_officer"],
                options=["Existe", PREVU, PAS_PREVU, JNSP],
            ),
            Q("organisation_documents", "upload", 2),
            Q(
                "partenaires",
                "matrix",
                10,
                items=[
                    "amo",
                    "prestataire_informatique",
                    "delegataire",
                    "opsn",
                    "plateforme_regionale_ig",
                    "operateur_numerique",
                    "collectivite_plus_grande",
                    "association_collectivites",
                    "services_etat",
                    "autres",
                ],
                options=["Je le fais déjà", PREVU, PAS_PREVU, JNSP],
            ),
            Q(
                "partenaires_autres",
                "text",
                asked_if={"question": "partenaires", "item": "autres", "in": ["Je le fais déjà"]},
            ),
        ],
    ),
    (
        "",
        "contexte",
        [
            # Empty heading, always empty: a question without text in an untitled group
            # (LimeSurvey code G08Q01); kept as admin so that the column is accounted for.
            Q("question_sans_titre", "admin", text="(question sans titre, colonne toujours vide)"),
        ],
    ),
    (
        "L’ouverture et la transparence",
        "gouvernance",
        [
            Q(
                "opendata_obligations",
                "single",
                options=[
                    "Oui",
                    "Non",
                    "Ma structure n’est pas concernée par cette obligation",
                    JNSP,
                ],
                previous={
                    "id": "opendata_obligations",
                    "options": {
                        "Ma structure n’est pas concernée par cette obligation": "Ma collectivité "
                        "n’est pas concernée par cette obligation"
                    },
                },
            ),
            Q(
                "transparence_algo_info",
                "single",
                options=OUI_NON,
                previous={"id": "transparence_algo_info"},
            ),
            Q(
                "transparence_algo_actions",
                "single",
                options=OUI_NON,
                previous={"id": "transparence_algo_actions"},
            ),
            Q(
                "transparence_algo_precisions",
                "text",
                asked_if={"question": "transparence_algo_actions", "in": ["Oui"]},
            ),
        ],
    ),
    (
        "L'intelligence artificielle",
        "ia",
        [
            Q("ia_projets", "single", options=OUI_NON, previous={"id": "ia_projets"}),
            Q(
                "ia_techniques",
                "multiple",
                6,
                items=["langage", "images", "son", "predictif", "conversationnel", "ne_sait_pas"],
                asked_if={"question": "ia_projets", "in": ["Oui"]},
            ),
            Q(
                "ia_techniques_autre",
                "text",
                other_of="ia_techniques",
                asked_if={"question": "ia_projets", "in": ["Oui"]},
            ),
            Q(
                "ia_domaines",
                "multiple",
                14,
                items=[
                    "amenagement",
                    "mobilite",
                    "administration",
                    "developpement_economique",
                    "espace_public",
                    "securite",
                    "patrimoine",
                    "dechets",
                    "eau",
                    "energie_eclairage",
                    "tourisme",
                    "citoyennete",
                    "environnement",
                    "ne_sait_pas",
                ],
                asked_if={"question": "ia_projets", "in": ["Oui"]},
            ),
            Q(
                "ia_domaines_autre",
                "text",
                other_of="ia_domaines",
                asked_if={"question": "ia_projets", "in": ["Oui"]},
            ),
            Q(
                "ia_projets_description",
                "text",
                asked_if={"question": "ia_projets", "in": ["Oui"]},
            ),
            Q("ia_envisage", "single", options=OUI_NON),
            Q(
                "ia_envisage_techniques",
                "multiple",
                6,
                items=["langage", "images", "son", "predictif", "conversationnel", "ne_sait_pas"],
                asked_if={"question": "ia_envisage", "in": ["Oui"]},
            ),
            Q(
                "ia_envisage_techniques_autre",
                "text",
                other_of="ia_envisage_techniques",
                asked_if={"question": "ia_envisage", "in": ["Oui"]},
            ),
            Q(
                "ia_envisage_domaines",
                "multiple",
                14,
                items=[
                    "amenagement",
                    "mobilite",
                    "administration",
                    "developpement_economique",
                    "espace_public",
                    "securite",
                    "patrimoine",
                    "dechets",
                    "eau",
                    "energie_eclairage",
                    "tourisme",
                    "citoyennete",
                    "environnement",
                    "ne_sait_pas",
                ],
                asked_if={"question": "ia_envisage", "in": ["Oui"]},
            ),
            Q(
                "ia_envisage_domaines_autre",
                "text",
                other_of="ia_envisage_domaines",
                asked_if={"question": "ia_envisage", "in": ["Oui"]},
            ),
        ],
    ),
    (
        "Les enjeux techniques de la gestion des données",
        "organisation",
        [
            Q(
                "hebergement",
                "single",
                options=[
                    "Sur des serveurs internes",
                    "Dans un data center public local",
                    "Dans un cloud certifié SecNum (cloud de confiance certifié par l'Etat)",
                    "Dans un cloud non certifié SecNum",
                    "Chez des éditeurs de logiciels (SaaS)",
                    JNSP,
                ],
                previous={"id": "hebergement"},
            ),
            Q(
                "technologies",
                "matrix",
                7,
                items=[
                    "plateforme_donnees",
                    "outils_analyse",
                    "lac_donnees",
                    "capteurs_iot",
                    "catalogue",
                    "jumeau_numerique",
                    "hyperviseur",
                ],
                options=["En place", PREVU, PAS_PREVU, JNSP],
            ),
            Q(
                "technologies_mutualisees",
                "matrix",
                4,
                items=[
                    "plateforme_regionale_ig",
                    "opsn",
                    "collectivite_plus_grande",
                    "association_collectivites",
                ],
                options=["En place", PREVU, PAS_PREVU, JNSP],
            ),
            Q(
                "logiciels_choix",
                "single",
                options=[
                    "Fait le choix de logiciels français ou européen à chaque fois que c’est possible",
                    "Choisit le logiciel qu’elle estime le meilleur quel que soit son origine",
                    JNSP,
                ],
                previous={"id": "logiciels_choix"},
            ),
            Q(
                "open_source",
                "single",
                options=[
                    "La structure privilégie systématiquement l’open source",
                    "La structure choisit parfois l’open source mais ce n’est pas systématique",
                    "La structure choisit le logiciel qu’elle estime le meilleur, l’open source "
                    "n’est pas un critère de choix",
                    JNSP,
                ],
                previous={
                    "id": "open_source",
                    "options": {
                        "La structure privilégie systématiquement l’open source": "La collectivité "
                        "privilégie systématiquement l’open source",
                        "La structure choisit parfois l’open source mais ce n’est pas "
                        "systématique": "La collectivité choisit parfois l’open source mais ce "
                        "n’est pas systématique",
                        "La structure choisit le logiciel qu’elle estime le meilleur, l’open "
                        "source n’est pas un critère de choix": "La collectivité choisit le "
                        "logiciel qu’elle estime le meilleur, l’open source n’est pas un critère "
                        "de choix",
                    },
                },
            ),
            Q(
                "reversibilite",
                "single",
                options=[
                    "La structure privilégie systématiquement les solutions qui garantissent la "
                    "récupération des données",
                    "La structure privilégie des solutions dont elle pourrait confier "
                    "l’exploitation à un nouveau titulaire, suite à une nouvelle procédure de mise "
                    "en concurrence",
                    "La structure choisit le logiciel qu’elle estime le meilleur, la réversibilité "
                    "n’est pas un critère de choix",
                    JNSP,
                ],
            ),
            Q(
                "interoperabilite",
                "single",
                options=[
                    "La structure choisit des solutions qui proposent des interfaces d’échange "
                    "automatisé des données, en respectant des formats ouverts et standardisés",
                    "La structure choisit le logiciel qui propose des interfaces d’échange "
                    "automatisé des données respectant des formats ouverts et standardisés",
                    "La structure choisit des solutions privilégiant une sémantique et des "
                    "schémas de données standards",
                    JNSP,
                ],
            ),
        ],
    ),
    (
        "La cybersécurité",
        "cybersecurite",
        [
            Q(
                "cyber_attaque_subie",
                "single",
                options=OUI_NON,
                previous={"id": "cyber_attaque_subie"},
            ),
            Q(
                "cyber_attaque_details",
                "text",
                asked_if={"question": "cyber_attaque_subie", "in": ["Oui"]},
            ),
            Q(
                "cyber_exposition",
                "single",
                options=[
                    "Oui, de façon continue",
                    "Oui, de façon fréquente",
                    "Oui, de temps en temps",
                    "Non, probablement pas",
                    JNSP,
                ],
                previous={"id": "cyber_exposition"},
            ),
            Q(
                "cyber_risque_niveau",
                "single",
                options=[
                    "Le niveau est bon : une stratégie est en place avec un budget dédié",
                    "Le niveau est correct : le sujet est identifié et partagé par les agents (et "
                    "les élus) de la structure",
                    "Le niveau est insuffisant : le sujet n’est identifié que par quelques experts",
                    "Le sujet n’est pas identifié",
                    JNSP,
                ],
                previous={
                    "id": "cyber_risque_niveau",
                    "options": {
                        "Le niveau est correct : le sujet est identifié et partagé par les agents "
                        "(et les élus) de la structure": "Le niveau est correct : le sujet est "
                        "identifié et partagé par les agents (et les élus) de la collectivité"
                    },
                },
            ),
            Q(
                "cyber_obstacles",
                "multiple",
                5,
                items=["competences", "recrutement", "moyens_financiers", "temps", "ne_sait_pas"],
                previous={
                    "id": "cyber_obstacles",
                    "note": "2022 asked about obstacles to the diffusion of security tools, 2023 "
                    "to their implementation.",
                },
            ),
            Q("cyber_obstacles_autre", "text", other_of="cyber_obstacles"),
            Q(
                "cyber_mesures",
                "matrix",
                9,
                items=[
                    "formation",
                    "rssi",
                    "strategie",
                    "certification_iso27001",
                    "hebergement_souverain",
                    "clauses_contrats",
                    "clauses_dsp",
                    "anssi",
                    "outils_reseaux",
                ],
                options=OUI_PREVU,
                previous={"id": "cyber_mesures", "options": NON_2022},
            ),
        ],
    ),
    (
        "Le numérique responsable",
        "environnement",
        [
            Q(
                "numerique_responsable",
                "single",
                options=[
                    "Oui, et la stratégie a déjà été adoptée",
                    "Oui, et la stratégie est en cours d’élaboration",
                    "Non, le sujet n’a pas encore été traité",
                    JNSP,
                ],
                previous={"id": "numerique_responsable"},
            ),
            # No filter: shown to every respondent who reached the page, whatever the answer
            # to numerique_responsable (checked on the export).
            Q(
                "nr_thematiques",
                "multiple",
                6,
                items=[
                    "impact_terminaux",
                    "impact_hors_terminaux",
                    "inclusion",
                    "accessibilite",
                    "ethique",
                    "accompagnement",
                ],
            ),
            Q("nr_thematiques_autre", "text", other_of="nr_thematiques"),
            Q(
                "nr_inclusion",
                "multiple",
                9,
                items=[
                    "illectronisme",
                    "demarches",
                    "equipement",
                    "acces_reseaux",
                    "handicap",
                    "seniors",
                    "jeunes",
                    "precarite",
                    "ne_sait_pas",
                ],
                asked_if={"question": "nr_thematiques", "items": ["inclusion", "accessibilite"]},
            ),
            Q(
                "nr_inclusion_autre",
                "text",
                other_of="nr_inclusion",
                asked_if={"question": "nr_thematiques", "items": ["inclusion", "accessibilite"]},
            ),
            Q(
                "nr_documents",
                "upload",
                2,
                asked_if={
                    "question": "numerique_responsable",
                    "in": [
                        "Oui, et la stratégie a déjà été adoptée",
                        "Oui, et la stratégie est en cours d’élaboration",
                    ],
                },
            ),
        ],
    ),
    (
        "Pour finir",
        "contexte",
        [
            Q("commentaires", "text"),
            Q("documents_complementaires", "upload", 2),
        ],
    ),
]

HEAD_ADMIN = [
    ("response_id", "id", "ID de la réponse"),
    ("submitted", "submitdate", "Date de soumission"),
    ("last_page", "lastpage", "Dernière page"),
    ("start_language", "startlanguage", "Langue de départ"),
    ("seed", "seed", "Tête de série"),
]
TAIL_ADMIN = [
    ("category_raw", "categorie_enrichissement", "Catégorie (enrichissement)"),
    ("population_raw", "population_enrichissement", "Population totale (enrichissement)"),
    ("structure_key", "cle_structure", "Structure (clé pseudonymisée)"),
]
ADMIN_TEXT = {
    "response_id": "Identifiant LimeSurvey de la réponse",
    "submitted": "Date de soumission (vide si non soumise ; date masquée 1980-01-01 sinon)",
    "last_page": "Dernière page atteinte (13 = fin du questionnaire)",
    "start_language": "Langue de départ",
    "seed": "Graine aléatoire LimeSurvey",
    "category_raw": "Catégorie de structure ajoutée par les auteurs (Commune, EPCI, Metropole, "
    "Departement, Region ou vide)",
    "population_raw": "Population totale (INSEE) ajoutée par les auteurs",
    "structure_key": "Clé pseudonymisée de la structure (une par nom de structure normalisé)",
}

TIMING_TOTAL = "Temps total :"
TIMING_GROUP = "Durée pour le groupe : "
TIMING_QUESTION = "Durée pour la question: "
FILECOUNT = "filecount - "

HEADER_2023 = """\
# Codebook of the 2023 edition of the Baromètre de la data dans les territoires.
# Drafted by scripts/draft_codebook.py from the real LimeSurvey export (299 columns, full-text
# headings, long answers) and checked by tests/test_codebook.py; edit the script's spec, not
# this file, then re-run it.
#
# - Every column of the export belongs to exactly one question, in export order. The six
#   identifying columns of a field export (e-mail, prénom, nom, fonction: type personal; nom de
#   structure, SIRET: type admin with identifying: true) are listed where the original export
#   has them; they are absent from the shared file. The three enrichment columns added by the
#   authors and the LimeSurvey metadata are admin.
# - Question codes come from the "Durée pour la question: <code>" timing columns, group by
#   group, in question order. Sub-question codes (SQ001, SQ002, … for multiple choice and
#   matrix rows, [1]…[5] for ranks, [other] for an "[Autre]" text, _filecount for uploads) are
#   ASSUMED to follow LimeSurvey's default numbering: the real export has full-text headings
#   only. Timing codes (interviewtime, groupTime<n> with n the group's rank, <code>Time) and
#   the enrichment codes are likewise conventions, not read from a real export.
# - Options: every answer observed in the export, in the questionnaire's logical order
#   (positive to negative, "Je ne sais pas" last). Multiple-choice cells hold Oui, Non or N/A.
# - asked_if: filters derived from the export (a column is N/A, or empty, exactly when the
#   parent answer is not one of the listed values); tests/test_codebook.py checks each of
#   them on the real file.
# - previous: crosswalk to the 2022 codebook (matched on question text); options: maps a
#   2023 answer to its 2022 label where they differ; note: caveats for comparisons;
#   comparable: yes | wording | no (no: never drawn as an evolution; wording: drawn with
#   comparable_why beside it); comparable_why: the reason, in French (the report prints it).
"""

HEADER_2022 = """\
# Codebook of the 2022 edition, rebuilt from the published aggregates (All_statistics_2022.csv):
# the 36 survey questions the aggregates cover. No 2022 response file is available, so
# "columns" are the aggregates' question identifiers (code) and question texts (heading):
# arrays as <id>[SQnnn], rankings as <id>[k], multiple-choice options as <id>[<option code>]
# (the aggregates print them mangled, e.g. "G7Q00002AO02]"). Groups are inferred from the
# question codes and themes. asked_if: the four filtered questions, checked against the
# aggregates' "Nombre de réponses" by tests/test_codebook.py.
# not_in_2023: 2022 questions that no 2023 question links to, with the reason; every other
# 2022 question is the previous: of a 2023 question (checked both ways by the tests).
"""


# --------------------------------------------------------------------------------------------
# 2023
# --------------------------------------------------------------------------------------------
def _strip_item(heading: str) -> tuple[str, str | None]:
    """Split ``Question [item]`` into the question text and the item label."""
    m = re.match(r"^(.*\S)\s*\[([^\[\]]*)\]\s*$", heading, flags=re.S)
    if not m:
        return " ".join(heading.split()), None
    return " ".join(m.group(1).split()), " ".join(m.group(2).split())


def read_export(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def draft_2023(export: Path) -> dict[str, Any]:
    headings, rows = read_export(export)
    values = [Counter(r[i] for r in rows) for i in range(len(headings))]
    pos = 0

    def take(n: int) -> list[int]:
        nonlocal pos
        idx = list(range(pos, pos + n))
        pos += n
        return idx

    # Timing block: group names and question codes.
    t0 = headings.index(TIMING_TOTAL)
    timing_groups: list[tuple[str, int, list[tuple[str, int]]]] = []
    for i in range(t0 + 1, len(headings)):
        h = headings[i]
        if h.startswith(TIMING_GROUP):
            timing_groups.append((h[len(TIMING_GROUP) :], i, []))
        elif h.startswith(TIMING_QUESTION):
            timing_groups[-1][2].append((h[len(TIMING_QUESTION) :], i))
        else:
            break
    t_end = t0 + 1 + sum(1 + len(g[2]) for g in timing_groups)
    if [g[0] for g in timing_groups] != [g[0] for g in GROUPS]:
        raise SystemExit(
            f"groups differ: {[g[0] for g in timing_groups]} vs {[g[0] for g in GROUPS]}"
        )

    questions: list[dict[str, Any]] = []

    def admin(qid: str, code: str, expected: str, group: str) -> None:
        (i,) = take(1)
        if normalise_heading(headings[i]) != normalise_heading(expected):
            raise SystemExit(f"column {i}: expected {expected!r}, found {headings[i]!r}")
        questions.append(
            {
                "id": qid,
                "code": code,
                "group": group,
                "chapter": "contexte",
                "type": "admin",
                "text": ADMIN_TEXT[qid],
                "columns": [{"heading": headings[i], "code": code}],
            }
        )

    for qid, code, expected in HEAD_ADMIN:
        admin(qid, code, expected, "(métadonnées LimeSurvey)")

    multiples: dict[str, dict[str, Any]] = {}
    for (gname, gchapter, qs), (_, _, codes) in zip(GROUPS, timing_groups, strict=True):
        consumers = [q for q in qs if q.other_of is None]
        if len(consumers) != len(codes):
            raise SystemExit(
                f"group {gname!r}: {len(consumers)} questions in the spec, {len(codes)} codes"
            )
        code_of = {q.id: c for q, (c, _) in zip(consumers, codes, strict=True)}
        for q in qs:
            code = q.code or (code_of[q.id] if q.other_of is None else None)
            entry: dict[str, Any] = {"id": q.id}
            cols: list[dict[str, Any]] = []
            if q.n == 0:  # identifying / personal column absent from the real file
                text = " ".join(q.heading.split())
                cols.append({"heading": q.heading, "code": code})
            elif q.other_of is not None:
                parent = multiples[q.other_of]
                (i,) = take(1)
                text_q, label = _strip_item(headings[i])
                if label != "Autre" or text_q != parent["text"]:
                    raise SystemExit(f"column {i} {headings[i]!r} is not the [Autre] of {parent}")
                code = parent["code"]
                text = f"{text_q} — Autre (précisez)"
                cols.append({"heading": headings[i], "code": f"{code}[other]"})
            else:
                idx = take(q.n)
                if q.type == "upload":
                    main, count = (headings[j] for j in idx)
                    if count != FILECOUNT + main:
                        raise SystemExit(f"columns {idx}: upload without filecount: {count!r}")
                    text = " ".join(main.split())
                    cols = [
                        {"heading": main, "code": code, "item": "documents"},
                        {"heading": count, "code": f"{code}_filecount", "item": "filecount"},
                    ]
                elif q.type in ("multiple", "matrix", "ranking"):
                    parts = [_strip_item(headings[j]) for j in idx]
                    texts = {t for t, _ in parts}
                    if len(texts) != 1 or any(lbl is None for _, lbl in parts):
                        raise SystemExit(f"columns {idx} do not form one question: {texts}")
                    text = texts.pop()
                    if q.type == "ranking":
                        for k, (j, (_, lbl)) in enumerate(zip(idx, parts, strict=True), 1):
                            if lbl != f"Classement {k}":
                                raise SystemExit(f"column {j}: expected rank {k}, got {lbl!r}")
                            cols.append(
                                {"heading": headings[j], "code": f"{code}[{k}]", "item": str(k)}
                            )
                    else:
                        if len(q.items) != q.n:
                            raise SystemExit(f"{q.id}: {len(q.items)} items for {q.n} columns")
                        for k, (j, (_, lbl), item) in enumerate(
                            zip(idx, parts, q.items, strict=True), 1
                        ):
                            cols.append(
                                {
                                    "heading": headings[j],
                                    "code": f"{code}[SQ{k:03d}]",
                                    "item": item,
                                    "label": lbl,
                                }
                            )
                else:
                    (j,) = idx
                    text = " ".join(headings[j].split())
                    cols.append({"heading": headings[j], "code": code})
                # observed answers must be options
                for j in idx:
                    obs = {normalise_heading(v) for v in values[j] if v not in ("", "N/A")}
                    if q.type == "multiple":
                        bad = obs - {"Oui", "Non"}
                    elif q.type in ("single", "matrix", "ranking"):
                        bad = obs - {normalise_heading(o) for o in q.options}
                    elif q.type == "admin":
                        bad = obs
                    else:
                        bad = set()
                    if bad:
                        raise SystemExit(f"{q.id}: column {j} has answers outside the spec: {bad}")
            entry.update(
                {
                    "code": code,
                    "group": gname,
                    "chapter": q.chapter or gchapter,
                    "type": q.type,
                    "text": q.text or text,
                }
            )
            if q.identifying:
                entry["identifying"] = True
            if q.options:
                entry["options"] = list(q.options)
            entry["columns"] = cols
            if q.asked_if:
                entry["asked_if"] = q.asked_if
            if q.previous:
                comparable, why = COMPARABILITY[q.id]
                entry["previous"] = {
                    "edition": 2022,
                    **q.previous,
                    "comparable": comparable,
                    "comparable_why": why,
                }
            questions.append(entry)
            if q.type == "multiple":
                multiples[q.id] = entry

    # enrichment columns sit between the timing block and the end in the shared file
    enrichment_start = t_end
    # Timing questions: the total, then one per group (group time + per-question times).
    if pos != t0:
        raise SystemExit(f"spec ends at column {pos}, timing starts at {t0}")
    take(1)
    questions.append(
        {
            "id": "duree_totale",
            "code": "interviewtime",
            "group": "(durées)",
            "chapter": "contexte",
            "type": "timing",
            "text": "Temps total passé sur le questionnaire (secondes)",
            "columns": [{"heading": headings[t0], "code": "interviewtime"}],
        }
    )
    slug_of = {
        "Vous connaître": "vous_connaitre",
        "Mieux connaître votre collectivité": "votre_collectivite",
        "Droit des données publiques": "droit_donnees",
        "Les objectifs et les priorités pour l'utilisation des données": "objectifs_priorites",
        "La gouvernance des données": "gouvernance",
        "Le management de la donnée": "management",
        "": "groupe_sans_titre",
        "L’ouverture et la transparence": "ouverture_transparence",
        "L'intelligence artificielle": "intelligence_artificielle",
        "Les enjeux techniques de la gestion des données": "enjeux_techniques",
        "La cybersécurité": "cybersecurite",
        "Le numérique responsable": "numerique_responsable",
        "Pour finir": "pour_finir",
    }
    for rank, (gname, gi, codes) in enumerate(timing_groups, 1):
        take(1 + len(codes))
        questions.append(
            {
                "id": f"duree_{slug_of[gname]}",
                "code": f"groupTime{rank}",
                "group": gname,
                "chapter": "contexte",
                "type": "timing",
                "text": f"Durée passée sur le groupe « {gname or 'sans titre'} » et ses "
                "questions (secondes)",
                "columns": [{"heading": headings[gi], "code": f"groupTime{rank}", "item": "groupe"}]
                + [{"heading": headings[i], "code": f"{c}Time", "item": c} for c, i in codes],
            }
        )
    if pos != enrichment_start:
        raise SystemExit("timing block miscounted")
    for qid, code, expected in TAIL_ADMIN:
        admin(qid, code, expected, "(enrichissement)")
    if pos != len(headings):
        raise SystemExit(f"{len(headings) - pos} columns left over after the spec")
    return {"edition": 2023, "version": "2023.1", "questions": questions}


# --------------------------------------------------------------------------------------------
# 2022
# --------------------------------------------------------------------------------------------
@dataclass
class Q22:
    id: str
    ident: str  # 2022 identifier (question code)
    type: str
    chapter: str
    group: str
    options: list[str] = field(default_factory=list)
    items: dict[str, str] = field(default_factory=dict)  # sub-question code -> item id
    asked_if: dict[str, Any] | None = None


G_DROIT = "Droit des données publiques"
G_OBJ = "Les objectifs et les priorités"
G_OUV = "L’ouverture et la transparence"
G_ETH = "L’éthique"
G_GOUV = "La gouvernance des données"
G_MGT = "Le management de la donnée"
G_TECH = "Les enjeux techniques"
G_CYB = "La cybersécurité"
G_IA = "L’intelligence artificielle"
G_NR = "Le numérique responsable"

SPEC_2022 = [
    Q22(
        "rgpd_conformite",
        "Droitdesdonnees1",
        "single",
        "gouvernance",
        G_DROIT,
        ["Oui, tout à fait", "Oui, partiellement", "Non, pas complètement", "Non, pas encore"],
    ),
    Q22(
        "dpo_nomme",
        "G2Q00002",
        "single",
        "gouvernance",
        G_DROIT,
        [
            "Oui, en interne",
            "Oui, externalisé auprès d'une autre collectivité (mutualisation)",
            "Oui, externalisé auprès d’un prestataire",
            "Non, pas encore",
        ],
    ),
    Q22("rgpd_processus", "G2Q00003", "single", "gouvernance", G_DROIT, OUI_NON),
    Q22("clauses_juridiques", "G2Q00004", "single", "gouvernance", G_DROIT, OUI_NON),
    Q22(
        "clauses_domaines",
        "G2Q00005",
        "multiple",
        "gouvernance",
        G_DROIT,
        items={"SQ001": "rgpd", "SQ002": "propriete", "SQ003": "open_data", "SQ004": "standards"},
        asked_if={"question": "clauses_juridiques", "in": ["Oui"]},
    ),
    Q22("souverainete_politique", "G2Q00006", "single", "gouvernance", G_DROIT, OUI_NON),
    Q22(
        "priorites",
        "G3Q00002",
        "ranking",
        "motivations",
        G_OBJ,
        [
            "Les retombées en matière de politiques publiques (efficacité de la mise en œuvre)",
            "Les retombées en matière de relations au citoyen (transparence, information, "
            "nouveaux services)",
            "Les retombées économiques (retour sur investissement)",
        ],
        items={"1": "1", "2": "2", "3": "3"},
    ),
    Q22("experimentations", "G3Q00003", "single", "motivations", G_OBJ, OUI_NON),
    Q22(
        "usages_domaines",
        "Objectifs1",
        "matrix",
        "motivations",
        G_OBJ,
        OUI_NON,
        items={
            "SQ002": "amenagement",
            "SQ003": "mobilite",
            "SQ004": "administration",
            "SQ005": "developpement_economique",
            "SQ006": "espace_public",
            "SQ007": "securite",
            "SQ008": "patrimoine",
            "SQ009": "dechets",
            "SQ010": "energie_eclairage",
            "SQ011": "tourisme",
            "SQ012": "citoyennete",
            "SQ013": "environnement",
        },
    ),
    Q22(
        "opendata_obligations",
        "Transparence1",
        "single",
        "gouvernance",
        G_OUV,
        ["Oui", "Non", "Ma collectivité n’est pas concernée par cette obligation", JNSP],
    ),
    Q22(
        "opendata_publication",
        "G4Q00002",
        "single",
        "gouvernance",
        G_OUV,
        ["Oui, de nombreux jeux de données", "Oui, quelques jeux de données", "Non, pas encore"],
    ),
    Q22(
        "opendata_portail",
        "G4Q00003",
        "single",
        "gouvernance",
        G_OUV,
        [
            "Son propre portail",
            "Un portail mutualisé (portail régional, départemental ou intercommunal par exemple)",
            "data.gouv.fr",
            JNSP,
        ],
        asked_if={
            "question": "opendata_publication",
            "in": ["Oui, de nombreux jeux de données", "Oui, quelques jeux de données"],
        },
    ),
    Q22("transparence_algo_info", "G4Q00005", "single", "gouvernance", G_OUV, OUI_NON),
    Q22("transparence_algo_actions", "G4Q00006", "single", "gouvernance", G_OUV, OUI_NON),
    Q22("charte_ethique", "Ethique1", "single", "gouvernance", G_ETH, OUI_NON),
    Q22(
        "charte_ethique_intention",
        "G5Q00002",
        "single",
        "gouvernance",
        G_ETH,
        [
            "Oui, elle envisage d'élaborer sa propre charte",
            "Oui, elle envisage d'adopter la charte à partir du modèle d'une autre collectivité",
            "Non",
            JNSP,
        ],
        # consistent with the aggregates (answers <= "Non" in every group), not exact
        asked_if={"question": "charte_ethique", "in": ["Non"]},
    ),
    Q22("gouvernance_regles", "Gouvernance1", "single", "gouvernance", G_GOUV, OUI_NON),
    Q22("partage_prives_global", "G6Q00003", "single", "gouvernance", G_GOUV, OUI_NON),
    Q22(
        "societe_civile_associee",
        "G6Q00005",
        "single",
        "gouvernance",
        G_GOUV,
        OUI_NON,
        asked_if={"question": "gouvernance_regles", "in": ["Oui"]},
    ),
    Q22(
        "acculturation",
        "Management1",
        "single",
        "motivations",
        G_MGT,
        [
            "Le niveau est bon : le sujet est identifié et partagé par les cadres (et les élus) "
            "de la collectivité",
            "Le niveau est correct : le sujet est identifié mais il n’est partagé que par "
            "quelques services pionniers",
            "Le niveau est insuffisant : le sujet n’est identifié que par quelques experts",
            "Le sujet n’est pas identifié",
        ],
    ),
    Q22(
        "obstacles",
        "G7Q00002",
        "multiple",
        "motivations",
        G_MGT,
        items={
            "AO02": "competences",
            "AO06": "formations",
            "AO03": "recrutement",
            "AO04": "moyens_financiers",
            "AO05": "temps",
        },
    ),
    Q22(
        "fonctions_data_creees",
        "G7Q00003",
        "multiple",
        "organisation",
        G_MGT,
        items={
            "SQ001": "comite_data",
            "SQ002": "chief_data_officer",
            "SQ003": "direction_donnee",
            "SQ004": "ne_sait_pas",
        },
    ),
    Q22(
        "directions_implication",
        "G7Q00005",
        "matrix",
        "organisation",
        G_MGT,
        [
            "Implication forte",
            "Implication ponctuelle",
            "Implication rare",
            "Pas d’implication",
            "Cette direction n'existe pas dans ma collectivité",
            JNSP,
        ],
        items={
            "SQ002": "direction_generale",
            "SQ003": "informatique",
            "SQ004": "sig",
            "SQ005": "archives",
            "SQ006": "communication",
            "SQ007": "services_techniques",
            "SQ008": "autres",
            "SQ009": "ressources_humaines",
        },
    ),
    Q22("elu_delegation", "G7Q00007", "single", "organisation", G_MGT, OUI_NON),
    Q22(
        "formation_besoins",
        "G7Q00009",
        "multiple",
        "organisation",
        G_MGT,
        items={
            "SQ002": "juridiques",
            "SQ003": "techniques",
            "SQ004": "metiers",
            "SQ005": "acculturation_services",
            "SQ006": "acculturation_elus",
            "SQ007": "management_quotidien",
        },
    ),
    Q22(
        "hebergement",
        "Enjeuxtechniques1",
        "single",
        "organisation",
        G_TECH,
        [
            "Sur des serveurs internes",
            "Dans un data center public local",
            "Dans un cloud certifié SecNum (cloud de confiance certifié par l'Etat)",
            "Dans un cloud non certifié SecNum",
            "Chez des éditeurs de logiciels (SaaS)",
            JNSP,
        ],
    ),
    Q22(
        "technologies_etat",
        "G8Q00002",
        "matrix",
        "organisation",
        G_TECH,
        ["En place", "En cours de déploiement", "Non utilisé", JNSP],
        items={
            "SQ002": "outils_analyse",
            "SQ003": "capteurs_iot",
            "SQ004": "lac_donnees",
            "SQ005": "standardisation",
            "SQ006": "interoperabilite",
        },
    ),
    Q22(
        "logiciels_choix",
        "G8Q00003",
        "single",
        "organisation",
        G_TECH,
        [
            "Fait le choix de logiciels français ou européen à chaque fois que c’est possible",
            "Choisit le logiciel qu’elle estime le meilleur quel que soit son origine",
            JNSP,
        ],
    ),
    Q22(
        "open_source",
        "G8Q00004",
        "single",
        "organisation",
        G_TECH,
        [
            "La collectivité privilégie systématiquement l’open source",
            "La collectivité choisit parfois l’open source mais ce n’est pas systématique",
            "La collectivité choisit le logiciel qu’elle estime le meilleur, l’open source n’est "
            "pas un critère de choix",
            JNSP,
        ],
    ),
    Q22(
        "cyber_exposition",
        "Cyber1",
        "single",
        "cybersecurite",
        G_CYB,
        [
            "Oui, de façon continue",
            "Oui, de façon fréquente",
            "Oui, de temps en temps",
            "Non, probablement pas",
        ],
    ),
    Q22(
        "cyber_risque_niveau",
        "G09Q00002",
        "single",
        "cybersecurite",
        G_CYB,
        [
            "Le niveau est bon : une stratégie est en place avec un budget dédié",
            "Le niveau est correct : le sujet est identifié et partagé par les agents (et les "
            "élus) de la collectivité",
            "Le niveau est insuffisant : le sujet n’est identifié que par quelques experts",
            "Le sujet n’est pas identifié",
        ],
    ),
    Q22(
        "cyber_obstacles",
        "G09Q0003",
        "multiple",
        "cybersecurite",
        G_CYB,
        items={
            "AO02": "competences",
            "AO03": "recrutement",
            "AO04": "moyens_financiers",
            "AO05": "temps",
        },
    ),
    Q22(
        "cyber_mesures",
        "G09Q00004",
        "matrix",
        "cybersecurite",
        G_CYB,
        OUI_NON,
        items={
            "SQ002": "formation",
            "SQ003": "rssi",
            "SQ004": "strategie",
            "SQ005": "certification_iso27001",
            "SQ006": "hebergement_souverain",
            "SQ007": "clauses_contrats",
            "SQ008": "clauses_dsp",
            "SQ009": "anssi",
        },
    ),
    Q22("cyber_attaque_subie", "G09Q00005", "single", "cybersecurite", G_CYB, OUI_NON),
    Q22("ia_projets", "IA1", "single", "ia", G_IA, OUI_NON),
    Q22(
        "numerique_responsable",
        "Numeriqueresp1",
        "single",
        "environnement",
        G_NR,
        [
            "Oui, et la stratégie a déjà été adoptée",
            "Oui, et la stratégie est en cours d’élaboration",
            "Non, le sujet n’a pas encore été traité",
            JNSP,
        ],
    ),
]

NOT_IN_2023 = {
    "experimentations": "2023 asks per domain whether projects were engaged or planned "
    "(projets_domaines), not one overall yes/no.",
    "opendata_publication": "Not asked in 2023.",
    "opendata_portail": "Not asked in 2023 (its filter opendata_publication is gone too).",
    "charte_ethique_intention": "Folded in 2023 into the answer levels of charte_ethique "
    "('Non, mais elle prévoit d’en élaborer une…').",
    "partage_prives_global": "2023 asks one row per kind of data sharing with private actors "
    "(partage_prives, a matrix with a planned level); no overall answer to compare.",
    "societe_civile_associee": "2023 asks which external actors were involved "
    "(acteurs_externes, multiple choice) instead of one yes/no on civil society.",
    "fonctions_data_creees": "2023 asks one row per data function with existing/planned levels "
    "(fonctions_data, a matrix); 2022 was a multiple choice without 'planned'.",
    "elu_delegation": "Not asked in 2023.",
    "technologies_etat": "2023 asks a different list of technologies with a planned level "
    "(technologies); the 2022 levels (en cours de déploiement, non utilisé) do not map.",
}


def _split_question(q: str) -> tuple[str, str]:
    ident, text = q.strip().split(". ", 1)
    return ident, text.strip()


def draft_2022(aggregates: Path) -> dict[str, Any]:
    with aggregates.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    blocks: dict[str, dict[str, Any]] = {}
    for r in rows:
        ident, text = _split_question(r["Question"])
        answer = r["Réponses"].strip()
        base = re.match(r"^([A-Za-z0-9]+?)(?:\[(\w+)\]|(AO\d+|SQ\d+)\])?$", ident)
        if not base:
            raise SystemExit(f"unparsed 2022 identifier {ident!r}")
        qcode, sub, _mangled = base.groups()
        b = blocks.setdefault(qcode, {"subs": {}, "answers": Counter(), "text": None})
        if sub is not None:  # array or ranking row: text ends with "[label]"
            t, label = _strip_item(text)
            b["text"] = t
            b["subs"][sub] = {"heading": text, "label": label}
            b["answers"][answer] += 1
        elif _mangled is not None:  # multiple choice: option in the answer
            b["text"] = " ".join(text.split())
            if answer != "Sans réponse":
                opt_code, rest = answer.split(". ", 1)
                label = rest.rsplit("[", 1)[1].strip()
                b["subs"][opt_code] = {"heading": f"{rest.strip()}]", "label": label}
        else:
            b["text"] = " ".join(text.split())
            b["heading"] = text
            b["answers"][answer] += 1
    spec_codes = {q.ident for q in SPEC_2022}
    if spec_codes != set(blocks):
        raise SystemExit(f"2022 spec and aggregates differ: {spec_codes ^ set(blocks)}")
    questions = []
    for q in SPEC_2022:
        b = blocks[q.ident]
        obs = {normalise_heading(a) for a in b["answers"] if a != "Sans réponse"}
        if q.type == "ranking":
            obs = obs  # items ranked
        bad = obs - {normalise_heading(o) for o in q.options}
        if bad:
            raise SystemExit(f"2022 {q.id}: answers outside the spec: {bad}")
        entry: dict[str, Any] = {
            "id": q.id,
            "code": q.ident,
            "group": q.group,
            "chapter": q.chapter,
            "type": q.type,
            "text": b["text"],
        }
        if q.options:
            entry["options"] = list(q.options)
        if q.type == "single":
            entry["columns"] = [{"heading": b["heading"], "code": q.ident}]
        else:
            if set(q.items) != set(b["subs"]):
                raise SystemExit(f"2022 {q.id}: items {sorted(q.items)} vs {sorted(b['subs'])}")
            cols = []
            for sub, item in sorted(q.items.items()):
                s = b["subs"][sub]
                col = {"heading": s["heading"], "code": f"{q.ident}[{sub}]", "item": item}
                if q.type != "ranking":
                    col["label"] = " ".join(s["label"].split())
                cols.append(col)
            entry["columns"] = cols
        if q.asked_if:
            entry["asked_if"] = q.asked_if
        questions.append(entry)
    return {
        "edition": 2022,
        "version": "2022.1",
        "not_in_2023": [{"id": k, "reason": v} for k, v in NOT_IN_2023.items()],
        "questions": [*ADMIN_2022[:3], *questions, *ADMIN_2022[3:]],
    }


def _admin(qid: str, code: str, group: str, text: str, heading: str) -> dict[str, Any]:
    return {
        "id": qid,
        "code": code,
        "group": group,
        "chapter": "contexte",
        "type": "admin",
        "text": text,
        "columns": [{"heading": heading, "code": code}],
    }


#: Admin columns of a 2022 export (not in the aggregates), so that 2022 microdata — the
#: embedded synthetic edition — can be ingested and cleaned like a 2023 export.
ADMIN_2022 = [
    _admin("response_id", "id", "(métadonnées LimeSurvey)", "Identifiant LimeSurvey de la réponse", "ID de la réponse"),
    _admin("submitted", "submitdate", "(métadonnées LimeSurvey)", "Date de soumission (vide si non soumise)", "Date de soumission"),
    _admin("last_page", "lastpage", "(métadonnées LimeSurvey)", "Dernière page atteinte", "Dernière page"),
    _admin("category_raw", "categorie_enrichissement", "(enrichissement)", "Catégorie de structure (Commune, EPCI, Metropole, Departement, Region ou vide)", "Catégorie (enrichissement)"),
    _admin("population_raw", "population_enrichissement", "(enrichissement)", "Population totale (INSEE)", "Population totale (enrichissement)"),
    _admin("structure_key", "cle_structure", "(enrichissement)", "Clé pseudonymisée de la structure (une par nom de structure normalisé)", "Structure (clé pseudonymisée)"),
]  # fmt: skip


# --------------------------------------------------------------------------------------------
class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = '"' if (data != data.strip() or data == "" or "\n" in data) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str)


def dump(raw: dict[str, Any], header: str, path: Path) -> None:
    from_dict(raw, path)  # validate before writing
    body = yaml.dump(raw, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    # one blank line between questions, for readers
    body = re.sub(r"\n(- id: )", r"\n\n\1", body)
    path.write_text(header + "\n" + body, encoding="utf-8")
    print(f"wrote {path} ({len(raw['questions'])} questions)")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--export-2023", type=Path, required=True)
    ap.add_argument("--aggregates-2022", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "codebook")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    dump(draft_2023(args.export_2023), HEADER_2023, args.out / "2023.yaml")
    dump(draft_2022(args.aggregates_2022), HEADER_2022, args.out / "2022.yaml")


if __name__ == "__main__":
    main()
