"""Satisfaction surveys: the settings, the link and its token, and the customer's answer.

A survey is made when a case is resolved (``survey_hooks.survey_start``): one per case and
resolution round, with a random token of which only the SHA-256 is stored. The customer
opens ``/s/<token>/`` (no login), gives a score of 1–5 and a comment, once. The answer is
written with a conditional UPDATE (``answered_at IS NULL``), so two submits racing each
other record one answer; the loser is told the survey was already answered.

What an answer writes, in one transaction: the score and comment, a ``survey`` event on
the case, a system entry on the customer's timeline, and — for a score of ``LOW_SCORE`` or
less — an in-app notification to the agent who resolved the case.

The public page is rate-limited per client address (Django's cache), and the token lookup
answers "unknown" for a token that does not exist whichever workspace one may have had in
mind: the URL names no workspace, so there is nothing to tell apart.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, FieldErrors
from guanxi.platform import audit, mail, permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import Case, CaseEventKind, CaseType, Survey, SurveySettings
from ..objects import CASE, CONFIGURATION

TOKEN_BYTES = 24
EXPIRES_AFTER = dt.timedelta(days=30)
LOW_SCORE = 2
COMMENT_MAX = 2000
SCORES = (1, 2, 3, 4, 5)
# The public page: every request counts against the view limit, answers also against the
# answer limit, per client address and window.
VIEW_LIMIT = 60
ANSWER_LIMIT = 10
RATE_WINDOW = 600  # seconds
SURVEY_LANGUAGES = ("zh-hans", "zh-hant", "en")


# --- tokens and links ----------------------------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(str(token).encode("utf-8", "surrogatepass")).hexdigest()


def survey_path(token: str) -> str:
    return reverse("surveys_public:answer", args=[token])


def survey_url(token: str) -> str:
    return mail.absolute_url(survey_path(token))


def case_path(case_id: int) -> str:
    """The staff case page (the cases part's), for notifications and links."""
    try:
        return reverse("service:case_detail", args=[case_id])
    except NoReverseMatch:
        return f"/service/cases/{case_id}/"


def survey_language(case: Case, workspace: Workspace | None = None) -> str:
    """The customer's language for the survey: the case's, else the workspace's."""
    for code in (case.language, getattr(workspace, "language", "")):
        code = (code or "").lower()
        if code in SURVEY_LANGUAGES:
            return code
        if code.startswith("zh"):
            return "zh-hant" if code in ("zh-tw", "zh-hk", "zh-mo") else "zh-hans"
        if code.startswith("en"):
            return "en"
    return "zh-hans"


# --- settings -------------------------------------------------------------------------------------


def survey_settings(workspace) -> SurveySettings:
    """The workspace's settings (an unsaved default row when none was ever saved)."""
    workspace_id = getattr(workspace, "pk", workspace)
    found = SurveySettings.objects.in_workspace(workspace_id).first()
    return found or SurveySettings(workspace_id=workspace_id, enabled=True, case_type_ids=[])


def surveys_wanted(workspace, case: Case) -> bool:
    """Whether a resolved ``case`` gets a survey under the workspace's settings."""
    config = survey_settings(workspace)
    if not config.enabled:
        return False
    chosen = [int(i) for i in config.case_type_ids or [] if str(i).isdigit()]
    return not chosen or case.case_type_id in chosen


def survey_settings_update(
    *, actor: User, workspace: Workspace, enabled, case_type_ids
) -> SurveySettings:
    """Turn surveys on or off and choose the case types that get one (none chosen: every
    type). Needs the right to change the service configuration."""
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    errors = FieldErrors()
    if isinstance(enabled, str):
        enabled = enabled.strip().lower() in ("1", "true", "on", "yes")
    ids: list[int] = []
    for raw in case_type_ids or []:
        try:
            ids.append(int(getattr(raw, "pk", raw)))
        except (TypeError, ValueError):
            errors.add("case_type_ids", _("Choose among the workspace's case types."))
            break
    ids = sorted(set(ids))
    if ids:
        known = set(
            CaseType.objects.in_workspace(workspace).filter(pk__in=ids).values_list("pk", flat=True)
        )
        if known != set(ids):
            errors.add("case_type_ids", _("Choose among the workspace's case types."))
    errors.raise_if_any()
    with transaction.atomic():
        row = SurveySettings.objects.in_workspace(workspace).select_for_update().first()
        if row is None:
            try:
                with transaction.atomic():
                    row = SurveySettings.objects.create(
                        workspace=workspace, enabled=bool(enabled), case_type_ids=ids
                    )
            except IntegrityError:  # made by a concurrent request: change that one
                row = SurveySettings.objects.in_workspace(workspace).select_for_update().get()
            else:
                audit.log_create(actor=actor, instance=row)
                return row
        before = audit.snapshot(row)
        row.enabled = bool(enabled)
        row.case_type_ids = ids
        row.save(update_fields=["enabled", "case_type_ids", "updated_at"])
        audit.log_update(actor=actor, instance=row, before=before)
    return row


# --- the public page ------------------------------------------------------------------------------


class SurveyState:
    OPEN = "open"
    ANSWERED = "answered"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass
class Lookup:
    state: str
    survey: Survey | None = None


def survey_lookup(token: str, *, now: dt.datetime | None = None) -> Lookup:
    """The survey a link's token opens, and whether it can still be answered. The token is
    the only key: the lookup crosses workspaces by its unique hash, and anything not found
    (a typo, a made-up token) is simply unknown."""
    token = str(token or "")
    if not token or len(token) > 100:
        return Lookup(SurveyState.UNKNOWN)
    survey = (
        Survey.objects.across_workspaces()
        .select_related("case", "workspace")
        .filter(token_hash=token_hash(token))
        .first()
    )
    if survey is None:
        return Lookup(SurveyState.UNKNOWN)
    if survey.answered_at is not None:
        return Lookup(SurveyState.ANSWERED, survey)
    if survey.expires_at <= (now or timezone.now()):
        return Lookup(SurveyState.EXPIRED, survey)
    return Lookup(SurveyState.OPEN, survey)


def _count(key: str, limit: int) -> bool:
    cache.add(key, 0, RATE_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, RATE_WINDOW)
        count = 1
    return count > limit


def survey_rate_limited(*, ip: str, answering: bool) -> bool:
    """Count one request of a client address; True when it is over the limit."""
    ip = (ip or "unknown")[:45]
    over = _count(f"service:survey:view:{ip}", VIEW_LIMIT)
    if answering:
        over = _count(f"service:survey:answer:{ip}", ANSWER_LIMIT) or over
    return over


def _clean_answer(score, comment) -> tuple[int, str]:
    errors = FieldErrors()
    try:
        value = int(str(score).strip())
    except (TypeError, ValueError):
        value = 0
    if value not in SCORES:
        errors.add("score", _("Choose a score from 1 to 5."))
    text = "" if comment is None else str(comment)
    if "\x00" in text:
        errors.add("comment", _("Text may not contain NUL characters."))
    text = text.strip()
    if len(text) > COMMENT_MAX:
        errors.add("comment", _("At most %(n)s characters.") % {"n": COMMENT_MAX})
    errors.raise_if_any()
    return value, text


class SurveyClosed(ApplicationError):
    """The link cannot take an answer: answered already, expired, or unknown."""

    status = 409

    def __init__(self, state: str):
        messages = {
            SurveyState.ANSWERED: _("This survey has already been answered. Thank you!"),
            SurveyState.EXPIRED: _("This survey link has expired."),
            SurveyState.UNKNOWN: _("This survey link is not valid."),
        }
        super().__init__(messages[state], code=f"survey_{state}")
        self.state = state
        if state == SurveyState.UNKNOWN:
            self.status = 404


def survey_answer(*, token: str, score, comment="", now: dt.datetime | None = None) -> Survey:
    """Record the customer's answer (no actor: the customer). Raises ``SurveyClosed`` for
    a link that was answered, has expired or is unknown (nothing changes), and an
    ``ApplicationError`` with field errors for a bad score or comment."""
    now = now or timezone.now()
    found = survey_lookup(token, now=now)
    if found.state != SurveyState.OPEN:
        raise SurveyClosed(found.state)
    value, text = _clean_answer(score, comment)
    survey = found.survey
    with transaction.atomic():
        before = audit.snapshot(survey)
        taken = (
            Survey.objects.in_workspace(survey.workspace_id)
            .filter(pk=survey.pk, answered_at__isnull=True, expires_at__gt=now)
            .update(answered_at=now, score=value, comment=text, updated_at=now)
        )
        if not taken:
            raise SurveyClosed(SurveyState.ANSWERED)
        survey.answered_at, survey.score, survey.comment = now, value, text
        audit.log_update(actor=None, instance=survey, before=before)
        _record_answer(survey, now=now)
    return survey


def _record_answer(survey: Survey, *, now: dt.datetime) -> None:
    from guanxi.activities.models import EntryKind
    from guanxi.activities.services.notifications import notify
    from guanxi.activities.services.timeline import record_entry

    from .cases import case_event

    case = survey.case
    case_event(
        case,
        CaseEventKind.SURVEY,
        to_value=str(survey.score),
        note=survey.comment[:300],
    )
    if case.account_id or case.contact_id:
        record_entry(
            workspace=survey.workspace_id,
            author=None,
            kind=EntryKind.SYSTEM,
            subtype="survey_answered",
            occurred_at=now,
            account=case.account_id,
            contacts=[case.contact_id] if case.contact_id else [],
            subject=f"{case.number}: {survey.score}/5",
            body=survey.comment,
            related_object_key=CASE,
            related_object_id=case.pk,
            data={"number": case.number, "score": survey.score, "survey_id": survey.pk},
        )
    if survey.score <= LOW_SCORE and survey.agent_id:
        agent = (
            User.objects.in_workspace(survey.workspace_id)
            .filter(pk=survey.agent_id, is_active=True)
            .first()
        )
        if agent is not None:
            notify(
                workspace=survey.workspace_id,
                user=agent,
                title=_("Low satisfaction score on %(number)s: %(score)s/5"),
                body=_("“%(comment)s”") if survey.comment else "",
                params={
                    "number": case.number,
                    "score": survey.score,
                    "comment": survey.comment[:400],
                },
                url=case_path(case.pk),
            )


def expiry_for(now: dt.datetime) -> dt.datetime:
    return now + EXPIRES_AFTER


def in_language(code: str):
    """``translation.override`` for a survey language (for the public page and messages)."""
    return translation.override(code if code in SURVEY_LANGUAGES else settings.LANGUAGE_CODE)
