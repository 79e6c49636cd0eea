"""Baromètre de la data dans les territoires: the survey pipeline and its report.

Stages, each a subpackage importing only the stages below it (checked by import-linter,
``make lint``)::

    cli      the ``barometre`` command
    build    prepare (export → processed dataset), notebook execution, rendering, file writes
    report   what a chapter notebook calls: chapter API, charts, tables, French formatting
    stats    weights, estimates, comparisons between editions, published aggregates, open data
    survey   questionnaire and responses: codebook, ingestion, reference, enrichment, cleaning
    fingerprint   content hashes and code fingerprints (imports nothing of the package)

docs/architecture.md says where each thing lives.
"""
