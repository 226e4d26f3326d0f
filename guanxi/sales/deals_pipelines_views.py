"""The pipelines admin page (right ``sales.configuration``): pipelines and their stages
(add, change, reorder, delete an unused one), lost reasons and competitors. One page; each
form posts an ``action`` and comes back with a message."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext

from guanxi.common.errors import ApplicationError
from guanxi.common.views import actor_scope, error_message, page
from guanxi.platform import permissions
from guanxi.platform.models import Action

from .models import Competitor, ForecastCategory, LostReason, Pipeline, Stage, StageKind
from .objects import CONFIGURATION
from .services import pipelines as services


def _run(request) -> None:
    scope = actor_scope(request)
    post = request.POST
    action = post.get("action", "")
    if action == "pipeline_create":
        services.pipeline_create(**scope, name=post.get("name", ""))
    elif action == "pipeline_update":
        services.pipeline_update(
            **scope,
            pipeline_id=post.get("pipeline"),
            name=post.get("name"),
            active=post.get("active") == "on",
            is_default=post.get("is_default") == "on" or None,
        )
    elif action == "stage_create":
        services.stage_create(
            **scope,
            pipeline_id=post.get("pipeline"),
            name=post.get("name", ""),
            probability=post.get("probability", ""),
            kind=post.get("kind", StageKind.OPEN),
            forecast_category=post.get("forecast_category", ForecastCategory.PIPELINE),
        )
    elif action == "stage_update":
        services.stage_update(
            **scope,
            stage_id=post.get("stage"),
            name=post.get("name", ""),
            probability=post.get("probability", ""),
            kind=post.get("kind", ""),
            forecast_category=post.get("forecast_category", ""),
        )
    elif action == "stage_delete":
        services.stage_delete(**scope, stage_id=post.get("stage"))
    elif action in ("stage_up", "stage_down"):
        stage = Stage.objects.in_workspace(request.workspace).filter(pk=post.get("stage")).first()
        if stage is None:
            return
        ids = list(
            Stage.objects.in_workspace(request.workspace)
            .filter(pipeline_id=stage.pipeline_id)
            .order_by("order", "id")
            .values_list("pk", flat=True)
        )
        i = ids.index(stage.pk)
        j = i - 1 if action == "stage_up" else i + 1
        if 0 <= j < len(ids):
            ids[i], ids[j] = ids[j], ids[i]
            services.stage_reorder(**scope, pipeline_id=stage.pipeline_id, stage_ids=ids)
    elif action == "reason_create":
        services.lost_reason_create(**scope, name=post.get("name", ""))
    elif action == "reason_toggle":
        reason = LostReason.objects.in_workspace(request.workspace).filter(
            pk=post.get("reason") or 0
        )
        row = reason.first()
        if row is not None:
            services.lost_reason_update(**scope, reason_id=row.pk, active=not row.active)
    elif action == "competitor_create":
        services.competitor_create(
            **scope, name=post.get("name", ""), website=post.get("website", "")
        )


@page
def settings_page(request):
    permissions.require(request.user, CONFIGURATION, Action.READ)
    if request.method == "POST":
        try:
            _run(request)
        except ApplicationError as exc:
            messages.error(request, error_message(exc))
        else:
            messages.success(request, gettext("Saved."))
        return redirect(reverse("sales:pipeline_settings"))
    workspace = request.workspace
    pipelines = list(Pipeline.objects.in_workspace(workspace).order_by("order", "id"))
    stages: dict[int, list] = {}
    for stage in Stage.objects.in_workspace(workspace).order_by("pipeline_id", "order", "id"):
        stages.setdefault(stage.pipeline_id, []).append(stage)
    for pipeline in pipelines:
        pipeline.stage_list = stages.get(pipeline.pk, [])
    return render(
        request,
        "sales/deals/pipelines.html",
        {
            "pipelines": pipelines,
            "reasons": list(LostReason.objects.in_workspace(workspace).order_by("order", "id")),
            "competitors": list(Competitor.objects.in_workspace(workspace).order_by("name")),
            "kinds": StageKind.choices,
            "categories": ForecastCategory.choices,
            "can_change": permissions.can(request.user, CONFIGURATION, Action.UPDATE),
        },
    )
