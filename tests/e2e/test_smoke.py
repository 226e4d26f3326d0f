"""The browser reaches the live server, the login page renders in the browser's language
(the page fixture asks for zh-CN), and an administrator can sign in."""

from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.e2e


def test_login_page_renders(page, screenshot):
    response = page.goto("/login/")
    assert response is not None and response.status == 200, "GET /login/ did not answer 200"
    assert page.title(), "the login page has no title"
    assert (page.locator("html").get_attribute("lang") or "").startswith("zh")
    assert page.locator('input[name="password"]').count() == 1
    path = screenshot(page, "login")
    assert path.stat().st_size > 0


def test_administrator_signs_in(page, workspace_admin, login, screenshot):
    login(page, workspace_admin.email, workspace_admin.password)
    assert urlsplit(page.url).path != "/login/"
    screenshot(page, "home-after-login")
