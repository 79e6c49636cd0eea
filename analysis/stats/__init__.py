"""Statistics of the survey: weights, estimates of every tabulated question, comparisons
between editions, the previous edition's published aggregates, the open-data table.

May import: :mod:`analysis.survey`, :mod:`analysis.fingerprint`. Never report or build.
"""
