"""Speed measurements for guanxi: seed data at a given scale, time pages, count queries.

Run with ``guanxi bench`` (or ``make bench``); see bench/README.md.
"""
