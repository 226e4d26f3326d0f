"""Pipelines admin (right ``sales.configuration``): pipelines, their stages (name, order,
probability, kind, forecast category; reorder), lost reasons and competitors.

A stage that deals sit in cannot be deleted (deactivate the pipeline, or move the deals
first); a pipeline keeps at least one open, one won and one lost stage, so every deal can
always be moved, won and lost.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.common.errors import ApplicationError, Conflict, FieldErrors, NotFound
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, AuditAction, User, Workspace

from ..models import (
    Competitor,
    Deal,
    DealStageChange,
    ForecastCategory,
    LostReason,
    Pipeline,
    Stage,
    StageKind,
)
from ..objects import CONFIGURATION
from .setup import ensure_sales_defaults

ORDER_STEP = 10


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


def _probability(errors: FieldErrors, value) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = -1
    if not 0 <= number <= 100:
        errors.add("probability", _("Enter a percentage from 0 to 100."))
    return number


def _get(model, workspace, pk):
    try:
        return model.objects.in_workspace(workspace).get(pk=int(pk))
    except (model.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None


# --- pipelines ---------------------------------------------------------------------------------


def pipeline_create(*, actor: User, workspace: Workspace, name: str) -> Pipeline:
    """A new pipeline with three stages to start from (one open, won, lost)."""
    permissions.require(actor, CONFIGURATION, Action.CREATE)
    errors = FieldErrors()
    name = _text(errors, name, field="name", max_length=120, required=True)
    errors.raise_if_any()
    ensure_sales_defaults(workspace)
    with transaction.atomic():
        top = Pipeline.objects.in_workspace(workspace).aggregate(m=Max("order"))["m"] or 0
        pipeline = Pipeline.objects.create(workspace=workspace, name=name, order=top + 1)
        for order, (stage_name, probability, kind, category) in enumerate(
            (
                (
                    pgettext_lazy("deal stage", "Open"),
                    20,
                    StageKind.OPEN,
                    ForecastCategory.PIPELINE,
                ),
                (_("Won"), 100, StageKind.WON, ForecastCategory.CLOSED),
                (pgettext_lazy("deal stage", "Lost"), 0, StageKind.LOST, ForecastCategory.OMITTED),
            ),
            start=1,
        ):
            Stage.objects.create(
                workspace=workspace,
                pipeline=pipeline,
                name=str(stage_name),
                order=order * ORDER_STEP,
                probability=probability,
                kind=kind,
                forecast_category=category,
            )
        audit.log_create(actor=actor, instance=pipeline)
    return pipeline


def pipeline_update(
    *, actor: User, workspace: Workspace, pipeline_id, name=None, active=None, is_default=None
) -> Pipeline:
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    errors = FieldErrors()
    if name is not None:
        name = _text(errors, name, field="name", max_length=120, required=True)
    errors.raise_if_any()
    with transaction.atomic():
        pipeline = _get(Pipeline, workspace, pipeline_id)
        before = audit.snapshot(pipeline)
        if name is not None:
            pipeline.name = name
        if active is not None:
            if not active and pipeline.is_default:
                raise Conflict(
                    _("The default pipeline cannot be switched off; make another the default."),
                    code="default_pipeline",
                )
            pipeline.active = bool(active)
        if is_default:
            Pipeline.objects.in_workspace(workspace).exclude(pk=pipeline.pk).update(
                is_default=False
            )
            pipeline.is_default, pipeline.active = True, True
        pipeline.save()
        audit.log_update(actor=actor, instance=pipeline, before=before)
    return pipeline


# --- stages ------------------------------------------------------------------------------------


def _stage_values(errors: FieldErrors, values: dict, current: Stage | None) -> dict:
    out = {}
    if current is None or "name" in values:
        out["name"] = _text(errors, values.get("name"), field="name", max_length=80, required=True)
    if current is None or "probability" in values:
        out["probability"] = _probability(errors, values.get("probability"))
    if current is None or "kind" in values:
        kind = str(values.get("kind") or StageKind.OPEN)
        if kind not in StageKind.values:
            errors.add("kind", _("Choose open, won or lost."))
        out["kind"] = kind
    if current is None or "forecast_category" in values:
        category = str(values.get("forecast_category") or ForecastCategory.PIPELINE)
        if category not in ForecastCategory.values:
            errors.add("forecast_category", _("Choose a forecast category."))
        out["forecast_category"] = category
    return out


def stage_create(*, actor: User, workspace: Workspace, pipeline_id, **values) -> Stage:
    """A stage at the end of the pipeline's open stages (before won and lost)."""
    permissions.require(actor, CONFIGURATION, Action.CREATE)
    errors = FieldErrors()
    clean = _stage_values(errors, values, None)
    errors.raise_if_any()
    with transaction.atomic():
        pipeline = _get(Pipeline, workspace, pipeline_id)
        stages = list(
            Stage.objects.in_workspace(workspace).filter(pipeline=pipeline).order_by("order", "id")
        )
        stage = Stage(workspace=workspace, pipeline=pipeline, order=0, **clean)
        opens = [s for s in stages if s.kind == StageKind.OPEN]
        closing = [s for s in stages if s.kind != StageKind.OPEN]
        ordered = [*opens, stage, *closing] if stage.kind == StageKind.OPEN else [*stages, stage]
        stage.save()
        _renumber(ordered)
        audit.log_create(actor=actor, instance=stage)
    return stage


def stage_update(*, actor: User, workspace: Workspace, stage_id, **values) -> Stage:
    """Change a stage. Deals already in it keep their own probability; a stage with deals
    cannot change its kind (open ↔ won/lost would contradict the deals' status)."""
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    errors = FieldErrors()
    with transaction.atomic():
        stage = _get(Stage, workspace, stage_id)
        clean = _stage_values(errors, values, stage)
        errors.raise_if_any()
        if clean.get("kind", stage.kind) != stage.kind:
            if Deal.objects.in_workspace(workspace).filter(stage=stage).exists():
                raise Conflict(
                    _("Deals are in this stage; its kind cannot change."), code="stage_in_use"
                )
            _keep_kinds(workspace, stage, removing=True)
        before = audit.snapshot(stage)
        for name, value in clean.items():
            setattr(stage, name, value)
        stage.save()
        audit.log_update(actor=actor, instance=stage, before=before)
    return stage


def _keep_kinds(workspace, stage: Stage, *, removing: bool) -> None:
    others = Stage.objects.in_workspace(workspace).filter(
        pipeline_id=stage.pipeline_id, kind=stage.kind
    )
    if removing and not others.exclude(pk=stage.pk).exists():
        raise Conflict(
            _("A pipeline needs at least one %(kind)s stage.")
            % {"kind": StageKind(stage.kind).label.lower()},
            code="last_of_kind",
        )


def stage_delete(*, actor: User, workspace: Workspace, stage_id) -> None:
    permissions.require(actor, CONFIGURATION, Action.DELETE)
    with transaction.atomic():
        stage = _get(Stage, workspace, stage_id)
        used = Deal.objects.in_workspace(workspace).filter(stage=stage).exists() or (
            DealStageChange.objects.in_workspace(workspace).filter(to_stage=stage).exists()
        )
        if used:
            raise Conflict(
                _("Deals are or were in this stage; it cannot be deleted. Rename it instead."),
                code="stage_in_use",
            )
        _keep_kinds(workspace, stage, removing=True)
        audit.log_delete(actor=actor, instance=stage)
        stage.delete()


def stage_reorder(*, actor: User, workspace: Workspace, pipeline_id, stage_ids: list) -> list:
    """Put the pipeline's stages in the order given (every stage, each once)."""
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    with transaction.atomic():
        pipeline = _get(Pipeline, workspace, pipeline_id)
        stages = {s.pk: s for s in Stage.objects.in_workspace(workspace).filter(pipeline=pipeline)}
        try:
            wanted = [int(i) for i in stage_ids]
        except (TypeError, ValueError):
            wanted = []
        if sorted(wanted) != sorted(stages):
            raise ApplicationError(
                _("Give every stage of the pipeline once."),
                code="invalid",
                fields={"stage_ids": [_("Give every stage of the pipeline once.")]},
            )
        ordered = [stages[i] for i in wanted]
        _renumber(ordered)
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.UPDATE,
            object_key=CONFIGURATION,
            object_id=pipeline.pk,
            object_repr=str(pipeline),
            changes={"stage_order": [None, wanted]},
        )
    return ordered


def _renumber(stages: list[Stage]) -> None:
    for index, stage in enumerate(stages, start=1):
        if stage.order != index * ORDER_STEP:
            stage.order = index * ORDER_STEP
            stage.save(update_fields=["order", "updated_at"])


# --- lost reasons and competitors ------------------------------------------------------------


def lost_reason_create(*, actor: User, workspace: Workspace, name: str) -> LostReason:
    permissions.require(actor, CONFIGURATION, Action.CREATE)
    errors = FieldErrors()
    name = _text(errors, name, field="name", max_length=120, required=True)
    errors.raise_if_any()
    with transaction.atomic():
        top = LostReason.objects.in_workspace(workspace).aggregate(m=Max("order"))["m"] or 0
        reason = LostReason.objects.create(workspace=workspace, name=name, order=top + 1)
        audit.log_create(actor=actor, instance=reason)
    return reason


def lost_reason_update(
    *, actor: User, workspace: Workspace, reason_id, name=None, active=None
) -> LostReason:
    """Rename or switch off a lost reason (lost deals keep it; new losses cannot pick it)."""
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    errors = FieldErrors()
    if name is not None:
        name = _text(errors, name, field="name", max_length=120, required=True)
    errors.raise_if_any()
    with transaction.atomic():
        reason = _get(LostReason, workspace, reason_id)
        before = audit.snapshot(reason)
        if name is not None:
            reason.name = name
        if active is not None:
            reason.active = bool(active)
        reason.save()
        audit.log_update(actor=actor, instance=reason, before=before)
    return reason


def competitor_create(
    *, actor: User, workspace: Workspace, name: str, website: str = "", notes: str = ""
) -> Competitor:
    permissions.require(actor, CONFIGURATION, Action.CREATE)
    errors = FieldErrors()
    name = _text(errors, name, field="name", max_length=120, required=True)
    website = _text(errors, website, field="website", max_length=200)
    notes = _text(errors, notes, field="notes", max_length=5000)
    errors.raise_if_any()
    try:
        with transaction.atomic():
            competitor = Competitor.objects.create(
                workspace=workspace, name=name, website=website, notes=notes
            )
            audit.log_create(actor=actor, instance=competitor)
    except IntegrityError:
        raise Conflict(
            _("A competitor with this name exists already."),
            code="duplicate",
            fields={"name": [_("A competitor with this name exists already.")]},
        ) from None
    return competitor
