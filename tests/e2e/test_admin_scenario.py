"""The issue's "done when" scenario in a real browser: an administrator signs in, switches
to 简体中文, creates a team, a role with own-team visibility, a user and a custom field,
and sees each change in the audit log. Plus the shell on a phone-sized screen."""

import pytest

from tests.e2e.conftest import TIMEOUT_MS

pytestmark = pytest.mark.e2e


@pytest.fixture
def english_page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 860}
    )
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def submit(page):
    page.locator("main form.card button[type=submit], main form button.btn-primary").first.click()
    page.wait_for_load_state("networkidle")


def test_administrator_sets_up_the_workspace_in_chinese(
    english_page, make_workspace, login, screenshot
):
    page = english_page
    account = make_workspace(name="华东贸易有限公司", language="en")
    login(page, account.email, account.password)
    assert page.locator("nav.sidenav").inner_text().count("Users") == 1

    # Switch the interface to Simplified Chinese; it sticks as the user's preference.
    page.select_option("#lang-select", "zh-hans")
    page.wait_for_load_state("networkidle")
    assert "用户" in page.locator("nav.sidenav").inner_text()
    from guanxi.platform.models import User

    assert User.objects.get(pk=account.user.pk).language == "zh-hans"

    # A team.
    page.goto("/settings/teams/new/")
    page.fill("input[name=name]", "华东销售组")
    submit(page)
    assert "华东销售组" in page.locator("main").inner_text()

    # A role whose reps see their own team's jobs.
    page.goto("/settings/roles/new/")
    page.fill("input[name=name]", "华东销售代表")
    page.check("input[name='right__platform.job__read']")
    page.select_option("select[name='visibility__platform.job']", "team")
    submit(page)
    assert "华东销售代表" in page.locator("main").inner_text()
    from guanxi.platform.models import Role

    role = Role.objects.in_workspace(account.workspace).get(name="华东销售代表")
    assert role.rights["platform.job"] == {"actions": ["read"], "visibility": "team"}

    # A custom field on users.
    page.goto("/settings/fields/new/")
    page.select_option("select[name=object_key]", "platform.user")
    page.fill("input[name=label]", "工号")
    page.select_option("select[name=field_type]", "text")
    submit(page)
    assert "工号" in page.locator("main").inner_text()

    # A user with that role, team and custom field.
    page.goto("/settings/users/new/")
    page.fill("input[name=email]", "li.na@example.com")
    page.fill("input[name=full_name]", "李娜")
    page.select_option("select[name=role]", str(role.pk))
    page.select_option("select[name=team]", label="华东销售组")
    page.fill("input[name=custom__gong_hao]", "E-0042")
    submit(page)
    main = page.locator("main").inner_text()
    assert "李娜" in main and "E-0042" in main

    # Every change is in the audit log.
    page.goto("/settings/audit/")
    log = page.locator("main").inner_text()
    for subject in ("华东销售组", "华东销售代表", "工号", "李娜"):
        assert subject in log, f"{subject} is missing from the audit log"
    screenshot(page, "audit-log-zh")


def test_the_shell_works_on_a_phone(browser, live_server, make_workspace, login, screenshot):
    account = make_workspace()
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        login(page, account.email, account.password)
        page.goto("/settings/users/")
        # No sideways scrolling of the page itself; the menu opens from the ☰ button.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

        def nav_left_edge():
            return page.locator("nav.sidenav").bounding_box()["x"]

        assert nav_left_edge() < 0  # the menu waits off-screen
        page.click("[data-nav-toggle]")
        page.wait_for_timeout(400)
        assert nav_left_edge() == 0
        screenshot(page, "users-phone")
    finally:
        context.close()
