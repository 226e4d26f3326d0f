"""After an erasure, the 360° history and the audit log pages still list the entries,
with the placeholder instead of the person's values."""

import json

import pytest
from django.urls import reverse

from guanxi.customers.services import privacy, records
from guanxi.customers.tests.factories import ContactFactory
from guanxi.platform.models import AuditEntry
from guanxi.platform.tests.factories import UserFactory


@pytest.fixture
def erased(workspace):
    manager = UserFactory(workspace=workspace, role_code="sales_manager")
    contact = ContactFactory(workspace=workspace, owner=manager, name="王小明")
    records.contact_update(
        actor=manager, workspace=workspace, contact_id=contact.pk, mobile="13700001111"
    )
    privacy.contact_erase(actor=manager, workspace=workspace, contact_id=contact.pk, reason="asked")
    return contact


def test_history_shows_redacted_entries(client, admin_user, erased):
    client.force_login(admin_user)
    page = client.get(reverse("customers:contact_detail", args=[erased.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "13700001111" not in html and "王小明" not in html
    assert "[erased]" in html


def test_audit_pages_show_redacted_entries(client, admin_user, workspace, erased):
    client.force_login(admin_user)
    html = client.get(reverse("platform:audit_list")).content.decode()
    assert "13700001111" not in html and "王小明" not in html
    entry = (
        AuditEntry.objects.in_workspace(workspace)
        .filter(object_id=str(erased.pk), redacted_at__isnull=False)
        .first()
    )
    page = client.get(reverse("platform:audit_detail", args=[entry.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "13700001111" not in html and "[erased]" in html


def test_api_audit_list_shows_redacted_entries(client, admin_user, erased):
    client.force_login(admin_user)
    response = client.get("/api/v1/audit", {"object_id": str(erased.pk)})
    assert response.status_code == 200
    body = json.dumps(response.json(), ensure_ascii=False)
    assert "13700001111" not in body and "王小明" not in body
    assert "[erased]" in body
