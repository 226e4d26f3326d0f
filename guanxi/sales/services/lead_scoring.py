"""Lead scoring by rules: points for fit (industry, employees, region, province, title,
source) and engagement (activities, replies, visits about the lead), score = fit +
engagement. Recomputed whenever a lead, its activities or the rules change; the
predictive score (``lead_model``) is refreshed at the same time when a model exists.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import FieldErrors, NotFound
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import Lead, LeadScoringRule, ScoreKind
from ..objects import CONFIGURATION
from ..selectors import leads as selectors

FIT_ATTRIBUTES = {
    "industry": _("Industry"),
    "employees": _("Employees"),
    "region": _("Region"),
    "province": _("Province"),
    "title": _("Job title"),
    "source": _("Source"),
    "campaign": _("Campaign"),
}
ENGAGEMENT_ATTRIBUTES = {
    "activities": _("Activities"),
    "replies": _("E-mail replies"),
    "visits": _("Visits"),
}
NUMERIC = {"employees", "activities", "replies", "visits"}
OPERATORS = {
    "equals": _("is"),
    "in": _("is one of (comma-separated)"),
    "contains": _("contains"),
    "at_least": _("at least"),
    "at_most": _("at most"),
}
TEXT_OPERATORS = ("equals", "in", "contains")
NUMBER_OPERATORS = ("equals", "at_least", "at_most")
MAX_POINTS = 1000
BATCH = 500


def _split(value: str) -> list[str]:
    return [v.strip().lower() for v in value.replace("，", ",").split(",") if v.strip()]


def matches(rule: LeadScoringRule, lead: Lead, counts: dict[str, int]) -> bool:
    """Whether ``lead`` (with its engagement ``counts``) meets ``rule``."""
    if rule.attribute in ENGAGEMENT_ATTRIBUTES:
        actual = counts.get(rule.attribute, 0)
    else:
        actual = getattr(lead, rule.attribute, None)
    if rule.attribute in NUMERIC:
        if actual is None:
            return False
        try:
            wanted = int(rule.value)
        except ValueError:
            return False
        if rule.operator == "at_least":
            return actual >= wanted
        if rule.operator == "at_most":
            return actual <= wanted
        return actual == wanted
    text = str(actual or "").strip().lower()
    if not text:
        return False
    if rule.operator == "equals":
        return text == rule.value.strip().lower()
    if rule.operator == "in":
        return text in _split(rule.value)
    if rule.operator == "contains":
        return any(part in text for part in _split(rule.value))
    return False


def points(
    rules: Iterable[LeadScoringRule], lead: Lead, counts: dict[str, int]
) -> tuple[int, int, list[dict]]:
    """``(fit, engagement, matched)`` where matched lists ``{"rule", "points"}``."""
    fit = engagement = 0
    matched = []
    for rule in rules:
        if not rule.active or not matches(rule, lead, counts):
            continue
        if rule.kind == ScoreKind.FIT:
            fit += rule.points
        else:
            engagement += rule.points
        matched.append({"rule": rule.pk, "points": rule.points})
    return fit, engagement, matched


_LOAD = object()


def rescore(*, workspace, leads: list[Lead], rules=None, model=_LOAD, save: bool = True, new=False):
    """Recompute the rule score and the predicted score of ``leads`` (saved unless told
    not to). Three queries for any number of leads, plus one update per changed lead;
    ``new`` leads have no activities yet, so their counts are not asked for."""
    from . import lead_model

    if not leads:
        return
    if rules is None:
        rules = list(LeadScoringRule.objects.in_workspace(workspace).filter(active=True))
    if model is _LOAD:
        model = selectors.active_model(workspace=workspace)
    if new:
        counts = {lead.pk: {"activities": 0, "replies": 0, "visits": 0} for lead in leads}
    else:
        counts = selectors.engagement_counts(workspace=workspace, leads=leads)
    for lead in leads:
        c = counts[lead.pk]
        fit, engagement, _matched = points(rules, lead, c)
        predicted, factors = (None, [])
        if model is not None:
            predicted, factors = lead_model.predict(model.parameters, lead, c)
        new = (fit, engagement, fit + engagement, predicted, factors)
        old = (
            lead.fit_score,
            lead.engagement_score,
            lead.score,
            lead.predicted_score,
            lead.score_factors,
        )
        if new == old:
            continue
        (
            lead.fit_score,
            lead.engagement_score,
            lead.score,
            lead.predicted_score,
            lead.score_factors,
        ) = new
        if save and lead.pk:
            Lead.objects.in_workspace(workspace).filter(pk=lead.pk).update(
                fit_score=fit,
                engagement_score=engagement,
                score=fit + engagement,
                predicted_score=predicted,
                score_factors=factors,
            )


def rescore_workspace(*, workspace, progress=None) -> int:
    """Every lead of the workspace, in batches (after a rule or the model changes)."""
    rules = list(LeadScoringRule.objects.in_workspace(workspace).filter(active=True))
    model = selectors.active_model(workspace=workspace)
    done = 0
    last = 0
    while True:
        batch = list(
            Lead.objects.in_workspace(workspace).filter(pk__gt=last).order_by("pk")[:BATCH]
        )
        if not batch:
            return done
        with transaction.atomic():
            rescore(workspace=workspace, leads=batch, rules=rules, model=model)
        done += len(batch)
        last = batch[-1].pk
        if progress is not None:
            progress(done)


def explain(*, workspace, lead: Lead) -> dict:
    """The rule score as the lead page shows it: each matching rule in words."""
    rules = list(LeadScoringRule.objects.in_workspace(workspace).filter(active=True))
    counts = selectors.engagement_counts(workspace=workspace, leads=[lead])[lead.pk]
    fit, engagement, matched = points(rules, lead, counts)
    by_id = {r.pk: r for r in rules}
    return {
        "fit": fit,
        "engagement": engagement,
        "score": fit + engagement,
        "counts": dict(counts),
        "rules": [
            {"id": m["rule"], "text": describe(by_id[m["rule"]]), "points": m["points"]}
            for m in matched
        ],
    }


def describe(rule: LeadScoringRule) -> str:
    label = {**FIT_ATTRIBUTES, **ENGAGEMENT_ATTRIBUTES}.get(rule.attribute, rule.attribute)
    return f"{label} {OPERATORS.get(rule.operator, rule.operator)} {rule.value}"


# --- the rules -------------------------------------------------------------------------------


def _clean_rule(values: dict) -> dict:
    errors = FieldErrors()
    kind = str(values.get("kind") or "")
    attribute = str(values.get("attribute") or "")
    operator = str(values.get("operator") or "")
    value = str(values.get("value") if values.get("value") is not None else "").strip()
    if kind not in ScoreKind.values:
        errors.add("kind", _("Choose fit or engagement."))
    allowed = FIT_ATTRIBUTES if kind == ScoreKind.FIT else ENGAGEMENT_ATTRIBUTES
    if attribute not in allowed:
        errors.add("attribute", _("Choose what the rule looks at."))
    numeric = attribute in NUMERIC
    if operator not in (NUMBER_OPERATORS if numeric else TEXT_OPERATORS):
        errors.add("operator", _("This comparison does not fit that attribute."))
    if not value:
        errors.add("value", _("Enter the value to compare with."))
    elif len(value) > 200:
        errors.add("value", _("At most %(n)s characters.") % {"n": 200})
    elif numeric:
        try:
            if int(value) < 0:
                raise ValueError
        except ValueError:
            errors.add("value", _("Enter a whole number (0 or more)."))
    try:
        pts = int(values.get("points"))
        if abs(pts) > MAX_POINTS:
            errors.add("points", _("Between -1000 and 1000 points."))
    except (TypeError, ValueError):
        pts = 0
        errors.add("points", _("Enter the points (a whole number, may be negative)."))
    errors.raise_if_any()
    active = values.get("active", True)
    return {
        "kind": kind,
        "attribute": attribute,
        "operator": operator,
        "value": value,
        "points": pts,
        "active": bool(active) and active not in ("false", "0", "off"),
    }


def _rescore_later(workspace) -> None:
    from .. import leads_jobs

    transaction.on_commit(lambda: leads_jobs.rescore_workspace_soon(workspace.pk))


def scoring_rule_create(*, actor: User, workspace: Workspace, **values) -> LeadScoringRule:
    """Add a rule; every lead's score is recomputed after the commit (a background task)."""
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    clean = _clean_rule(values)
    with transaction.atomic():
        rule = LeadScoringRule.objects.create(workspace=workspace, **clean)
        audit.log_create(actor=actor, instance=rule)
        _rescore_later(workspace)
    return rule


def scoring_rule_update(
    *, actor: User, workspace: Workspace, rule_id: int, **values
) -> LeadScoringRule:
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    with transaction.atomic():
        rule = _rule(workspace, rule_id)
        current = {
            k: getattr(rule, k) for k in ("kind", "attribute", "operator", "value", "points")
        }
        clean = _clean_rule({**current, "active": rule.active, **values})
        before = audit.snapshot(rule)
        for name, value in clean.items():
            setattr(rule, name, value)
        rule.save()
        audit.log_update(actor=actor, instance=rule, before=before)
        _rescore_later(workspace)
    return rule


def scoring_rule_delete(*, actor: User, workspace: Workspace, rule_id: int) -> None:
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    with transaction.atomic():
        rule = _rule(workspace, rule_id)
        audit.log_delete(actor=actor, instance=rule)
        rule.delete()
        _rescore_later(workspace)


def _rule(workspace, rule_id) -> LeadScoringRule:
    try:
        rule_id = int(rule_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    rule = (
        LeadScoringRule.objects.in_workspace(workspace)
        .select_for_update()
        .filter(pk=rule_id)
        .first()
    )
    if rule is None:
        raise NotFound()
    return rule


def lead_rescore(*, actor: User, workspace: Workspace, lead_id: int) -> Lead:
    """Recompute one lead's scores now (the API's ``POST /leads/{id}/score``)."""
    permissions.require(actor, "sales.lead", Action.READ)
    lead = selectors.lead_get(workspace=workspace, actor=actor, lead_id=lead_id)
    with transaction.atomic():
        rescore(workspace=workspace, leads=[lead])
    return lead
