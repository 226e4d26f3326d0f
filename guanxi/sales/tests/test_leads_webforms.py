"""Web forms: the public page /f/<key>/ (embeddable, no login, no CSRF cookie), its spam
protection (token, minimum fill time, honeypot, rate limit, junk), a person's mistakes
shown again, valid submissions made into scored and assigned leads; the admin pages."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.test import Client

from guanxi.platform.tests.factories import UserFactory
from guanxi.sales.models import Lead, LeadForm
from guanxi.sales.services import lead_assignment, lead_forms

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def webform(workspace, admin_user):
    return lead_forms.lead_form_create(
        actor=admin_user,
        workspace=workspace,
        name="官网咨询",
        campaign="2026 春季展会",
        fields=["company", "message"],
    )


def post(webform, data, *, age=10, ip="203.0.113.5", token=None):
    body = {"token": token or lead_forms.render_token(webform, now=time.time() - age), **data}
    return Client(REMOTE_ADDR=ip).post(f"/f/{webform.public_key}/", body)


def leads(workspace):
    return Lead.objects.in_workspace(workspace)


def test_the_public_page_is_embeddable_without_login_or_csrf_cookie(webform):
    response = Client().get(f"/f/{webform.public_key}/")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "csrftoken" not in response.cookies
    html = response.content.decode()
    assert 'name="token"' in html and 'name="website"' in html and 'name="company"' in html
    assert 'name="industry"' not in html
    assert Client().get("/f/nope/").status_code == 404


def test_a_valid_submission_makes_a_lead_that_is_assigned(workspace, admin_user, webform):
    rep = UserFactory(workspace=workspace)
    lead_assignment.assignment_rule_create(
        actor=admin_user, workspace=workspace, name="all", method="round_robin", rep_ids=[rep.pk]
    )
    response = post(
        webform, {"name": "孙七", "phone": "139-1234-5678", "company": "某厂", "message": "要报价"}
    )
    assert response.status_code == 200 and "Thank you" in response.content.decode()
    lead = leads(workspace).get()
    assert (lead.source, lead.campaign, lead.form_id) == ("web_form", "2026 春季展会", webform.pk)
    assert lead.phone == "+8613912345678" and lead.owner == rep
    webform.refresh_from_db()
    assert (webform.submissions, webform.spam_blocked) == (1, 0)


@pytest.mark.parametrize(
    "case",
    ["honeypot", "too_fast", "no_token", "forged_token", "other_form", "link_in_name", "links"],
)
def test_spam_gets_thanks_and_creates_nothing(workspace, admin_user, webform, case):
    data = {"name": "Bot", "email": "bot@example.com"}
    kwargs = {}
    if case == "honeypot":
        data["website"] = "http://spam.example"
    elif case == "too_fast":
        kwargs["age"] = 1
    elif case == "no_token":
        kwargs["token"] = "x"
    elif case == "forged_token":
        kwargs["token"] = lead_forms.render_token(webform, now=time.time() - 10)[:-3] + "abc"
    elif case == "other_form":
        other = lead_forms.lead_form_create(actor=admin_user, workspace=workspace, name="B")
        kwargs["token"] = lead_forms.render_token(other, now=time.time() - 10)
    elif case == "link_in_name":
        data["name"] = "Cheap pills https://spam.example"
    elif case == "links":
        data["message"] = "http://a.example http://b.example www.c.example"
    response = post(webform, data, **kwargs)
    assert response.status_code == 200 and "Thank you" in response.content.decode()
    assert not leads(workspace).exists()
    webform.refresh_from_db()
    assert (webform.submissions, webform.spam_blocked) == (0, 1)


def test_rate_limit_per_address(workspace, webform):
    for i in range(lead_forms.RATE_LIMIT):
        post(webform, {"name": f"人{i}", "email": f"p{i}@example.com"})
    post(webform, {"name": "多余", "email": "extra@example.com"})
    assert leads(workspace).count() == lead_forms.RATE_LIMIT
    post(webform, {"name": "别人", "email": "other@example.com"}, ip="198.51.100.7")
    assert leads(workspace).count() == lead_forms.RATE_LIMIT + 1
    webform.refresh_from_db()
    assert webform.spam_blocked == 1


def test_a_persons_mistakes_come_back_with_errors(workspace, webform):
    response = post(webform, {"name": "", "email": "not-an-address", "company": "我的公司"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter the lead&#x27;s name." in html or "Enter the lead's name." in html
    assert "Enter a valid e-mail address." in html
    assert 'value="我的公司"' in html
    assert not leads(workspace).exists()


def test_inactive_form_is_gone(workspace, admin_user, webform):
    lead_forms.lead_form_update(
        actor=admin_user, workspace=workspace, form_id=webform.pk, active=False
    )
    assert Client().get(f"/f/{webform.public_key}/").status_code == 404


def test_admin_pages(workspace, admin_user, webform, other_admin):
    client = Client()
    client.force_login(admin_user)
    page = client.get("/sales/lead-forms/")
    assert page.status_code == 200 and "官网咨询" in page.content.decode()
    page = client.get(f"/sales/lead-forms/{webform.pk}/")
    assert "<iframe" in page.content.decode().replace("&lt;", "<")
    response = client.post(
        "/sales/lead-forms/new/", {"name": "新表单", "fields": ["industry"], "active": "on"}
    )
    assert response.status_code == 302
    created = LeadForm.objects.in_workspace(workspace).get(name="新表单")
    assert created.fields == ["industry"] and created.active
    # Bad input is shown on the form; nothing written.
    response = client.post("/sales/lead-forms/new/", {"name": "", "redirect_url": "ftp://x"})
    assert response.status_code == 200
    assert LeadForm.objects.in_workspace(workspace).count() == 2
    # Another workspace's form is not there; a rep may not change forms.
    outsider = Client()
    outsider.force_login(other_admin)
    assert outsider.get(f"/sales/lead-forms/{webform.pk}/").status_code == 404
    rep = Client()
    rep.force_login(UserFactory(workspace=workspace))
    assert rep.get(f"/sales/lead-forms/{webform.pk}/").status_code == 403
    assert rep.post("/sales/lead-forms/new/", {"name": "x"}).status_code == 403
