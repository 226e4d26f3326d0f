"""Every business table carries a workspace, and forgetting to filter on it fails loudly."""

import pytest
from django.apps import apps

from guanxi.common.models import UnscopedQueryError
from guanxi.platform.models import AuditEntry, Team, Workspace
from guanxi.platform.tests.factories import TeamFactory

# Rows that are not one company's business data, with the reason.
NOT_BUSINESS = {
    Workspace: "the workspace itself",
}
# Business rows whose workspace may be empty, with the reason.
NULLABLE_WORKSPACE = {
    AuditEntry: "failed sign-ins with an unknown e-mail belong to no workspace",
}


def guanxi_models():
    return [m for m in apps.get_models() if m.__module__.startswith("guanxi.")]


def test_every_business_model_carries_a_workspace():
    missing = []
    for model in guanxi_models():
        if model in NOT_BUSINESS:
            continue
        try:
            field = model._meta.get_field("workspace")
        except Exception:
            missing.append(model._meta.label)
            continue
        if field.null and model not in NULLABLE_WORKSPACE:
            missing.append(f"{model._meta.label} (nullable)")
        if field.related_model is not Workspace:
            missing.append(f"{model._meta.label} (not a Workspace key)")
    assert missing == [], f"business models without a workspace: {missing}"


def test_every_business_model_index_leads_with_workspace():
    bad = []
    for model in guanxi_models():
        if model in NOT_BUSINESS:
            continue
        for index in model._meta.indexes:
            if (
                index.fields
                and index.fields[0] != "workspace"
                and not index.name.startswith("job_state")
            ):
                bad.append(f"{model._meta.label}.{index.name}")
    assert bad == []


def test_unscoped_query_raises(workspace):
    TeamFactory(workspace=workspace)
    with pytest.raises(UnscopedQueryError):
        list(Team.objects.all())
    with pytest.raises(UnscopedQueryError):
        Team.objects.filter(name="x").exists()
    with pytest.raises(UnscopedQueryError):
        Team.objects.count()


def test_scoped_queries_run(workspace, other_workspace):
    mine = TeamFactory(workspace=workspace, name="Mine")
    TeamFactory(workspace=other_workspace, name="Theirs")
    assert list(Team.objects.in_workspace(workspace)) == [mine]
    assert Team.objects.filter(workspace=workspace, name="Mine").count() == 1
    assert Team.objects.across_workspaces().count() == 2


def test_related_managers_of_scoped_rows_run(workspace):
    parent = TeamFactory(workspace=workspace, name="Sales")
    child = TeamFactory(workspace=workspace, name="East", parent=parent)
    assert list(parent.children.all()) == [child]
