"""The satisfaction survey sent on resolution (owned by the surveys part).

CONTRACT (the surveys part replaces this body):
- survey_start(case, *, now): make the case's survey for this resolution (one per round,
  idempotent) and queue the link by e-mail or SMS on commit.
"""

from __future__ import annotations


def survey_start(case, *, now) -> None:
    return None
