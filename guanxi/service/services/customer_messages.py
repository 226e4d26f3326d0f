"""What goes to the customer about a case, by e-mail or SMS (owned by the channels part).

CONTRACT (the channels part replaces these bodies):
- case_acknowledge(case): queue the acknowledgement with the case number (e-mail to the
  contact/reply address, else SMS to the mobile/reply phone), once per case (idempotency
  key), on commit; sets case.acknowledged_at through an update.
- case_deliver(case, message): queue an outbound CaseMessage to the customer by the case's
  channel (e-mail with the case number and thread key in the subject; SMS), on commit.
"""

from __future__ import annotations


def case_acknowledge(case) -> None:
    return None


def case_deliver(case, message) -> None:
    return None
