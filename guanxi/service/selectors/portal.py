"""Reads of the portal: the workspace a portal URL names, a customer's own cases and their
public conversation, the public articles by category, and the deflection figures staff
see (searches, those that ended without a case, content gaps, helpful articles)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from django.db.models import BooleanField as BooleanOutput
from django.db.models import Count, Exists, ExpressionWrapper, OuterRef, Q
from django.db.models.functions import Lower, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError
from guanxi.common.pagination import Page, paginate
from guanxi.platform import permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import (
    ArticleCategory,
    Case,
    CaseChannel,
    CaseMessage,
    MessageKind,
    PortalSearch,
)
from ..objects import CONFIGURATION

# A search counts as deflected when its visitor filed no case within this time after it.
DEFLECTION_WINDOW = dt.timedelta(hours=24)
DEFAULT_DAYS = 30
MAX_DAYS = 366
TOP = 10
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2999, 12, 31)


def portal_workspace(slug: str) -> Workspace | None:
    """The workspace whose portal lives at /portal/<slug>/."""
    text = str(slug or "")
    if not text or len(text) > 60:
        return None
    return Workspace.objects.filter(slug=text).first()


# --- cases -----------------------------------------------------------------------------------


def portal_cases(
    *, workspace: Workspace, contact, cursor: str | None = None, limit: int = 20
) -> Page:
    """The contact's own cases, newest first (a keyset page)."""
    qs = (
        Case.objects.in_workspace(workspace)
        .filter(contact=contact)
        .select_related("case_type")
        .only(
            "id",
            "number",
            "subject",
            "status",
            "created_at",
            "last_message_at",
            "case_type__name",
        )
    )
    return paginate(qs, descending=True, cursor=cursor, limit=limit)


def portal_case_messages(*, workspace: Workspace, case: Case) -> list[CaseMessage]:
    """The case's conversation as the customer sees it: their messages and the answers,
    never the internal notes."""
    return list(
        CaseMessage.objects.in_workspace(workspace)
        .filter(case=case, kind__in=(MessageKind.INBOUND, MessageKind.OUTBOUND))
        .select_related("author")
        .only("id", "kind", "body", "created_at", "author__full_name", "case_id")
        .order_by("id")
    )


# --- articles --------------------------------------------------------------------------------


def public_categories(*, workspace: Workspace) -> list[tuple[ArticleCategory, int]]:
    """The categories that hold public published articles, with how many, in order."""
    from ..services.portal import public_articles

    counts = dict(
        public_articles(workspace)
        .filter(category__isnull=False)
        .values_list("category_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    if not counts:
        return []
    rows = ArticleCategory.objects.in_workspace(workspace).filter(pk__in=list(counts))
    return [(row, counts[row.pk]) for row in rows.order_by("position", "name", "id")]


# --- deflection ------------------------------------------------------------------------------


@dataclass
class DeflectionDay:
    day: dt.date
    searches: int = 0
    deflected: int = 0

    @property
    def rate(self) -> float | None:
        return round(self.deflected / self.searches, 4) if self.searches else None


@dataclass
class DeflectionReport:
    date_from: dt.date
    date_to: dt.date
    searches: int = 0
    deflected: int = 0
    # Deflected searches younger than the window: their visitor may still file a case.
    pending: int = 0
    cases: int = 0
    no_result_searches: int = 0
    days: list[DeflectionDay] = field(default_factory=list)
    content_gaps: list[dict] = field(default_factory=list)  # {"query", "searches"}
    helpful_articles: list[dict] = field(default_factory=list)  # {"id", "title", "yes", "no"}

    @property
    def rate(self) -> float | None:
        return round(self.deflected / self.searches, 4) if self.searches else None


def deflection_period(date_from=None, date_to=None, *, today: dt.date) -> tuple[dt.date, dt.date]:
    """The period asked for (both ends included), the last 30 days by default."""
    for name, value in (("from", date_from), ("to", date_to)):
        if value is not None and not FIRST_DAY <= value <= LAST_DAY:
            message = _("Choose a day between %(first)s and %(last)s.") % {
                "first": FIRST_DAY.isoformat(),
                "last": LAST_DAY.isoformat(),
            }
            raise ApplicationError(message, fields={name: [message]})
    date_to = date_to or today
    date_from = date_from or date_to - dt.timedelta(days=DEFAULT_DAYS - 1)
    if date_from > date_to:
        message = _("The start of the period comes after its end.")
        raise ApplicationError(message, fields={"from": [message]})
    if (date_to - date_from).days >= MAX_DAYS:
        message = _("Choose a period of at most %(n)s days.") % {"n": MAX_DAYS}
        raise ApplicationError(message, fields={"from": [message]})
    return date_from, date_to


def deflection_report(
    *,
    workspace: Workspace,
    actor: User,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    now: dt.datetime | None = None,
) -> DeflectionReport:
    """The portal's searches in the period (days of the workspace's time zone) and how many
    of them were deflected: the visitor (the same browser, or the same signed-in contact)
    filed no case within 24 hours after the search. With the days, the most searched
    queries that found nothing (content gaps) and the articles found most helpful."""
    permissions.require(actor, CONFIGURATION, Action.READ)
    now = now or timezone.now()
    tz = _zone(workspace)
    date_from, date_to = deflection_period(date_from, date_to, today=now.astimezone(tz).date())
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    searches = PortalSearch.objects.in_workspace(workspace).filter(
        created_at__gte=start, created_at__lt=end
    )
    by_visitor = PortalSearch.objects.in_workspace(workspace).filter(
        visitor_key=OuterRef("visitor_key"),
        case__isnull=False,
        case__created_at__gte=OuterRef("created_at"),
        case__created_at__lt=OuterRef("created_at") + DEFLECTION_WINDOW,
    )
    by_contact = Case.objects.in_workspace(workspace).filter(
        contact=OuterRef("contact"),
        channel=CaseChannel.PORTAL,
        created_at__gte=OuterRef("created_at"),
        created_at__lt=OuterRef("created_at") + DEFLECTION_WINDOW,
    )
    filed = ExpressionWrapper(Exists(by_visitor) | Exists(by_contact), output_field=BooleanOutput())
    rows = (
        searches.annotate(filed=filed, day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(
            n=Count("id"),
            deflected=Count("id", filter=Q(filed=False)),
            pending=Count("id", filter=Q(filed=False, created_at__gt=now - DEFLECTION_WINDOW)),
            no_results=Count("id", filter=Q(results=0)),
        )
        .order_by("day")
    )
    report = DeflectionReport(date_from=date_from, date_to=date_to)
    seen: dict[dt.date, DeflectionDay] = {}
    for row in rows:
        day = row["day"]
        if isinstance(day, str):  # SQLite hands dates back as text here
            day = dt.date.fromisoformat(day)
        seen[day] = DeflectionDay(day=day, searches=row["n"], deflected=row["deflected"])
        report.searches += row["n"]
        report.deflected += row["deflected"]
        report.pending += row["pending"]
        report.no_result_searches += row["no_results"]
    day = date_from
    while day <= date_to:
        report.days.append(seen.get(day, DeflectionDay(day=day)))
        day += dt.timedelta(days=1)
    report.cases = (
        searches.filter(case__isnull=False).values("case_id").distinct().order_by().count()
    )
    report.content_gaps = [
        {"query": row["q"], "searches": row["n"]}
        for row in searches.filter(results=0)
        .annotate(q=Lower("query"))
        .values("q")
        .annotate(n=Count("id"))
        .order_by("-n", "q")[:TOP]
    ]
    report.helpful_articles = [
        {
            "id": row["opened_article_id"],
            "title": row["opened_article__title"],
            "yes": row["yes"],
            "no": row["no"],
        }
        for row in searches.filter(opened_article__isnull=False, helpful__isnull=False)
        .values("opened_article_id", "opened_article__title")
        .annotate(yes=Count("id", filter=Q(helpful=True)), no=Count("id", filter=Q(helpful=False)))
        .filter(yes__gt=0)
        .order_by("-yes", "no", "opened_article_id")[:TOP]
    ]
    return report


def _zone(workspace: Workspace) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(workspace.time_zone or "Asia/Shanghai")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC
