"""Who gets a new lead. Rules are tried in order; a rule whose conditions hold picks one
of its reps by its method:

- round-robin: the next rep after the one who got the last lead (the rule row is locked
  with ``select_for_update``, so two leads arriving at once go to two reps);
- territory: reps whose territories hold the lead's region or province, fewest open first;
- load: the rep with the fewest open leads;
- skill: reps whose skills hold the lead's industry or interest, fewest open first.

Only active users whose profile says they take leads, and who are under their
``max_open_leads``, are eligible. A rule that matches but has nobody eligible passes the
lead on to the next rule; when no rule takes it, it stays unassigned (the pool).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import FieldErrors, NotFound
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import AssignmentMethod, AssignmentRule, AssignmentRuleRep, Lead, RepProfile
from ..objects import CONFIGURATION
from ..selectors import leads as selectors

CONDITION_KEYS = ("source", "campaign", "region", "province", "industry")
MAX_LIST = 100


def _norm(value) -> str:
    return str(value or "").strip().lower()


def conditions_hold(conditions: dict, lead: Lead) -> bool:
    for key in CONDITION_KEYS:
        wanted = [_norm(v) for v in (conditions or {}).get(key) or [] if _norm(v)]
        if wanted and _norm(getattr(lead, key, "")) not in wanted:
            return False
    return True


def _eligible(workspace, user_ids: list[int]) -> list[tuple[User, RepProfile | None, int]]:
    """``(user, profile, open leads)`` of the reps who may take a lead now, by id."""
    users = {
        u.pk: u
        for u in User.objects.filter(workspace_id=workspace.pk, pk__in=user_ids, is_active=True)
    }
    profiles = {
        p.user_id: p for p in RepProfile.objects.in_workspace(workspace).filter(user_id__in=users)
    }
    loads = selectors.open_lead_counts(workspace=workspace, user_ids=list(users))
    out = []
    for uid in sorted(users):
        profile = profiles.get(uid)
        if profile is not None and not profile.available:
            continue
        capacity = profile.max_open_leads if profile is not None else None
        if capacity is not None and loads[uid] >= capacity:
            continue
        out.append((users[uid], profile, loads[uid]))
    return out


def _lists(profile: RepProfile | None, name: str) -> set[str]:
    return {_norm(v) for v in (getattr(profile, name, None) or []) if _norm(v)}


def _pick(rule: AssignmentRule, lead: Lead, reps: list) -> User | None:
    if not reps:
        return None
    if rule.method == AssignmentMethod.ROUND_ROBIN:
        after = [
            r for r in reps if rule.last_assigned_id is not None and r[0].pk > rule.last_assigned_id
        ]
        return (after or reps)[0][0]
    if rule.method == AssignmentMethod.TERRITORY:
        places = {_norm(lead.region), _norm(lead.province), _norm(lead.city)} - {""}
        reps = [r for r in reps if _lists(r[1], "territories") & places]
    elif rule.method == AssignmentMethod.SKILL:
        wanted = {_norm(lead.industry)} | {
            _norm(w) for w in (lead.interest or "").replace("，", ",").split(",")
        }
        wanted -= {""}
        reps = [r for r in reps if _lists(r[1], "skills") & wanted]
    if not reps:
        return None
    return min(reps, key=lambda r: (r[2], r[0].pk))[0]


def assign(*, workspace, lead: Lead) -> User | None:
    """The owner the rules choose for ``lead`` (not saved: the caller sets it). Must run
    inside a transaction (round-robin locks its rule)."""
    rule_ids = list(
        AssignmentRule.objects.in_workspace(workspace)
        .filter(active=True)
        .order_by("order", "id")
        .values_list("id", "conditions")
    )
    for rule_id, conditions in rule_ids:
        if not conditions_hold(conditions, lead):
            continue
        rule = AssignmentRule.objects.in_workspace(workspace).select_for_update().get(pk=rule_id)
        rep_ids = list(
            AssignmentRuleRep.objects.in_workspace(workspace)
            .filter(rule=rule)
            .values_list("user_id", flat=True)
        )
        owner = _pick(rule, lead, _eligible(workspace, rep_ids))
        if owner is None:
            continue
        if rule.method == AssignmentMethod.ROUND_ROBIN:
            AssignmentRule.objects.in_workspace(workspace).filter(pk=rule.pk).update(
                last_assigned=owner
            )
        return owner
    return None


# --- the rules -------------------------------------------------------------------------------


def _text_list(errors: FieldErrors, value, *, field: str) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.replace("，", ",").replace("\n", ",").split(",")
    if not isinstance(value, list | tuple):
        errors.add(field, _("Give a list of values."))
        return []
    items = [str(v).strip() for v in value if str(v).strip()]
    if len(items) > MAX_LIST or any(len(v) > 120 for v in items):
        errors.add(field, _("At most 100 values of 120 characters each."))
    return list(dict.fromkeys(items))


def _clean_rule(workspace, values: dict) -> tuple[dict, list[int] | None]:
    errors = FieldErrors()
    out = {}
    if "name" in values:
        name = str(values.get("name") or "").strip()
        if not name:
            errors.add("name", _("Give the rule a name."))
        elif len(name) > 120:
            errors.add("name", _("At most %(n)s characters.") % {"n": 120})
        out["name"] = name
    if "method" in values:
        if values["method"] not in AssignmentMethod.values:
            errors.add("method", _("Choose round-robin, territory, load or skill."))
        out["method"] = values["method"]
    if "order" in values:
        try:
            out["order"] = int(values["order"])
            if not 0 <= out["order"] <= 1_000_000:
                raise ValueError
        except (TypeError, ValueError):
            errors.add("order", _("Enter a whole number (0 or more)."))
    if "active" in values:
        out["active"] = bool(values["active"]) and values["active"] not in ("false", "0", "off")
    if "conditions" in values:
        raw = values.get("conditions") or {}
        if not isinstance(raw, dict):
            errors.add("conditions", _("Conditions are lists of values per attribute."))
            raw = {}
        unknown = set(raw) - set(CONDITION_KEYS)
        if unknown:
            errors.add(
                "conditions", _("Unknown condition: %(name)s") % {"name": sorted(unknown)[0]}
            )
        out["conditions"] = {
            k: v
            for k in CONDITION_KEYS
            if (v := _text_list(errors, raw.get(k), field=f"conditions.{k}"))
        }
    rep_ids = None
    if "rep_ids" in values:
        raw = values.get("rep_ids") or []
        try:
            rep_ids = sorted({int(v) for v in raw})
        except (TypeError, ValueError):
            errors.add("rep_ids", _("Choose the reps."))
            rep_ids = []
        found = set(
            User.objects.filter(workspace_id=workspace.pk, pk__in=rep_ids).values_list(
                "id", flat=True
            )
        )
        if set(rep_ids) - found:
            errors.add("rep_ids", _("One of the reps is not a user of this workspace."))
    errors.raise_if_any()
    return out, rep_ids


def _set_reps(workspace, rule: AssignmentRule, rep_ids: list[int]) -> None:
    AssignmentRuleRep.objects.in_workspace(workspace).filter(rule=rule).exclude(
        user_id__in=rep_ids
    ).delete()
    have = set(
        AssignmentRuleRep.objects.in_workspace(workspace)
        .filter(rule=rule)
        .values_list("user_id", flat=True)
    )
    AssignmentRuleRep.objects.bulk_create(
        AssignmentRuleRep(workspace=workspace, rule=rule, user_id=uid)
        for uid in rep_ids
        if uid not in have
    )


def assignment_rule_create(*, actor: User, workspace: Workspace, **values) -> AssignmentRule:
    """Add a rule: ``name``, ``method``, ``order``, ``conditions``, ``rep_ids``."""
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    values = {"order": 100, "conditions": {}, "rep_ids": [], **values}
    values.setdefault("name", "")
    values.setdefault("method", "")
    clean, rep_ids = _clean_rule(workspace, values)
    with transaction.atomic():
        rule = AssignmentRule.objects.create(workspace=workspace, **clean)
        _set_reps(workspace, rule, rep_ids or [])
        audit.log_create(actor=actor, instance=rule)
    return rule


def assignment_rule_update(
    *, actor: User, workspace: Workspace, rule_id: int, **values
) -> AssignmentRule:
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    clean, rep_ids = _clean_rule(workspace, values)
    with transaction.atomic():
        rule = _rule(workspace, rule_id)
        before = audit.snapshot(rule)
        for name, value in clean.items():
            setattr(rule, name, value)
        rule.save()
        if rep_ids is not None:
            _set_reps(workspace, rule, rep_ids)
        audit.log_update(actor=actor, instance=rule, before=before)
    return rule


def assignment_rule_delete(*, actor: User, workspace: Workspace, rule_id: int) -> None:
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    with transaction.atomic():
        rule = _rule(workspace, rule_id)
        audit.log_delete(actor=actor, instance=rule)
        rule.delete()


def _rule(workspace, rule_id) -> AssignmentRule:
    try:
        rule_id = int(rule_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    rule = (
        AssignmentRule.objects.in_workspace(workspace)
        .select_for_update()
        .filter(pk=rule_id)
        .first()
    )
    if rule is None:
        raise NotFound()
    return rule


def rep_profile_save(
    *,
    actor: User,
    workspace: Workspace,
    user_id: int,
    territories=None,
    skills=None,
    max_open_leads=None,
    available: bool = True,
) -> RepProfile:
    """Set what assignment knows of a rep (made on first save)."""
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    errors = FieldErrors()
    territories = _text_list(errors, territories, field="territories")
    skills = _text_list(errors, skills, field="skills")
    if max_open_leads in ("", None):
        max_open_leads = None
    else:
        try:
            max_open_leads = int(max_open_leads)
            if not 0 <= max_open_leads <= 100_000:
                raise ValueError
        except (TypeError, ValueError):
            errors.add("max_open_leads", _("Enter a whole number (0 or more), or nothing."))
    errors.raise_if_any()
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    user = User.objects.filter(workspace_id=workspace.pk, pk=user_id).first()
    if user is None:
        raise NotFound()
    available = bool(available) and available not in ("false", "0", "off")
    with transaction.atomic():
        profile = (
            RepProfile.objects.in_workspace(workspace).select_for_update().filter(user=user).first()
        )
        if profile is None:
            profile = RepProfile.objects.create(
                workspace=workspace,
                user=user,
                territories=territories,
                skills=skills,
                max_open_leads=max_open_leads,
                available=available,
            )
            audit.log_create(actor=actor, instance=profile)
            return profile
        before = audit.snapshot(profile)
        profile.territories, profile.skills = territories, skills
        profile.max_open_leads, profile.available = max_open_leads, available
        profile.save()
        audit.log_update(actor=actor, instance=profile, before=before)
    return profile
