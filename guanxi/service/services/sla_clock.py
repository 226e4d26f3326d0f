"""The SLA clock of a case (owned by the SLA part). The case services call these; each sets
fields on the given case in memory and the caller saves it in its transaction.

CONTRACT (the SLA part replaces these bodies):
- sla_start(case, *, now): pick the policy (customer class × priority), set sla_policy,
  response/resolution due and warn times from the business calendar.
- sla_pause(case, *, now): the case waits on the customer: record used business minutes,
  set sla_paused_at.
- sla_resume(case, *, now): the clock restarts: due and warn times moved on by the pause.
- sla_first_response(case, *, now): the first answer went out (first_response_at is set by
  the caller); nothing else to time for the response.
- sla_reapply(case, *, now): priority or customer changed: pick the policy again, keeping
  the business time already used.
"""

from __future__ import annotations


def sla_start(case, *, now) -> None:
    return None


def sla_pause(case, *, now) -> None:
    return None


def sla_resume(case, *, now) -> None:
    return None


def sla_first_response(case, *, now) -> None:
    return None


def sla_reapply(case, *, now) -> None:
    return None
