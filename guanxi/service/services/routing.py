"""Automatic distribution of cases (owned by the assignment part).

CONTRACT (the assignment part replaces this body):
- case_route(case, *, actor): choose the queue (category's queue, language, default queue)
  and, by the queue's method (round-robin, skills, load), an available agent; set
  case.queue and case.assignee in memory (the caller saves the case, writes the
  "assigned" event and notifies the assignee). Race-safe (select_for_update on the queue).
"""

from __future__ import annotations


def case_route(case, *, actor) -> None:
    return None
