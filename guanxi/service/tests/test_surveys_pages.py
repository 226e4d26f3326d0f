"""The surveys pages: the public answer page (no login; once; expired and unknown links;
the case's language; rate limit; CSRF), the results with per-agent figures and the CSV, the
settings, a case's survey panel, the 360° section and the trends page — fixed query counts,
other workspaces 404 or nothing shown, users without the right 403."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from guanxi.customers.tests.factories import ContactFactory
from guanxi.service.models import CaseEvent, Survey, SurveySettings
from guanxi.service.services import surveys

from .surveys_support import *  # noqa: F403
from .surveys_support import case_type, make_case, resolve, resolved_case, survey_token

pytestmark = pytest.mark.django_db

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def _survey(admin, contact, **extra):
    case = resolved_case(admin, contact, **extra)
    survey = Survey.objects.in_workspace(admin.workspace).get(case=case)
    return case, survey, survey_token(survey)


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200, response.content[:600]
    return len(ctx)


# --- the public page -----------------------------------------------------------------------


def test_public_page_answer_once(admin, agent, emailed):
    case, survey, token = _survey(admin, emailed, assignee=agent.pk)
    url = f"/s/{token}/"
    client = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=PHONE)
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert case.number in html and 'name="score"' in html and 'type="radio"' in html
    assert 'name="viewport"' in html and page["Cache-Control"] == "no-store"
    assert page["Referrer-Policy"] == "same-origin"
    # A post without the CSRF token is refused and changes nothing.
    assert client.post(url, {"score": "4"}).status_code == 403
    csrf = client.cookies["csrftoken"].value
    response = client.post(
        url, {"score": "4", "comment": "师傅很专业", "csrfmiddlewaretoken": csrf}
    )
    assert response.status_code == 200 and 'role="status"' in response.content.decode()
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (4, "师傅很专业")
    # Used again: says it was answered, changes nothing.
    again = client.post(url, {"score": "1", "comment": "x", "csrfmiddlewaretoken": csrf})
    assert again.status_code == 200
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (4, "师傅很专业")
    assert client.get(url).status_code == 200
    assert 'name="score"' not in client.get(url).content.decode()
    assert CaseEvent.objects.in_workspace(admin.workspace).filter(kind="survey").count() == 1


def test_public_page_bad_score_shows_the_form_again(admin, emailed, client):
    _case, survey, token = _survey(admin, emailed)
    response = client.post(f"/s/{token}/", {"score": "9", "comment": "好"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html and "好" in html
    survey.refresh_from_db()
    assert survey.answered_at is None


def test_public_page_expired_and_unknown(admin, emailed, client):
    _case, survey, token = _survey(admin, emailed)
    unknown = client.get("/s/this-is-no-token/")
    assert unknown.status_code == 404 and 'name="score"' not in unknown.content.decode()
    Survey.objects.in_workspace(admin.workspace).filter(pk=survey.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert client.get(f"/s/{token}/").status_code == 410
    assert client.post(f"/s/{token}/", {"score": "5"}).status_code == 410
    survey.refresh_from_db()
    assert survey.answered_at is None


def test_unknown_token_looks_the_same_whoever_asks(admin, emailed, other_admin, client):
    """No workspace is named in the link: a made-up token and another workspace's
    survey's hash (not its token) give the same answer."""
    _case, survey, _token = _survey(admin, emailed)
    first = client.get("/s/made-up-token/")
    second = client.get(f"/s/{survey.token_hash}/")
    assert first.status_code == second.status_code == 404
    assert first.content == second.content
    client.force_login(other_admin)
    assert client.get("/s/made-up-token/").content == first.content


def test_public_page_in_the_case_language(admin, emailed, client):
    case = make_case(
        admin, contact=emailed, account=emailed.account, acknowledge=False, language="en"
    )
    resolve(admin, case)
    survey = Survey.objects.in_workspace(admin.workspace).get(case=case)
    token = survey_token(survey)
    html = client.get(f"/s/{token}/").content.decode()
    assert '<html lang="en">' in html and "How did we do?" in html
    zh = client.get(f"/s/{token}/?lang=zh-hans").content.decode()
    assert '<html lang="zh-hans">' in zh
    case.language = "zh-hans"
    case.save(update_fields=["language"])
    assert '<html lang="zh-hans">' in client.get(f"/s/{token}/").content.decode()


def test_public_page_is_rate_limited(admin, emailed, client, monkeypatch):
    _case, survey, token = _survey(admin, emailed)
    monkeypatch.setattr(surveys, "ANSWER_LIMIT", 2)
    for _ in range(2):
        assert client.post(f"/s/{token}/", {"score": "0"}).status_code == 400
    assert client.post(f"/s/{token}/", {"score": "5"}).status_code == 429
    survey.refresh_from_db()
    assert survey.answered_at is None
    monkeypatch.setattr(surveys, "VIEW_LIMIT", 3)
    assert client.get(f"/s/{token}/").status_code == 429


# --- results -------------------------------------------------------------------------------


def _answered(admin, agent, contact, score, comment=""):
    _case, survey, token = _survey(admin, contact, assignee=agent.pk)
    surveys.survey_answer(token=token, score=score, comment=comment)
    return survey


def test_results_page_per_agent_and_answers(admin, agent, other_agent, emailed, client):
    _answered(admin, agent, emailed, 5, "很满意")
    _answered(admin, agent, emailed, 2, "太慢")
    _answered(admin, other_agent, emailed, 4)
    _survey(admin, emailed, assignee=other_agent.pk)  # sent, not answered
    client.force_login(admin)
    response = client.get(reverse("service:survey_results"), HTTP_USER_AGENT=PHONE)
    assert response.status_code == 200
    stats = response.context["stats"]
    by_agent = {a.agent_id: a for a in stats.agents}
    assert (by_agent[agent.pk].sent, by_agent[agent.pk].answered) == (2, 2)
    assert by_agent[agent.pk].average == 3.5 and by_agent[agent.pk].response_rate == 100.0
    assert (by_agent[other_agent.pk].sent, by_agent[other_agent.pk].answered) == (2, 1)
    assert by_agent[other_agent.pk].response_rate == 50.0
    assert stats.total.distribution == {1: 0, 2: 1, 3: 0, 4: 1, 5: 1}
    assert stats.total.average == round(11 / 3, 2)
    html = response.content.decode()
    assert "很满意" in html and "太慢" in html and 'data-chart="chart-survey-distribution"' in html
    filtered = client.get(reverse("service:survey_results"), {"agent": agent.pk, "score": 2})
    assert [s.comment for s in filtered.context["rows"].items] == ["太慢"]
    pending = client.get(reverse("service:survey_results"), {"state": "pending"})
    assert len(pending.context["rows"].items) == 1


def test_results_page_query_count_is_fixed(admin, agent, other_agent, emailed, client):
    client.force_login(admin)
    url = reverse("service:survey_results")
    _answered(admin, agent, emailed, 3)
    _count(client, url)  # the first request fills the process's caches
    few = _count(client, url)
    for score in (1, 2, 4, 5):
        _answered(admin, other_agent, emailed, score, "评论")
    assert _count(client, url) == few


def test_results_keyset_pages(admin, agent, emailed, client, monkeypatch):
    from guanxi.service import surveys_views

    monkeypatch.setattr(surveys_views, "PAGE_SIZE", 2)
    made = [_answered(admin, agent, emailed, n) for n in (1, 2, 3)]
    client.force_login(admin)
    first = client.get(reverse("service:survey_results"))
    assert [s.pk for s in first.context["rows"].items] == [made[2].pk, made[1].pk]
    cursor = first.context["rows"].next_cursor
    second = client.get(
        reverse("service:survey_results"), {"cursor": cursor}, HTTP_HX_REQUEST="true"
    )
    assert [s.pk for s in second.context["rows"].items] == [made[0].pk]
    assert "<html" not in second.content.decode()


def test_agent_sees_only_own_results(admin, agent, other_agent, emailed, client):
    _answered(admin, agent, emailed, 5, "我的")
    _answered(admin, other_agent, emailed, 1, "别人的")
    client.force_login(agent)
    response = client.get(reverse("service:survey_results"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "我的" in html and "别人的" not in html
    assert [a.agent_id for a in response.context["stats"].agents] == [agent.pk]
    # Service agents read their results but may not export them.
    assert client.get(reverse("service:survey_export")).status_code == 403


def test_export_csv(admin, agent, emailed, client):
    _answered(admin, agent, emailed, 4, "=cmd|' /C calc'!A0")
    client.force_login(admin)
    response = client.get(reverse("service:survey_export"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert len(lines) == 2
    assert "'=cmd" in lines[1] and ",4," in lines[1]


def test_settings_page(admin, agent, service_ws, client):
    complaint = case_type(service_ws, "complaint")
    client.force_login(admin)
    assert client.get(reverse("service:survey_settings")).status_code == 200
    response = client.post(reverse("service:survey_settings"), {"case_types": [complaint.pk]})
    assert response.status_code == 302
    row = SurveySettings.objects.in_workspace(service_ws).get()
    assert (row.enabled, row.case_type_ids) == (False, [complaint.pk])
    client.force_login(agent)  # reads the configuration, may not change it
    assert client.get(reverse("service:survey_settings")).status_code == 200
    assert client.post(reverse("service:survey_settings"), {"enabled": "on"}).status_code == 403
    row.refresh_from_db()
    assert row.enabled is False


def test_case_panel(admin, agent, emailed, client):
    case, _row, token = _survey(admin, emailed, assignee=agent.pk)
    client.force_login(admin)
    url = reverse("service:case_survey_panel", args=[case.pk])
    assert "not answered yet" in client.get(url).content.decode()
    surveys.survey_answer(token=token, score=3, comment="还行")
    html = client.get(url).content.decode()
    assert "3/5" in html and "还行" in html
    other = make_case(admin, contact=emailed, acknowledge=False)
    assert (
        "No survey was sent"
        in client.get(reverse("service:case_survey_panel", args=[other.pk])).content.decode()
    )


def test_360_section_shows_last_scores(admin, agent, emailed, client):
    _answered(admin, agent, emailed, 2, "第一次")
    _answered(admin, agent, emailed, 5, "第二次")
    client.force_login(admin)
    with CaptureQueriesContext(connection):
        page = client.get(reverse("customers:contact_detail", args=[emailed.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="section-servicesatisfaction"' in html
    panel_url = reverse("service:customer_panel", args=["contact", emailed.pk, "satisfaction"])
    assert panel_url in html  # loaded after the page
    html = client.get(panel_url).content.decode()
    assert "第二次" in html and "3.5" in html
    account_panel = reverse(
        "service:customer_panel", args=["account", emailed.account_id, "satisfaction"]
    )
    assert "第一次" in client.get(account_panel).content.decode()
    # Someone without surveys: a panel saying so.
    other = ContactFactory(workspace=admin.workspace, name="新客户")
    empty = client.get(
        reverse("service:customer_panel", args=["contact", other.pk, "satisfaction"])
    )
    assert empty.status_code == 200 and "Nothing yet." in empty.content.decode()


def test_trends_page(admin, agent, emailed, client):
    case = resolved_case(admin, emailed, kind="complaint")
    client.force_login(admin)
    url = reverse("service:trends")
    response = client.get(url, HTTP_USER_AGENT=PHONE)
    assert response.status_code == 200
    trends = response.context["trends"]
    assert trends.current.matched == 1 and trends.current.resolved == 1
    html = response.content.decode()
    for chart in ("volume", "resolution", "categories"):
        assert f'data-chart="chart-trend-{chart}"' in html
    assert 'id="service-revenue"' in html  # administrators may read orders
    assert client.get(url, {"period": "week"}).context["trends"].filters.period == "week"
    assert client.get(url, {"period": "quarter", "kind": "all"}).status_code == 200
    bad = client.get(url, {"period": "decade"})
    assert bad.status_code == 200 and bad.context["trends"].filters.period == "month"
    assert case.number  # the case is counted above


def test_trends_page_query_count_is_fixed(admin, emailed, client):
    client.force_login(admin)
    url = reverse("service:trends")
    resolved_case(admin, emailed, kind="complaint")
    _count(client, url)  # the first request fills the process's caches
    few = _count(client, url)
    for kind in ("complaint", "fault", "complaint"):
        resolved_case(admin, emailed, kind=kind)
    assert _count(client, url) == few


# --- rights and other workspaces -------------------------------------------------------------------


def _staff_urls(case_id):
    return [
        reverse("service:survey_results"),
        reverse("service:survey_export"),
        reverse("service:survey_settings"),
        reverse("service:case_survey_panel", args=[case_id]),
        reverse("service:trends"),
    ]


def test_no_right_is_refused(admin, nobody, emailed, client):
    case, _survey_row, _token = _survey(admin, emailed)
    client.force_login(nobody)
    for url in _staff_urls(case.pk):
        assert client.get(url).status_code == 403, url


def test_signed_out_is_sent_to_sign_in(admin, emailed, client):
    case, _survey_row, _token = _survey(admin, emailed)
    for url in _staff_urls(case.pk):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"], url


def test_other_workspace_sees_nothing(admin, agent, emailed, other_admin, client):
    case, _row, token = _survey(admin, emailed, assignee=agent.pk)
    surveys.survey_answer(token=token, score=1, comment="秘密的评论")
    client.force_login(other_admin)
    assert client.get(reverse("service:case_survey_panel", args=[case.pk])).status_code == 404
    results = client.get(reverse("service:survey_results"))
    assert results.status_code == 200 and "秘密的评论" not in results.content.decode()
    assert results.context["stats"].agents == []
    export = client.get(reverse("service:survey_export"))
    assert "秘密的评论" not in b"".join(export.streaming_content).decode("utf-8-sig")
    trends = client.get(reverse("service:trends"))
    assert trends.context["trends"].current.cases == 0
    assert client.get(reverse("customers:contact_detail", args=[emailed.pk])).status_code == 404
