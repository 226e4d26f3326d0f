"""The predictive lead score on synthetic history whose signal is known: leads from
industry 制造业 win 80% of the time, from 零售 20%. The model must find it, keep its
parameters as plain JSON, score new leads in plain Python, explain the score by its top
factors, and refuse to train on too little or one-sided history."""

from __future__ import annotations

import json
import random

import pytest

from guanxi.sales.models import Deal, Lead, LeadScoreModel
from guanxi.sales.services import lead_model
from guanxi.sales.services import leads as services
from guanxi.sales.services.deals import deal_create

pytestmark = pytest.mark.django_db


def history(workspace, actor, *, per_industry=40, rates=None, seed=7):
    """Converted leads with won/lost deals: ``rates`` = win rate per industry."""
    rng = random.Random(seed)
    rates = rates or {"制造业": 0.8, "零售": 0.2}
    won, lost = [], []
    for industry, rate in rates.items():
        wins = round(per_industry * rate)
        for i in range(per_industry):
            deal = deal_create(actor=actor, workspace=workspace, name=f"{industry}{i}")
            (won if i < wins else lost).append(deal.pk)
            Lead.objects.create(
                workspace=workspace,
                name=f"{industry}{i}",
                email=f"{i}@{rng.random():.6f}.example.com",
                industry=industry,
                employees=rng.choice([5, 50, 500]),
                region=rng.choice(["华东", "华南"]),
                source="web_form",
                status="converted",
                deal_id=deal.pk,
            )
    Deal.objects.in_workspace(workspace).filter(pk__in=won).update(status="won")
    Deal.objects.in_workspace(workspace).filter(pk__in=lost).update(status="lost")


def test_the_model_finds_the_known_signal(workspace, admin_user):
    history(workspace, admin_user)
    model, reason = lead_model.model_retrain(actor=admin_user, workspace=workspace)
    assert model is not None, reason
    assert (model.samples, model.positives) == (80, 40)
    assert model.auc is not None and model.auc > 0.7
    params = json.loads(json.dumps(model.parameters))  # plain JSON, no pickle
    weights = params["weights"]
    assert weights["industry=制造业"] - weights["industry=零售"] > 1.0

    maker = services.lead_create(
        actor=admin_user, workspace=workspace, name="新客户", email="a@b.cn", industry="制造业"
    )
    shop = services.lead_create(
        actor=admin_user, workspace=workspace, name="小店", email="c@d.cn", industry="零售"
    )
    assert 60 < maker.predicted_score <= 100
    assert 0 <= shop.predicted_score < 40
    # The explanation names the industry first, in words, with its sign.
    assert maker.score_factors[0]["feature"] == "industry=制造业"
    assert lead_model.factor_text(maker.score_factors[0]).startswith("Industry: 制造业 +")
    assert lead_model.factor_text(shop.score_factors[0]).startswith("Industry: 零售 -")


def test_pure_python_scoring_matches_scikit_learn(workspace, admin_user):
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    history(workspace, admin_user, per_industry=15)
    model, _reason = lead_model.train(workspace=workspace)
    leads, labels = lead_model.training_set(workspace=workspace)
    rows = [lead_model.features(lead, {}) for lead in leads]
    vectorizer = DictVectorizer(sparse=False)
    classifier = LogisticRegression(C=1.0, max_iter=2000).fit(
        vectorizer.fit_transform(rows), labels
    )
    for lead in leads[:10]:
        ours, _factors = lead_model.predict(model.parameters, lead, {})
        theirs = classifier.predict_proba(vectorizer.transform([lead_model.features(lead, {})]))
        assert ours == pytest.approx(theirs[0][1] * 100, abs=0.1)


def test_too_little_or_one_sided_history_makes_no_model(workspace, admin_user):
    history(workspace, admin_user, per_industry=5)
    model, reason = lead_model.train(workspace=workspace)
    assert model is None and "at least 20" in reason
    assert lead_model.readiness(workspace=workspace)["ready"] is False
    Deal.objects.in_workspace(workspace).update(status="won")
    history(workspace, admin_user, per_industry=10, rates={"能源": 1.0}, seed=9)
    model, reason = lead_model.train(workspace=workspace)
    assert model is None and "same" in reason
    assert not LeadScoreModel.objects.in_workspace(workspace).exists()


def test_unqualified_leads_count_as_lost_and_retraining_replaces_the_model(workspace, admin_user):
    history(workspace, admin_user, per_industry=10, rates={"制造业": 1.0})
    for i in range(12):
        Lead.objects.create(
            workspace=workspace, name=f"u{i}", email=f"u{i}@x.cn", industry="零售",
            status="unqualified", unqualified_reason="无预算",
        )  # fmt: skip
    first, _ = lead_model.train(workspace=workspace)
    second, _ = lead_model.train(workspace=workspace)
    assert first.samples == 22 and first.positives == 10
    first.refresh_from_db()
    assert not first.active and second.active
    assert lead_model.train_all() == {"trained": 1, "skipped": 0}


def test_retrain_needs_the_configuration_right(workspace):
    from guanxi.common.errors import PermissionDenied
    from guanxi.platform.tests.factories import UserFactory

    with pytest.raises(PermissionDenied):
        lead_model.model_retrain(actor=UserFactory(workspace=workspace), workspace=workspace)
