"""The leads demo: leads from several sources, rules, two forms, a won/lost history and a
trained model; a second run adds nothing."""

from __future__ import annotations

import random

import pytest

from guanxi.platform.models import User
from guanxi.platform.tests.factories import UserFactory
from guanxi.sales import leads_demo
from guanxi.sales.models import AssignmentRule, Lead, LeadForm, LeadScoreModel, LeadScoringRule
from guanxi.sales.services.setup import ensure_sales_defaults

pytestmark = pytest.mark.django_db


def test_demo_seeds_leads_rules_forms_and_a_model(workspace, admin_user):
    for _ in range(3):
        UserFactory(workspace=workspace)
    ensure_sales_defaults(workspace)
    users = list(User.objects.filter(workspace=workspace).select_related("role").order_by("pk"))
    result = leads_demo.seed(workspace=workspace, users=users, rng=random.Random(1))
    leads = Lead.objects.in_workspace(workspace)
    assert result["leads"] == leads.count() >= 50
    assert len(set(leads.values_list("source", flat=True))) >= 5
    assert leads.filter(status="converted").count() == result["won"] + result["lost"] > 20
    assert leads.filter(owner__isnull=False, source="web_form").exists()
    assert LeadForm.objects.in_workspace(workspace).count() == 2
    assert LeadScoringRule.objects.in_workspace(workspace).count() == 7
    assert AssignmentRule.objects.in_workspace(workspace).count() == 2
    assert result["model"] is True
    assert LeadScoreModel.objects.in_workspace(workspace).filter(active=True).count() == 1
    assert leads.filter(predicted_score__isnull=False).count() == leads.count()
    assert leads_demo.seed(workspace=workspace, users=users, rng=random.Random(1)) == {"leads": 0}
