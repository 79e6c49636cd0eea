"""The questionnaire and the responses: codebook, ingestion of an export (personal columns
dropped), reference of collectivités and frames, enrichment, cleaning, strata, synthetic
editions, and reading back the processed dataset.

May import: :mod:`analysis.fingerprint`. Never the stats, report or build stages.
"""
