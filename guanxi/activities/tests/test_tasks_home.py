"""The platform's start-page panels and top-bar widgets registry (``platform.home``),
which "my day" and the notification bell plug into."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from guanxi.platform import home

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(home, "_panels", {})
    monkeypatch.setattr(home, "_widgets", {})
    return home


def test_panels_in_order_and_hidden_when_the_loader_says_so(registry):
    registry.register(
        home.HomePanel(key="b", template="b.html", loader=lambda r: {"n": 2}, order=2)
    )
    registry.register(
        home.HomePanel(key="a", template="a.html", loader=lambda r: {"n": 1}, order=1)
    )
    registry.register(home.HomePanel(key="hidden", template="h.html", loader=lambda r: None))
    panels = registry.panels_for(RequestFactory().get("/"))
    assert [(p["panel"].key, p["context"]["n"]) for p in panels] == [("a", 1), ("b", 2)]


def test_widgets_skip_missing_urls_and_disallowed_users(registry, admin_user):
    registry.register_widget(home.TopbarWidget(key="bell", url_name="activities:notification_bell"))
    registry.register_widget(home.TopbarWidget(key="gone", url_name="nowhere:nothing"))
    registry.register_widget(
        home.TopbarWidget(key="no", url_name="platform:home", allowed=lambda user: False)
    )
    assert registry.widgets_for(admin_user) == [
        {"key": "bell", "url": reverse("activities:notification_bell")}
    ]


def test_the_shell_loads_the_bell_on_every_page(client, admin_user):
    client.force_login(admin_user)
    html = client.get(reverse("platform:profile")).content.decode()
    assert f'hx-get="{reverse("activities:notification_bell")}"' in html
    assert client.get(reverse("activities:notification_bell")).status_code == 200


def test_signed_out_pages_have_no_widgets(client):
    html = client.get(reverse("login")).content.decode()
    assert reverse("activities:notification_bell") not in html
