"""The predictive lead score: a logistic regression trained on the workspace's own
history — converted leads whose deal was won (1) or lost (0), and leads marked "not a
buyer" (0) — over one-hot fit attributes (industry, size band, region, province, source,
title keywords) and the engagement counts.

scikit-learn does the training (``DictVectorizer`` + ``LogisticRegression``); the
parameters are stored as JSON in ``LeadScoreModel`` (never a pickle), and scoring is
plain Python: ``p = 1 / (1 + exp(-(b + Σ wᵢxᵢ)))``. The lead page explains a score by its
largest terms wᵢxᵢ ("Industry: 制造业 +1.2").
"""

from __future__ import annotations

import math
import re

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import DealStatus, Lead, LeadScoreModel, LeadStatus
from ..objects import CONFIGURATION
from ..selectors import leads as selectors

MIN_SAMPLES = 20
FORMAT = 1
TOP_FACTORS = 3
# How many of the most recent labelled leads a training run reads at most.
MAX_SAMPLES = 50_000

SIZE_BANDS = ((10, "1-10"), (50, "11-50"), (200, "51-200"), (1000, "201-1000"))
# Words of Chinese job titles worth a feature of their own (a title has no spaces).
TITLE_WORDS = (
    "总经理", "董事长", "总裁", "总监", "经理", "主管", "采购", "工程师", "技术", "销售",
    "财务", "老板", "负责人", "厂长", "创始人", "助理", "专员", "主任", "院长", "校长",
)  # fmt: skip
_WORD = re.compile(r"[a-z][a-z0-9+#]{1,20}")
NUMERIC = ("activities", "replies", "visits")

FEATURE_LABELS = {
    "industry": _("Industry"),
    "size": _("Company size"),
    "region": _("Region"),
    "province": _("Province"),
    "source": _("Source"),
    "title": _("Job title"),
    "activities": _("Activities"),
    "replies": _("E-mail replies"),
    "visits": _("Visits"),
}


def size_band(employees: int | None) -> str:
    if employees is None:
        return ""
    for limit, band in SIZE_BANDS:
        if employees <= limit:
            return band
    return "1000+"


def title_words(title: str) -> list[str]:
    text = (title or "").lower()
    words = [w for w in TITLE_WORDS if w in text]
    words += _WORD.findall(text)
    return sorted(set(words))


def features(lead: Lead, counts: dict[str, int]) -> dict[str, float | str]:
    """The lead as the model sees it: strings are one-hot (``"industry=制造业"``),
    numbers are ``log(1 + count)``."""
    out: dict[str, float | str] = {}
    for name in ("industry", "region", "province", "source"):
        value = (getattr(lead, name) or "").strip()
        if value:
            out[name] = value
    band = size_band(lead.employees)
    if band:
        out["size"] = band
    for word in title_words(lead.title):
        out[f"title={word}"] = 1.0
    for name in NUMERIC:
        out[name] = math.log1p(counts.get(name, 0))
    return out


def _vector(feats: dict) -> dict[str, float]:
    """What DictVectorizer makes of ``feats``: ``name=value`` → 1, numbers as they are."""
    return {
        (f"{k}={v}" if isinstance(v, str) else k): (1.0 if isinstance(v, str) else float(v))
        for k, v in feats.items()
    }


def predict(parameters: dict, lead: Lead, counts: dict[str, int]) -> tuple[float | None, list]:
    """``(score 0–100, top factors)`` from stored parameters, in plain Python."""
    if not parameters or parameters.get("format") != FORMAT:
        return None, []
    weights = parameters.get("weights", {})
    z = float(parameters.get("intercept", 0.0))
    terms = []
    for name, x in _vector(features(lead, counts)).items():
        w = weights.get(name)
        if w is None or x == 0:
            continue
        z += w * x
        terms.append((name, w * x))
    z = max(-50.0, min(50.0, z))
    probability = 1.0 / (1.0 + math.exp(-z))
    terms.sort(key=lambda t: -abs(t[1]))
    factors = [
        {"feature": name, "weight": round(contribution, 2)}
        for name, contribution in terms[:TOP_FACTORS]
        if abs(contribution) >= 0.01
    ]
    return round(probability * 100, 1), factors


def factor_text(factor: dict) -> str:
    """One factor in words: "Industry: 制造业 +1.2", "Activities +0.8"."""
    name, _sep, value = str(factor.get("feature", "")).partition("=")
    label = str(FEATURE_LABELS.get(name, name))
    weight = float(factor.get("weight", 0))
    return f"{label}: {value} {weight:+.1f}" if value else f"{label} {weight:+.1f}"


def factors_in_words(lead: Lead) -> list[dict]:
    return [
        {"text": factor_text(f), "weight": f.get("weight", 0), "up": f.get("weight", 0) >= 0}
        for f in lead.score_factors or []
    ]


# --- training --------------------------------------------------------------------------------


def training_set(*, workspace) -> tuple[list[Lead], list[int]]:
    """Labelled leads, newest first: converted with a won (1) or lost (0) deal, and "not a
    buyer" (0). Converted leads whose deal is still open say nothing yet."""
    qs = (
        Lead.objects.in_workspace(workspace)
        .filter(status__in=(LeadStatus.CONVERTED, LeadStatus.UNQUALIFIED))
        .select_related("deal")
        .order_by("-id")[:MAX_SAMPLES]
    )
    leads, labels = [], []
    for lead in qs:
        if lead.status == LeadStatus.UNQUALIFIED:
            label = 0
        elif lead.deal is not None and lead.deal.status == DealStatus.WON:
            label = 1
        elif lead.deal is not None and lead.deal.status == DealStatus.LOST:
            label = 0
        else:
            continue
        leads.append(lead)
        labels.append(label)
    return leads, labels


def readiness(*, workspace) -> dict:
    """How much history there is, and whether it is enough to train on."""
    _leads, labels = training_set(workspace=workspace)
    positives = sum(labels)
    ready = len(labels) >= MIN_SAMPLES and 0 < positives < len(labels)
    if ready:
        reason = ""
    elif len(labels) < MIN_SAMPLES:
        reason = gettext(
            "Not enough history: %(n)s leads with a known outcome, at least %(min)s are needed."
        ) % {"n": len(labels), "min": MIN_SAMPLES}
    else:
        reason = gettext("Every known outcome is the same (all won or all lost); nothing to learn.")
    return {"samples": len(labels), "positives": positives, "ready": ready, "reason": reason}


def train(*, workspace) -> tuple[LeadScoreModel | None, str]:
    """Fit a model on the workspace's history; ``(None, reason)`` when there is too little.
    The new model replaces the active one and every lead is scored again."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    from . import lead_scoring

    leads, labels = training_set(workspace=workspace)
    positives = sum(labels)
    if len(labels) < MIN_SAMPLES or positives in (0, len(labels)):
        return None, readiness(workspace=workspace)["reason"]
    counts = selectors.engagement_counts(workspace=workspace, leads=leads)
    rows = [features(lead, counts[lead.pk]) for lead in leads]
    vectorizer = DictVectorizer(sparse=False)
    x = vectorizer.fit_transform(rows)
    classifier = LogisticRegression(C=1.0, max_iter=2000)
    classifier.fit(x, labels)
    auc = _cross_validated_auc(x, labels)
    weights = {
        name: round(float(w), 6)
        for name, w in zip(vectorizer.get_feature_names_out(), classifier.coef_[0], strict=True)
        if abs(w) > 1e-9
    }
    parameters = {
        "format": FORMAT,
        "intercept": round(float(classifier.intercept_[0]), 6),
        "weights": weights,
    }
    with transaction.atomic():
        LeadScoreModel.objects.in_workspace(workspace).filter(active=True).update(active=False)
        model = LeadScoreModel.objects.create(
            workspace=workspace,
            trained_at=timezone.now(),
            samples=len(labels),
            positives=positives,
            auc=auc,
            parameters=parameters,
            active=True,
        )
    lead_scoring.rescore_workspace(workspace=workspace)
    return model, ""


def _cross_validated_auc(x, labels) -> float | None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    minority = min(sum(labels), len(labels) - sum(labels))
    folds = min(5, minority)
    if folds < 2:
        return None
    scores = cross_val_score(
        LogisticRegression(C=1.0, max_iter=2000),
        x,
        labels,
        cv=StratifiedKFold(n_splits=folds, shuffle=True, random_state=0),
        scoring="roc_auc",
    )
    return round(float(scores.mean()), 3)


def model_retrain(*, actor: User, workspace: Workspace) -> tuple[LeadScoreModel | None, str]:
    """ "Retrain now" (sales configuration rights): train at once and say what came of it."""
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    model, reason = train(workspace=workspace)
    if model is not None:
        audit.log_create(actor=actor, instance=model)
    return model, reason


def train_all() -> dict:
    """The nightly job: retrain every workspace with enough history."""
    from guanxi.platform.models import Workspace as WorkspaceModel

    trained = skipped = 0
    ids = (
        Lead.objects.across_workspaces()
        .filter(status__in=(LeadStatus.CONVERTED, LeadStatus.UNQUALIFIED))
        .values_list("workspace_id", flat=True)
        .distinct()
    )
    for workspace in WorkspaceModel.objects.filter(pk__in=list(ids)):
        model, _reason = train(workspace=workspace)
        if model is None:
            skipped += 1
        else:
            trained += 1
    return {"trained": trained, "skipped": skipped}
