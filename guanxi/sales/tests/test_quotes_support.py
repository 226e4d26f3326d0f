"""Fixtures and data of the quotes' tests: a team with a manager and two reps, a customer
both reps may work (shared with the second), a small catalogue priced in a CNY standard
book, and a USD rate. The catalogue rows are written directly (the catalogue services are
another part's, tested there)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.models import RecordShare
from guanxi.platform.tests.factories import TeamFactory, UserFactory
from guanxi.platform.tests.test_api_support import ApiClient, make_token
from guanxi.sales.models import (
    ExchangeRate,
    PriceBook,
    PriceBookEntry,
    PriceBookKind,
    Product,
    TaxRate,
)
from guanxi.sales.services.setup import ensure_sales_defaults


def api_for(user, scopes=None) -> ApiClient:
    if scopes is None:
        scopes = ["read", "write", "admin"] if user.role.is_admin else ["read", "write"]
    return ApiClient(make_token(user, scopes=scopes))


def make_catalog(workspace, prices=(("P-100", "离心泵", Decimal("100")),)) -> dict:
    """Products with prices in a CNY standard book (13% VAT), and a USD rate."""
    ensure_sales_defaults(workspace)
    vat = TaxRate.objects.in_workspace(workspace).get(rate=Decimal("0.13"))
    book = PriceBook.objects.create(
        workspace=workspace, name="标准价", kind=PriceBookKind.STANDARD, currency="CNY"
    )
    products = {}
    for code, name, price in prices:
        product = Product.objects.create(
            workspace=workspace,
            code=code,
            name=name,
            name_en=f"Product {code}",
            unit="台",
            tax_rate=vat,
        )
        PriceBookEntry.objects.create(
            workspace=workspace, price_book=book, product=product, unit_price=price
        )
        products[code] = product
    ExchangeRate.objects.create(
        workspace=workspace,
        currency="USD",
        valid_from=timezone.localdate() - dt.timedelta(days=30),
        rate=Decimal("7.10"),
    )
    usd = PriceBook.objects.create(
        workspace=workspace, name="USD", kind=PriceBookKind.STANDARD, currency="USD"
    )
    for product in products.values():
        PriceBookEntry.objects.create(
            workspace=workspace, price_book=usd, product=product, unit_price=Decimal("15")
        )
    return {"book": book, "usd_book": usd, "products": products, "vat": vat}


@pytest.fixture
def team(workspace):
    return TeamFactory(workspace=workspace)


@pytest.fixture
def manager(workspace, team):
    user = UserFactory(workspace=workspace, role_code="sales_manager", team=team)
    team.manager = user
    team.save(update_fields=["manager"])
    return user


@pytest.fixture
def rep(workspace, team, manager):
    return UserFactory(workspace=workspace, team=team, time_zone="Asia/Shanghai")


@pytest.fixture
def rep2(workspace, team, manager):
    return UserFactory(workspace=workspace, team=team, time_zone="Asia/Shanghai")


@pytest.fixture
def outsider(workspace):
    """A rep of another team: sees none of the first team's quotes."""
    return UserFactory(workspace=workspace, team=TeamFactory(workspace=workspace))


@pytest.fixture
def reader(workspace):
    """May read quotes (all) but change nothing."""
    return UserFactory(workspace=workspace, role_code="read_only")


@pytest.fixture
def account(workspace, rep, rep2):
    account = AccountFactory(workspace=workspace, owner=rep, credit_limit=None)
    RecordShare.objects.create(
        workspace=workspace, object_key="customers.account", object_id=account.pk, user=rep2
    )
    return account


@pytest.fixture
def contact(workspace, account, rep):
    return ContactFactory(
        workspace=workspace, owner=rep, account=account, email="buyer@customer.example.com"
    )


@pytest.fixture
def catalog(workspace):
    return make_catalog(
        workspace,
        prices=(
            ("P-100", "离心泵", Decimal("100")),
            ("P-250", "控制柜", Decimal("250.50")),
            ("P-CHEAP", "密封圈", Decimal("0.125")),
        ),
    )


@pytest.fixture
def pump(catalog):
    return catalog["products"]["P-100"]


@pytest.fixture
def cabinet(catalog):
    return catalog["products"]["P-250"]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
