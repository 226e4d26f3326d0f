"""Helpers of the sales browser scenarios (tests/e2e/test_sales_scenario.py).

The people and the data of a story are made through the services, as the people in the story
would have made them; the browser does only what they do on the day. The people read the
application in English: the sales' strings are translated in one pass at the end of the
issue, and the scenarios must not depend on that pass (the customers' and products' names
stay Chinese).
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

from tests.e2e.conftest import PASSWORD, SCREENSHOTS, TIMEOUT_MS, login

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def user(admin, *, email: str, name: str, role: str, team=None):
    from guanxi.platform.models import Role
    from guanxi.platform.services import users

    return users.user_create(
        actor=admin.user,
        workspace=admin.workspace,
        email=email,
        full_name=name,
        role_id=Role.objects.in_workspace(admin.workspace).get(code=role).pk,
        team_id=team.pk if team else None,
        password=PASSWORD,
        language="en",
        time_zone="Asia/Shanghai",
    )


def team_with_manager(admin, *, name: str, manager_email: str, manager_name: str):
    """A sales team and its manager."""
    from guanxi.platform.services import teams

    team = teams.team_create(actor=admin.user, workspace=admin.workspace, name=name)
    manager = user(admin, email=manager_email, name=manager_name, role="sales_manager", team=team)
    teams.team_update(
        actor=admin.user, workspace=admin.workspace, team_id=team.pk, manager_id=manager.pk
    )
    return team, manager


def share(owner, workspace, record, with_user) -> None:
    """The owner shares a customer with a colleague (both may quote it)."""
    from guanxi.platform.services import sharing

    sharing.record_share(
        actor=owner,
        workspace=workspace,
        object_key=record._meta.label_lower,  # customers.account / customers.contact
        object_id=record.pk,
        user_id=with_user.pk,
        can_edit=True,
    )


def catalogue(admin, products: list[tuple[str, str, str, str]]) -> dict:
    """The administrator's catalogue: products (code, name, unit, standard price) at 13% VAT
    in a CNY standard price book, through the catalogue's services."""
    from guanxi.sales.models import TaxRate
    from guanxi.sales.services import catalog
    from guanxi.sales.services.setup import ensure_sales_defaults

    ws = admin.workspace
    ensure_sales_defaults(ws)
    vat = TaxRate.objects.in_workspace(ws).get(rate=Decimal("0.13"))
    book = catalog.price_book_create(
        actor=admin.user, workspace=ws, name="标准价目表", kind="standard", currency="CNY"
    )
    made = {}
    for code, name, unit, price in products:
        product = catalog.product_create(
            actor=admin.user, workspace=ws, code=code, name=name, unit=unit, tax_rate_id=vat.pk
        )
        catalog.price_entry_set(
            actor=admin.user,
            workspace=ws,
            price_book_id=book.pk,
            product_id=product.pk,
            unit_price=price,
        )
        made[code] = product
    return {"book": book, "products": made}


def price_book(admin, *, name: str, kind: str, prices: dict, **scope):
    """A customer's or a class's own CNY price book (``account_id=`` or
    ``customer_class=``) with some of the products, through the catalogue's services."""
    from guanxi.sales.services import catalog

    book = catalog.price_book_create(
        actor=admin.user, workspace=admin.workspace, name=name, kind=kind, currency="CNY", **scope
    )
    for product, price in prices.items():
        catalog.price_entry_set(
            actor=admin.user,
            workspace=admin.workspace,
            price_book_id=book.pk,
            product_id=product.pk,
            unit_price=price,
        )
    return book


def new_context(browser, live_server, *, phone: bool = False):
    """A browser of one person: a phone (390 × 844, touch) on the road, a desktop in the
    office."""
    options = {
        "base_url": live_server.url,
        "locale": "en-US",
        "timezone_id": "Asia/Shanghai",
        "viewport": PHONE if phone else DESKTOP,
    }
    if phone:
        options.update(is_mobile=True, has_touch=True)
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def sign_in(context, person):
    page = context.new_page()
    login(page, person.email, PASSWORD)
    return page


def no_sideways_scroll(page) -> None:
    """The page does not scroll sideways on the phone (measured once the page's own htmx
    requests, such as the notification bell, have answered). Names what sticks out."""
    page.wait_for_load_state("networkidle")
    width = page.evaluate("document.documentElement.scrollWidth")
    if width <= PHONE["width"]:
        return
    culprits = page.evaluate(
        """limit => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > limit)
        .slice(0, 5)
        .map(e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}`
          + `${e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : ''}`
          + ` (right edge ${Math.round(e.getBoundingClientRect().right)} px)`)""",
        PHONE["width"],
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "sales-sideways.png"), full_page=True)
    raise AssertionError(
        f"{page.url} is {width} px wide on a {PHONE['width']} px phone; past the edge: {culprits}"
    )


def open_notification(page, title: str) -> str:
    """From "my day": the notification about ``title`` → the notifications page → "Open"
    (read, and on to what it is about). Returns the notification's text."""
    page.locator("#my-day .notification-list a", has_text=title).click()
    page.wait_for_url("**/activities/notifications/")
    item = page.locator("li.notification", has_text=title)
    text = item.inner_text()
    item.get_by_role("button", name="Open").click()
    page.wait_for_url(lambda url: "/activities/notifications/" not in url)
    return text


def add_quote_line(page, product, *, quantity: str = "1", discount: str = "0") -> str:
    """In the quote editor: find the product with the catalogue's picker (type its code; the
    picker lists the matching products with this customer's price), choose it, give the
    quantity and discount, add the line (htmx swaps the editor's body) and wait for it.
    Returns the picker's option as the rep saw it."""
    form = page.locator("form.line-add")
    before = page.locator("#quote-body article.quote-line").count()
    form.locator("#product-search").fill(product.code)
    option = form.locator(f"#product-options option[value='{product.pk}']")
    option.wait_for(state="attached")
    shown = option.inner_text()
    form.locator("#product-options").select_option(str(product.pk))
    form.locator("input[name=quantity]").fill(quantity)
    form.locator("input[name=discount_percent]").fill(discount)
    form.locator("button[type=submit]").click()
    page.wait_for_function(
        "n => document.querySelectorAll('#quote-body article.quote-line').length > n",
        arg=before,
    )
    return shown


def line_figures(line) -> dict[str, str]:
    """A quote line's "List", "Net" and "Amount" figures as shown."""
    out = {}
    for figure in line.locator(".line-figures .figure").all():
        label = figure.locator("small").inner_text().strip()
        out[label] = figure.inner_text().replace(label, "", 1).strip()
    return out


def today_local() -> dt.date:
    import zoneinfo

    return dt.datetime.now(zoneinfo.ZoneInfo("Asia/Shanghai")).date()


class Clock:
    """The server's clock moved back to when the old quotes and the order were made, and
    back to now (only ``django.utils.timezone.now`` moves: what the services read)."""

    def __init__(self, monkeypatch):
        from django.utils import timezone

        self._real = timezone.now
        self._offset = dt.timedelta(0)
        monkeypatch.setattr(timezone, "now", lambda: self._real() + self._offset)

    def days_ago(self, days: int) -> None:
        self._offset = -dt.timedelta(days=days)

    def now(self) -> None:
        self._offset = dt.timedelta(0)


class ServerLock:
    """Keeps the test's own database work (a worker's job) apart from the live server's
    requests: on SQLite the live server shares the test's in-memory connection. Every
    request runs under the lock, and so does ``run``."""

    def __init__(self, monkeypatch):
        from django.core.handlers.wsgi import WSGIHandler

        self._lock = threading.RLock()
        serve = WSGIHandler.__call__

        def locked(handler, environ, start_response):
            with self._lock:
                return serve(handler, environ, start_response)

        monkeypatch.setattr(WSGIHandler, "__call__", locked)

    def run(self, fn, *args, **kwargs):
        with self._lock:
            return fn(*args, **kwargs)
