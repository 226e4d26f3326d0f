"""Reading survey results: the list, the figures per agent, a case's and a customer's
surveys. Every function takes the workspace and the actor and shows only the surveys the
actor's role lets them see (an agent: their own; a manager: their teams')."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Avg, Count, Q, QuerySet

from guanxi.common.errors import ApplicationError
from guanxi.platform import permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import Survey
from ..objects import SURVEY

ANSWERED = "answered"
PENDING = "pending"
ALL = "all"
STATES = (ANSWERED, PENDING, ALL)


@dataclass(frozen=True)
class SurveyFilters:
    """What the results are narrowed to. ``start``/``end``: UTC instants on the survey's
    sending time (end excluded)."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    agent_id: int | None = None
    queue_id: int | None = None
    case_type_id: int | None = None
    state: str = ANSWERED
    score: int | None = None


def surveys_visible(*, workspace: Workspace, actor: User) -> QuerySet[Survey]:
    permissions.require(actor, SURVEY, Action.READ)
    qs = Survey.objects.in_workspace(workspace)
    return permissions.visible(qs, actor=actor, object_key=SURVEY)


def _filtered(qs: QuerySet, filters: SurveyFilters, *, with_state: bool = True) -> QuerySet:
    if filters.start is not None:
        qs = qs.filter(created_at__gte=filters.start)
    if filters.end is not None:
        qs = qs.filter(created_at__lt=filters.end)
    if filters.agent_id:
        qs = qs.filter(agent_id=filters.agent_id)
    if filters.queue_id:
        qs = qs.filter(case__queue_id=filters.queue_id)
    if filters.case_type_id:
        qs = qs.filter(case__case_type_id=filters.case_type_id)
    if with_state:
        if filters.state == ANSWERED:
            qs = qs.filter(answered_at__isnull=False)
        elif filters.state == PENDING:
            qs = qs.filter(answered_at__isnull=True)
        if filters.score:
            qs = qs.filter(score=filters.score)
    return qs


def survey_results(*, workspace: Workspace, actor: User, filters: SurveyFilters) -> QuerySet:
    """The surveys under ``filters``, with what a row shows loaded (order them by the
    caller's page: newest first by id)."""
    if filters.state not in STATES:
        raise ApplicationError(_state_message(), fields={"state": [_state_message()]})
    return _filtered(surveys_visible(workspace=workspace, actor=actor), filters).select_related(
        "case", "case__case_type", "case__queue", "agent", "account", "contact"
    )


def _state_message():
    from django.utils.translation import gettext_lazy as _

    return _("Choose one of: %(choices)s.") % {"choices": ", ".join(STATES)}


@dataclass
class AgentFigures:
    agent_id: int | None
    name: str
    sent: int = 0
    answered: int = 0
    average: float | None = None
    distribution: dict[int, int] = field(default_factory=lambda: dict.fromkeys(range(1, 6), 0))

    @property
    def response_rate(self) -> float | None:
        return round(100 * self.answered / self.sent, 1) if self.sent else None

    @property
    def low(self) -> int:
        return self.distribution[1] + self.distribution[2]


@dataclass
class AgentStats:
    agents: list[AgentFigures]
    total: AgentFigures


def agent_stats(*, workspace: Workspace, actor: User, filters: SurveyFilters) -> AgentStats:
    """Per agent (who resolved the case): surveys sent, answered, the response rate, the
    average score and the count of each score — one grouped query; the total row is their
    sum (its average weighted by answers)."""
    qs = _filtered(surveys_visible(workspace=workspace, actor=actor), filters, with_state=False)
    rows = (
        qs.values("agent_id", "agent__full_name")
        .annotate(
            sent=Count("id"),
            answered=Count("id", filter=Q(answered_at__isnull=False)),
            average=Avg("score", filter=Q(answered_at__isnull=False)),
            **{f"s{n}": Count("id", filter=Q(score=n)) for n in range(1, 6)},
        )
        .order_by("agent__full_name", "agent_id")
    )
    agents: list[AgentFigures] = []
    total = AgentFigures(agent_id=None, name="")
    score_sum = 0
    for row in rows:
        figures = AgentFigures(
            agent_id=row["agent_id"],
            name=row["agent__full_name"] or "",
            sent=row["sent"],
            answered=row["answered"],
            average=round(float(row["average"]), 2) if row["average"] is not None else None,
            distribution={n: row[f"s{n}"] for n in range(1, 6)},
        )
        agents.append(figures)
        total.sent += figures.sent
        total.answered += figures.answered
        for n in range(1, 6):
            total.distribution[n] += figures.distribution[n]
            score_sum += n * figures.distribution[n]
    if total.answered:
        total.average = round(score_sum / total.answered, 2)
    agents.sort(key=lambda a: (-(a.average or 0), a.name))
    return AgentStats(agents=agents, total=total)


def case_surveys(*, workspace: Workspace, actor: User, case_id: int) -> list[Survey]:
    """The surveys of one case, latest round first (one query)."""
    qs = surveys_visible(workspace=workspace, actor=actor).filter(case_id=case_id)
    return list(qs.select_related("agent").order_by("-round", "-id")[:20])


def customer_surveys(
    *,
    workspace: Workspace,
    actor: User,
    account_id: int | None = None,
    contact_id: int | None = None,
    limit: int = 5,
) -> list[Survey]:
    """A customer's last answered surveys, newest first (one query)."""
    qs = surveys_visible(workspace=workspace, actor=actor).filter(answered_at__isnull=False)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    else:
        qs = qs.filter(contact_id=contact_id)
    return list(qs.select_related("case").order_by("-answered_at", "-id")[:limit])
