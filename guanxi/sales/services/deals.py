"""Deals: open one, change it, move it between stages (the kanban's drop), win or lose it,
give it to someone else, and keep its products and competitors.

Every service checks the actor's rights before its transaction (so the audit row of a
denial survives), validates all its input at once (nothing is written when any of it is
wrong), locks the deal row, and refuses a stale ``version`` (409): two people dragging the
same card, or a form opened before someone else's change. Each stage change writes a
``DealStageChange`` row (cycle length and win rates read them) and, when the deal has a
customer, a system entry on the customer's timeline ("Stage: A → B").

A card's place in its kanban column is a sparse float rank (``position``): a drop between
two neighbours takes the midpoint; when the gap gets too small the column is renumbered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.activities.models import EntryKind
from guanxi.activities.services.timeline import record_entry
from guanxi.common.errors import ApplicationError, Conflict, FieldErrors, NotFound, PermissionDenied
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.models import Account, Contact
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, AuditAction, User, Visibility, Workspace

from ..models import (
    Competitor,
    Deal,
    DealCompetitor,
    DealLine,
    DealStageChange,
    DealStatus,
    ForecastCategory,
    Lead,
    LostReason,
    Pipeline,
    Product,
    Stage,
    StageKind,
)
from ..objects import DEAL
from . import money
from .pricing import prices_for
from .setup import default_pipeline

# Sparse ranks: a new card goes STEP before the column's first; a column is renumbered when
# two neighbours are closer than MIN_GAP.
STEP = 1024.0
MIN_GAP = 1e-6
MAX_AMOUNT = Decimal("9999999999999999.99")
MAX_LINES = 200

# Timeline subtypes of the deals' system entries (their sentences: ``deals_display``).
CREATED = "deal_created"
STAGE = "deal_stage"
WON = "deal_won"
LOST = "deal_lost"
OWNER = "deal_owner"
REOPENED = "deal_reopened"

EDITABLE = frozenset(
    {
        "name",
        "account",
        "contact",
        "amount",
        "currency",
        "expected_close_date",
        "probability",
        "forecast_category",
        "next_step",
        "next_step_date",
        "source",
        "campaign",
        "custom",
    }
)


# --- who may give a deal to whom ---------------------------------------------------------------


def may_assign_others(actor: User) -> bool:
    """Whether the actor may give deals to someone else: administrators, and roles that may
    update deals beyond their own (managers)."""
    return actor.is_active and (
        actor.role.is_admin
        or (
            permissions.can(actor, DEAL, Action.UPDATE)
            and permissions.visibility_for(actor, DEAL) != Visibility.OWN
        )
    )


def may_assign_to(actor: User, user: User) -> bool:
    if user.pk == actor.pk:
        return True
    if not may_assign_others(actor):
        return False
    visibility = Visibility.ALL if actor.role.is_admin else permissions.visibility_for(actor, DEAL)
    if visibility == Visibility.ALL:
        return True
    team = actor.team
    if team is None or user.team_id is None:
        return False
    if visibility == Visibility.TEAM:
        return user.team_id == team.pk
    return user.team.path.startswith(team.path)


def assignable_users(*, workspace: Workspace, actor: User) -> list[User]:
    if not may_assign_others(actor):
        return [actor]
    users = (
        User.objects.filter(workspace=workspace, is_active=True)
        .select_related("team", "role")
        .order_by("full_name", "id")
    )
    return [actor, *(u for u in users if u.pk != actor.pk and may_assign_to(actor, u))]


# --- validation --------------------------------------------------------------------------------


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _text(errors: FieldErrors, value, *, field: str, max_length: int, required=False) -> str:
    text = "" if value is None else str(value)
    if "\x00" in text:
        errors.add(field, _("Text may not contain NUL characters."))
        return ""
    text = text.strip()
    if len(text) > max_length:
        errors.add(field, _("At most %(n)s characters.") % {"n": max_length})
    elif required and not text:
        errors.add(field, _("This field is required."))
    return text


def _decimal(errors: FieldErrors, value, *, field: str, places: int = 2, maximum=MAX_AMOUNT):
    if value in (None, ""):
        return Decimal(0)
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        errors.add(field, _("Enter a number."))
        return None
    if not number.is_finite():
        errors.add(field, _("Enter a number."))
        return None
    if number < 0:
        errors.add(field, _("Enter zero or more."))
        return None
    if number > maximum:
        errors.add(field, _("The number is too large."))
        return None
    if number != round(number, places):
        errors.add(field, _("At most %(n)s decimal places.") % {"n": places})
        return None
    return number


def _date(errors: FieldErrors, value, *, field: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.add(field, _("Enter a date, e.g. 2026-05-01."))
        return None


def _currency(errors: FieldErrors, workspace, value) -> str:
    code = str(value or "").strip().upper() or money.base_currency(workspace)
    if len(code) != 3 or not code.isalpha() or not code.isascii():
        errors.add("currency", _("Enter a three-letter currency code, e.g. CNY."))
        return ""
    return code


def _amount_base(errors: FieldErrors, workspace, amount, currency, on: dt.date) -> Decimal:
    if amount is None or not currency:
        return Decimal(0)
    try:
        return money.to_base(workspace, amount, currency, on)
    except ApplicationError as error:
        errors.add("currency", error.message)
        return Decimal(0)


def _account(errors: FieldErrors, workspace, actor, value) -> Account | None:
    """A service caller passes the row it holds (same workspace); a form or the API passes an
    id, which must be an account the actor can see."""
    if value in (None, ""):
        return None
    if isinstance(value, Account):
        if value.workspace_id != workspace.pk:
            errors.add("account", _("Choose an account you can see."))
            return None
        return value
    found = (
        customer_selectors.account_list(workspace=workspace, actor=actor)
        .filter(pk=_int(value))
        .first()
    )
    if found is None:
        errors.add("account", _("Choose an account you can see."))
    return found


def _contact(errors: FieldErrors, workspace, actor, value) -> Contact | None:
    if value in (None, ""):
        return None
    if isinstance(value, Contact):
        if value.workspace_id != workspace.pk:
            errors.add("contact", _("Choose a contact you can see."))
            return None
        return value
    found = (
        customer_selectors.contact_list(workspace=workspace, actor=actor)
        .filter(pk=_int(value))
        .first()
    )
    if found is None:
        errors.add("contact", _("Choose a contact you can see."))
    return found


def _pipeline(errors: FieldErrors, workspace, value) -> Pipeline | None:
    if value in (None, ""):
        return None
    pk = value.pk if isinstance(value, Pipeline) else _int(value)
    found = Pipeline.objects.in_workspace(workspace).filter(pk=pk, active=True).first()
    if found is None:
        errors.add("pipeline", _("Choose an active pipeline."))
    return found


def _stage(errors: FieldErrors, workspace, value, *, field: str = "stage") -> Stage | None:
    if value in (None, ""):
        return None
    pk = value.pk if isinstance(value, Stage) else _int(value)
    found = (
        Stage.objects.in_workspace(workspace)
        .select_related("pipeline")
        .filter(pk=pk, pipeline__active=True)
        .first()
    )
    if found is None:
        errors.add(field, _("Choose a stage of an active pipeline."))
    return found


def first_open_stage(pipeline: Pipeline) -> Stage | None:
    return (
        Stage.objects.in_workspace(pipeline.workspace_id)
        .filter(pipeline=pipeline, kind=StageKind.OPEN)
        .order_by("order", "id")
        .first()
    )


def closing_stage(pipeline: Pipeline, kind: str) -> Stage:
    stage = (
        Stage.objects.in_workspace(pipeline.workspace_id)
        .filter(pipeline=pipeline, kind=kind)
        .order_by("order", "id")
        .first()
    )
    if stage is None:
        raise ApplicationError(
            _("The pipeline “%(name)s” has no %(kind)s stage; an administrator can add one.")
            % {"name": pipeline.name, "kind": StageKind(kind).label.lower()},
            code="no_closing_stage",
        )
    return stage


def _owner(errors: FieldErrors, workspace, actor, value) -> User | None:
    if value in (None, ""):
        return actor
    pk = value.pk if isinstance(value, User) else _int(value)
    user = (
        User.objects.filter(workspace=workspace, pk=pk, is_active=True)
        .select_related("team", "role")
        .first()
    )
    if user is None:
        errors.add("owner", _("Choose an active user of this workspace."))
    return user


def _require_assign(actor: User, owner: User) -> None:
    if not may_assign_to(actor, owner):
        audit.log_permission_denied(actor=actor, object_key=DEAL, action="assign")
        raise PermissionDenied(
            _("Your role may not give deals to %(name)s.") % {"name": owner.full_name},
            code="assign_denied",
        )


def _products(errors: FieldErrors, workspace, ids: Iterable[int]) -> dict[int, Product]:
    return {
        p.pk: p
        for p in Product.objects.in_workspace(workspace).filter(pk__in=list(ids), active=True)
    }


def _lines(
    errors: FieldErrors,
    workspace,
    lines,
    *,
    currency: str,
    on: dt.date,
    account=None,
    contact=None,
) -> list[dict[str, Any]]:
    """Deal products: ``{"product": id|Product, "quantity": n, "unit_price": optional}``.
    Without a price, the catalogue's price for the customer in the deal's currency is used
    (``pricing.prices_for``); a product with none there needs a price."""
    lines = list(lines or ())
    if len(lines) > MAX_LINES:
        errors.add("lines", _("At most %(n)s products on one deal.") % {"n": MAX_LINES})
        return []
    wanted = []
    for index, line in enumerate(lines):
        product = line.get("product") if isinstance(line, dict) else None
        wanted.append(product.pk if isinstance(product, Product) else _int(product))
        if not isinstance(line, dict):
            errors.add(f"lines.{index}", _("Each product line needs a product and a quantity."))
    products = _products(errors, workspace, wanted)
    catalogue = _catalogue_prices(
        workspace,
        [p for p in wanted if p in products],
        currency,
        on,
        account=account,
        contact=contact,
    )
    out = []
    for index, (line, product_id) in enumerate(zip(lines, wanted, strict=True)):
        if not isinstance(line, dict):
            continue
        product = products.get(product_id)
        if product is None:
            errors.add(f"lines.{index}.product", _("Choose an active product."))
        quantity = _decimal(
            errors,
            line.get("quantity"),
            field=f"lines.{index}.quantity",
            places=3,
            maximum=Decimal("99999999999"),
        )
        if quantity is not None and quantity <= 0:
            errors.add(f"lines.{index}.quantity", _("Enter a quantity above zero."))
            quantity = None
        price = line.get("unit_price")
        if price in (None, ""):
            price = catalogue.get(product_id)
            if price is None and product is not None:
                errors.add(
                    f"lines.{index}.unit_price",
                    _("“%(product)s” has no price in %(currency)s; enter one.")
                    % {"product": product, "currency": currency},
                )
                continue
        price = _decimal(
            errors,
            price,
            field=f"lines.{index}.unit_price",
            places=4,
            maximum=Decimal("99999999999999.9999"),
        )
        if product is None or quantity is None or price is None:
            continue
        out.append(
            {
                "product": product,
                "quantity": quantity,
                "unit_price": price,
                "amount": money.round_money(quantity * price),
            }
        )
    return out


def _catalogue_prices(
    workspace, product_ids: list[int], currency: str, on: dt.date, account=None, contact=None
) -> dict[int, Decimal]:
    """The catalogue's prices for the deal's customer (its own book, its class's, then the
    standard one) in the deal's currency; products without a price are left out."""
    if not product_ids or not currency:
        return {}
    found = prices_for(
        workspace=workspace,
        product_ids=product_ids,
        account=account,
        contact=contact,
        currency=currency,
        on=on,
    )
    return {pk: price.unit_price for pk, price in found.items()}


# --- reading a deal for a change ---------------------------------------------------------------


def _visible(workspace: Workspace, actor: User, deal: Deal | int) -> int:
    """The deal's id if the actor may see it; else "not found" (other workspaces too)."""
    from ..selectors.deals import deal_list

    pk = deal.pk if isinstance(deal, Deal) else _int(deal)
    if not deal_list(workspace=workspace, actor=actor).filter(pk=pk).exists():
        raise NotFound()
    return pk


def _lock(*, workspace: Workspace, actor: User, deal: Deal | int, version=None) -> Deal:
    """The deal, locked, if the actor may see it; a stale ``version`` is a conflict."""
    pk = _visible(workspace, actor, deal)
    locked = (
        Deal.objects.in_workspace(workspace)
        .select_for_update(of=("self",))
        .select_related("stage", "pipeline", "owner", "account", "contact")
        .get(pk=pk)
    )
    if version not in (None, "") and _int(version) != locked.version:
        raise Conflict(
            _("Someone else changed this deal a moment ago (%(name)s). Reload it and try again.")
            % {"name": locked.name},
            code="stale_version",
        )
    return locked


def _bump(deal: Deal) -> None:
    deal.version += 1


def _entry(actor, deal: Deal, subtype: str, **data) -> None:
    """A system entry on the deal's customer's timeline (none when it has no customer)."""
    if deal.account_id is None and deal.contact_id is None:
        return
    record_entry(
        workspace=deal.workspace_id,
        author=actor,
        kind=EntryKind.SYSTEM,
        subtype=subtype,
        channel="system",
        account=deal.account_id,
        contacts=[deal.contact_id] if deal.contact_id else (),
        related_object_key=DEAL,
        related_object_id=deal.pk,
        data={"deal": deal.name, **data},
    )


def _top_position(workspace_id: int, stage_id: int) -> float:
    low = (
        Deal.objects.in_workspace(workspace_id)
        .filter(stage_id=stage_id, status=DealStatus.OPEN)
        .aggregate(low=Min("position"))["low"]
    )
    return 0.0 if low is None else low - STEP


def _bottom_position(workspace_id: int, stage_id: int) -> float:
    high = (
        Deal.objects.in_workspace(workspace_id)
        .filter(stage_id=stage_id, status=DealStatus.OPEN)
        .aggregate(high=Max("position"))["high"]
    )
    return 0.0 if high is None else high + STEP


def _enter_stage(actor: User, deal: Deal, stage: Stage, now: dt.datetime) -> Stage | None:
    """Put the deal in ``stage`` (status, probability and forecast category follow it) and
    write the history row. Returns the stage it left (None for a new deal)."""
    previous = deal.stage if deal.stage_id else None
    deal.stage = stage
    deal.pipeline_id = stage.pipeline_id
    deal.probability = stage.probability
    deal.forecast_category = stage.forecast_category
    deal.stage_changed_at = now
    if stage.kind == StageKind.OPEN:
        deal.status = DealStatus.OPEN
        deal.closed_at = None
    else:
        deal.status = DealStatus.WON if stage.kind == StageKind.WON else DealStatus.LOST
        deal.closed_at = now
        deal.forecast_category = (
            ForecastCategory.CLOSED if stage.kind == StageKind.WON else (ForecastCategory.OMITTED)
        )
        deal.probability = 100 if stage.kind == StageKind.WON else 0
    return previous


def _history(actor: User, deal: Deal, previous: Stage | None, now: dt.datetime) -> None:
    DealStageChange.objects.create(
        workspace_id=deal.workspace_id,
        deal=deal,
        from_stage=previous,
        to_stage=deal.stage,
        changed_by=actor,
        changed_at=now,
        amount_base=deal.amount_base,
    )


# --- the services ------------------------------------------------------------------------------


def deal_create(
    *,
    actor: User,
    workspace: Workspace,
    name: str,
    account=None,
    contact=None,
    pipeline=None,
    stage=None,
    amount: Any = Decimal(0),
    currency: str | None = None,
    expected_close_date=None,
    owner=None,
    lead: Lead | None = None,
    source: str = "",
    campaign: str = "",
    next_step: str = "",
    lines: Iterable[dict] = (),
    competitors: Iterable = (),
    now: dt.datetime | None = None,
) -> Deal:
    """Open a deal. Without a pipeline it goes on the default one; without a stage, in the
    pipeline's first open stage. The currency defaults to the workspace's base currency and
    the amount is also kept in the base currency (a currency without a rate is refused).
    Probability and forecast category come from the stage. A deal with a customer puts a
    "deal opened" entry on the customer's timeline."""
    permissions.require(actor, DEAL, Action.CREATE)
    now = now or timezone.now()
    today = timezone.localdate(now)
    errors = FieldErrors()
    name = _text(errors, name, field="name", max_length=200, required=True)
    account_row = _account(errors, workspace, actor, account)
    contact_row = _contact(errors, workspace, actor, contact)
    if account_row is None and contact_row is not None and contact_row.account_id:
        account_row = contact_row.account
    pipeline_row = _pipeline(errors, workspace, pipeline)
    stage_row = _stage(errors, workspace, stage)
    if stage_row is not None:
        if pipeline_row is not None and stage_row.pipeline_id != pipeline_row.pk:
            errors.add("stage", _("The stage is not on the chosen pipeline."))
        elif stage_row.kind != StageKind.OPEN:
            errors.add("stage", _("A new deal starts in an open stage."))
        pipeline_row = stage_row.pipeline
    amount_value = _decimal(errors, amount, field="amount")
    currency_code = _currency(errors, workspace, currency)
    amount_base = _amount_base(errors, workspace, amount_value, currency_code, today)
    close = _date(errors, expected_close_date, field="expected_close_date")
    owner_row = _owner(errors, workspace, actor, owner)
    source = _text(errors, source, field="source", max_length=60)
    campaign = _text(errors, campaign, field="campaign", max_length=120)
    next_step = _text(errors, next_step, field="next_step", max_length=200)
    if lead is not None and lead.workspace_id != workspace.pk:
        errors.add("lead", _("That lead does not exist."))
    line_rows = _lines(
        errors,
        workspace,
        lines,
        currency=currency_code,
        on=today,
        account=account_row,
        contact=contact_row,
    )
    competitor_rows = _competitors(errors, workspace, competitors)
    if pipeline_row is None and not errors.fields:
        pipeline_row = default_pipeline(workspace)
    if stage_row is None and pipeline_row is not None:
        stage_row = first_open_stage(pipeline_row)
        if stage_row is None:
            errors.add("pipeline", _("The pipeline has no open stage."))
    errors.raise_if_any()
    if owner_row.pk != actor.pk:
        _require_assign(actor, owner_row)

    with transaction.atomic():
        deal = Deal(
            workspace=workspace,
            name=name,
            account=account_row,
            contact=contact_row,
            amount=amount_value,
            currency=currency_code,
            amount_base=amount_base,
            expected_close_date=close,
            owner=owner_row,
            lead=lead,
            source=source,
            campaign=campaign,
            next_step=next_step,
            position=_top_position(workspace.pk, stage_row.pk),
        )
        _enter_stage(actor, deal, stage_row, now)
        if line_rows and amount_value == 0:
            deal.amount = sum((line["amount"] for line in line_rows), Decimal(0))
            deal.amount_base = money.to_base(workspace, deal.amount, currency_code, today)
        deal.save()
        _history(actor, deal, None, now)
        DealLine.objects.bulk_create(
            DealLine(workspace=workspace, deal=deal, **line) for line in line_rows
        )
        DealCompetitor.objects.bulk_create(
            DealCompetitor(workspace=workspace, deal=deal, competitor=c) for c in competitor_rows
        )
        audit.log_create(actor=actor, instance=deal)
        _entry(
            actor,
            deal,
            CREATED,
            stage=stage_row.name,
            amount=str(deal.amount),
            currency=deal.currency,
        )
    return deal


def _competitors(errors: FieldErrors, workspace, values) -> list[Competitor]:
    ids = [v.pk if isinstance(v, Competitor) else _int(v) for v in values or ()]
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    found = list(Competitor.objects.in_workspace(workspace).filter(pk__in=ids))
    if len(found) != len(ids):
        errors.add("competitors", _("Choose competitors from the list."))
    return found


def deal_update(*, actor: User, workspace: Workspace, deal, version, now=None, **changes) -> Deal:
    """Change the deal's fields (only those given). ``version`` is the one the form read: a
    deal changed since is a conflict (409). A closed deal keeps its amount and probability."""
    permissions.require(actor, DEAL, Action.UPDATE)
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ApplicationError(
            _("These fields cannot be changed here: %(names)s.")
            % {"names": ", ".join(sorted(unknown))},
            code="unknown_fields",
        )
    now = now or timezone.now()
    with transaction.atomic():
        row = _lock(workspace=workspace, actor=actor, deal=deal, version=version)
        before = audit.snapshot(row)
        errors = FieldErrors()
        if "name" in changes:
            row.name = _text(errors, changes["name"], field="name", max_length=200, required=True)
        for field, length in (("next_step", 200), ("source", 60), ("campaign", 120)):
            if field in changes:
                setattr(row, field, _text(errors, changes[field], field=field, max_length=length))
        if "account" in changes:
            row.account = _account(errors, workspace, actor, changes["account"])
        if "contact" in changes:
            row.contact = _contact(errors, workspace, actor, changes["contact"])
        for field in ("expected_close_date", "next_step_date"):
            if field in changes:
                setattr(row, field, _date(errors, changes[field], field=field))
        money_changed = "amount" in changes or "currency" in changes
        if money_changed and row.status != DealStatus.OPEN:
            errors.add("amount", _("A closed deal's amount cannot change; reopen it first."))
        elif money_changed:
            if "amount" in changes:
                row.amount = _decimal(errors, changes["amount"], field="amount")
            if "currency" in changes:
                row.currency = _currency(errors, workspace, changes["currency"])
            row.amount_base = _amount_base(
                errors, workspace, row.amount, row.currency, timezone.localdate(now)
            )
        if "probability" in changes:
            probability = (
                _int(changes["probability"])
                if str(changes["probability"]).strip().lstrip("-").isdigit()
                else -1
            )
            if row.status != DealStatus.OPEN:
                errors.add("probability", _("A closed deal's probability cannot change."))
            elif not 0 <= probability <= 100:
                errors.add("probability", _("Enter a percentage from 0 to 100."))
            else:
                row.probability = probability
        if "forecast_category" in changes:
            value = str(changes["forecast_category"] or "")
            if value not in ForecastCategory.values:
                errors.add("forecast_category", _("Choose a forecast category."))
            elif row.status != DealStatus.OPEN:
                errors.add("forecast_category", _("A closed deal's category cannot change."))
            else:
                row.forecast_category = value
        if "custom" in changes:
            if not isinstance(changes["custom"], dict):
                errors.add("custom", _("Custom fields must be an object."))
            else:
                row.custom = changes["custom"]
        errors.raise_if_any()
        _bump(row)
        row.save()
        audit.log_update(actor=actor, instance=row, before=before)
    return row


def _place(workspace_id: int, stage_id: int, before_id, after_id, moving_id: int) -> float:
    """The rank of a card dropped in ``stage_id`` after the card ``after_id`` and before the
    card ``before_id`` (either may be missing: top or bottom of the column). A gap too small
    renumbers the column (STEP apart, same order) first."""
    column = (
        Deal.objects.in_workspace(workspace_id)
        .filter(stage_id=stage_id, status=DealStatus.OPEN)
        .exclude(pk=moving_id)
    )
    ids = [i for i in (_int(before_id), _int(after_id)) if i]
    ranks = dict(column.filter(pk__in=ids).values_list("pk", "position")) if ids else {}
    before = ranks.get(_int(before_id))
    after = ranks.get(_int(after_id))
    if before is None and after is None:
        if before_id or after_id:
            # The neighbours left the column meanwhile: the top is a fair place.
            return _top_position(workspace_id, stage_id)
        return _bottom_position(workspace_id, stage_id)
    if after is None:
        return before - STEP
    if before is None:
        return after + STEP
    if before - after > MIN_GAP * 2 and before > after:
        return (before + after) / 2
    _renumber(workspace_id, stage_id, moving_id)
    ranks = dict(column.filter(pk__in=ids).values_list("pk", "position"))
    before, after = ranks[_int(before_id)], ranks[_int(after_id)]
    if before <= after:  # the neighbours given are not in that order: go after ``after``
        return after + STEP / 2
    return (before + after) / 2


def _renumber(workspace_id: int, stage_id: int, moving_id: int) -> None:
    rows = list(
        Deal.objects.in_workspace(workspace_id)
        .filter(stage_id=stage_id, status=DealStatus.OPEN)
        .exclude(pk=moving_id)
        .order_by("position", "id")
        .values_list("pk", flat=True)
    )
    updates = [Deal(pk=pk, position=(index + 1) * STEP) for index, pk in enumerate(rows)]
    Deal.objects.in_workspace(workspace_id).bulk_update(updates, ["position"], batch_size=500)


def deal_move(
    *,
    actor: User,
    workspace: Workspace,
    deal,
    stage,
    before_id=None,
    after_id=None,
    version=None,
    reason=None,
    note: str = "",
    now=None,
) -> Deal:
    """The kanban's drop: put the deal in ``stage`` between the cards ``after_id`` (above)
    and ``before_id`` (below). A drop on the won stage wins the deal; on a lost stage it
    loses it, which needs a ``reason`` (422 ``reason_required`` without one)."""
    permissions.require(actor, DEAL, Action.UPDATE)
    _visible(workspace, actor, deal)
    errors = FieldErrors()
    target = _stage(errors, workspace, stage)
    errors.raise_if_any()
    if target.kind == StageKind.WON:
        return deal_win(
            actor=actor, workspace=workspace, deal=deal, version=version, now=now, stage=target
        )
    if target.kind == StageKind.LOST:
        return deal_lose(
            actor=actor,
            workspace=workspace,
            deal=deal,
            reason=reason,
            note=note,
            version=version,
            now=now,
            stage=target,
        )
    now = now or timezone.now()
    with transaction.atomic():
        row = _lock(workspace=workspace, actor=actor, deal=deal, version=version)
        if row.status != DealStatus.OPEN:
            raise Conflict(
                _("This deal is closed; reopen it before moving it."), code="deal_closed"
            )
        if target.pipeline_id != row.pipeline_id:
            raise ApplicationError(
                _("The stage is on another pipeline."),
                code="other_pipeline",
                fields={"stage": [_("The stage is on another pipeline.")]},
            )
        before = audit.snapshot(row)
        row.position = _place(workspace.pk, target.pk, before_id, after_id, row.pk)
        changed = target.pk != row.stage_id
        if changed:
            previous = _enter_stage(actor, row, target, now)
        _bump(row)
        row.save()
        if changed:
            _history(actor, row, previous, now)
            audit.log_update(actor=actor, instance=row, before=before)
            _entry(actor, row, STAGE, **{"from": previous.name, "to": target.name})
    return row


def deal_win(
    *, actor: User, workspace: Workspace, deal, version=None, now=None, stage=None
) -> Deal:
    """The customer said yes: the deal goes to its pipeline's won stage (probability 100,
    forecast category closed). A deal closed already is a conflict."""
    permissions.require(actor, DEAL, Action.UPDATE)
    now = now or timezone.now()
    with transaction.atomic():
        row = _lock(workspace=workspace, actor=actor, deal=deal, version=version)
        _require_open(row)
        target = stage if stage is not None else closing_stage(row.pipeline, StageKind.WON)
        before = audit.snapshot(row)
        previous = _enter_stage(actor, row, target, now)
        row.lost_reason, row.lost_note = None, ""
        _bump(row)
        row.save()
        _history(actor, row, previous, now)
        audit.log_update(actor=actor, instance=row, before=before)
        _entry(actor, row, WON, amount=str(row.amount), currency=row.currency)
    return row


def _require_open(row: Deal) -> None:
    if row.status != DealStatus.OPEN:
        raise Conflict(
            _("This deal is %(status)s already.") % {"status": row.get_status_display().lower()},
            code="deal_closed",
        )


def deal_lose(
    *,
    actor: User,
    workspace: Workspace,
    deal,
    reason,
    note: str = "",
    version=None,
    now=None,
    stage=None,
) -> Deal:
    """We lost it: a lost reason (one of the workspace's active ones) is required; ``note``
    says more. The deal goes to its pipeline's lost stage."""
    permissions.require(actor, DEAL, Action.UPDATE)
    errors = FieldErrors()
    reason_row = None
    if reason in (None, ""):
        errors.add("reason", _("Say why the deal was lost."))
    else:
        pk = reason.pk if isinstance(reason, LostReason) else _int(reason)
        reason_row = LostReason.objects.in_workspace(workspace).filter(pk=pk, active=True).first()
        if reason_row is None:
            errors.add("reason", _("Choose a lost reason from the list."))
    note = _text(errors, note, field="note", max_length=5000)
    if errors.fields:
        raise ApplicationError(
            next(iter(errors.fields.values()))[0],
            code="reason_required" if reason in (None, "") else "invalid",
            fields=errors.fields,
            status=422,
        )
    now = now or timezone.now()
    with transaction.atomic():
        row = _lock(workspace=workspace, actor=actor, deal=deal, version=version)
        _require_open(row)
        target = stage if stage is not None else closing_stage(row.pipeline, StageKind.LOST)
        before = audit.snapshot(row)
        previous = _enter_stage(actor, row, target, now)
        row.lost_reason, row.lost_note = reason_row, note
        _bump(row)
        row.save()
        _history(actor, row, previous, now)
        audit.log_update(actor=actor, instance=row, before=before)
        _entry(actor, row, LOST, reason=reason_row.name, note=note[:500])
    return row


def deal_reopen(*, actor: User, workspace: Workspace, deal, version=None, now=None) -> Deal:
    """A won or lost deal goes back to its pipeline's first open stage (a mistake, or the
    customer came back)."""
    permissions.require(actor, DEAL, Action.UPDATE)
    now = now or timezone.now()
    with transaction.atomic():
        row = _lock(workspace=workspace, actor=actor, deal=deal, version=version)
        if row.status == DealStatus.OPEN:
            raise Conflict(_("This deal is open already."), code="deal_open")
        target = first_open_stage(row.pipeline)
        if target is None:
            raise ApplicationError(_("The pipeline has no open stage."), code="no_open_stage")
        before = audit.snapshot(row)
        previous = _enter_stage(actor, row, target, now)
        row.lost_reason, row.lost_note = None, ""
        row.position = _top_position(workspace.pk, target.pk)
        _bump(row)
        row.save()
        _history(actor, row, previous, now)
        audit.log_update(actor=actor, instance=row, before=before)
        _entry(actor, row, REOPENED, stage=target.name)
    return row


def deal_reassign(*, actor: User, workspace: Workspace, deal, owner, version=None) -> Deal:
    """Give the deal to someone else (managers and administrators; within their reach)."""
    permissions.require(actor, DEAL, Action.UPDATE)
    errors = FieldErrors()
    if owner in (None, ""):
        errors.add("owner", _("Choose an active user of this workspace."))
        errors.raise_if_any()
    new_owner = _owner(errors, workspace, actor, owner)
    errors.raise_if_any()
    _require_assign(actor, new_owner)
    with transaction.atomic():
        row = _lock(workspace=workspace, actor=actor, deal=deal, version=version)
        if row.owner_id == new_owner.pk:
            return row
        before = audit.snapshot(row)
        old = row.owner
        row.owner = new_owner
        _bump(row)
        row.save()
        audit.log_update(actor=actor, instance=row, before=before)
        _entry(
            actor,
            row,
            OWNER,
            **{
                "from": {"id": old.pk, "name": old.full_name} if old else None,
                "to": {"id": new_owner.pk, "name": new_owner.full_name},
            },
        )
    return row


def deal_set_lines(
    *, actor: User, workspace: Workspace, deal, lines, version=None, update_amount=True, now=None
) -> Deal:
    """Replace the deal's products. With ``update_amount`` the deal's amount becomes the
    lines' total (an open deal only)."""
    permissions.require(actor, DEAL, Action.UPDATE)
    now = now or timezone.now()
    with transaction.atomic():
        row = _lock(workspace=workspace, actor=actor, deal=deal, version=version)
        errors = FieldErrors()
        rows = _lines(
            errors,
            workspace,
            lines,
            currency=row.currency,
            on=timezone.localdate(now),
            account=row.account,
            contact=row.contact,
        )
        errors.raise_if_any()
        before = audit.snapshot(row)
        DealLine.objects.in_workspace(workspace).filter(deal=row).delete()
        DealLine.objects.bulk_create(
            DealLine(workspace=workspace, deal=row, **line) for line in rows
        )
        if update_amount and row.status == DealStatus.OPEN and rows:
            row.amount = sum((line["amount"] for line in rows), Decimal(0))
            row.amount_base = money.to_base(
                workspace, row.amount, row.currency, timezone.localdate(now)
            )
        _bump(row)
        row.save()
        audit.log_update(actor=actor, instance=row, before=before)
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.UPDATE,
            object_key=DEAL,
            object_id=row.pk,
            object_repr=str(row),
            changes={
                "lines": [
                    None,
                    [
                        {"product": line["product"].code, "quantity": str(line["quantity"])}
                        for line in rows
                    ],
                ]
            },
        )
    return row


def deal_set_competitors(
    *, actor: User, workspace: Workspace, deal, competitors, version=None
) -> Deal:
    """Replace the competitors we meet on this deal."""
    permissions.require(actor, DEAL, Action.UPDATE)
    errors = FieldErrors()
    chosen = _competitors(errors, workspace, competitors)
    errors.raise_if_any()
    with transaction.atomic():
        row = _lock(workspace=workspace, actor=actor, deal=deal, version=version)
        links = DealCompetitor.objects.in_workspace(workspace).filter(deal=row)
        had = set(links.values_list("competitor_id", flat=True))
        want = {c.pk for c in chosen}
        links.exclude(competitor_id__in=want).delete()
        DealCompetitor.objects.bulk_create(
            DealCompetitor(workspace=workspace, deal=row, competitor=c)
            for c in chosen
            if c.pk not in had
        )
        _bump(row)
        row.save(update_fields=["version", "updated_at"])
        if had != want:
            audit.log(
                actor=actor,
                workspace=workspace,
                action=AuditAction.UPDATE,
                object_key=DEAL,
                object_id=row.pk,
                object_repr=str(row),
                changes={"competitors": [sorted(had), sorted(want)]},
            )
    return row


def deal_touch(*, workspace, deal_id: int, at: dt.datetime) -> int:
    """Move the deal's ``last_activity_at`` forward (never back). Parts that log an activity
    about a deal (``related_object_key="sales.deal"``) call it in their transaction."""
    from django.db.models import Q

    return (
        Deal.objects.in_workspace(workspace)
        .filter(Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=at), pk=deal_id)
        .update(last_activity_at=at)
    )
