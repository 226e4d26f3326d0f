"""Fixtures of the catalogue's tests: a catalogue manager (sales manager: may change
products and books), a rep (may read them), a user whose role grants nothing of the
catalogue, and a small priced catalogue."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from guanxi.customers.tests.factories import AccountFactory
from guanxi.platform.models import Role
from guanxi.platform.tests.factories import UserFactory
from guanxi.platform.tests.test_api_support import ApiClient, make_token
from guanxi.sales.models import TaxRate
from guanxi.sales.services import catalog as services
from guanxi.sales.services.setup import ensure_sales_defaults


def api_for(user, scopes=None) -> ApiClient:
    if scopes is None:
        scopes = ["read", "write", "admin"] if user.role.is_admin else ["read", "write"]
    return ApiClient(make_token(user, scopes=scopes))


@pytest.fixture
def manager(workspace):
    ensure_sales_defaults(workspace)
    return UserFactory(workspace=workspace, role_code="sales_manager")


@pytest.fixture
def rep(workspace):
    return UserFactory(workspace=workspace, role_code="sales_rep")


@pytest.fixture
def nobody(workspace):
    """Signed in, but the role grants nothing of the sales."""
    role = Role.objects.create(workspace=workspace, name="Warehouse", code="warehouse", rights={})
    return UserFactory(workspace=workspace, role=role)


@pytest.fixture
def vat13(workspace):
    ensure_sales_defaults(workspace)
    return TaxRate.objects.in_workspace(workspace).get(rate=Decimal("0.13"))


@pytest.fixture
def vat6(workspace):
    ensure_sales_defaults(workspace)
    return TaxRate.objects.in_workspace(workspace).get(rate=Decimal("0.06"))


def make_catalogue(workspace, actor, *, products=3) -> dict:
    """``products`` products priced in a CNY standard book, a class-A book (5% off the
    first product) and a book of one account (the second product)."""
    ensure_sales_defaults(workspace)
    standard = services.price_book_create(
        actor=actor, workspace=workspace, name="标准价目表", kind="standard", currency="CNY"
    )
    rows = []
    for i in range(products):
        product = services.product_create(
            actor=actor,
            workspace=workspace,
            code=f"PUMP-{i:03d}",
            name=f"离心泵{i}号",
            name_en=f"Centrifugal pump {i}",
            category="泵" if i % 2 == 0 else "阀门",
            unit="台",
        )
        services.price_entry_set(
            actor=actor,
            workspace=workspace,
            price_book_id=standard.pk,
            product_id=product.pk,
            unit_price=Decimal("1000") + i,
        )
        rows.append(product)
    class_a = services.price_book_create(
        actor=actor,
        workspace=workspace,
        name="A类客户",
        kind="class",
        customer_class="A",
        currency="CNY",
    )
    services.price_entry_set(
        actor=actor,
        workspace=workspace,
        price_book_id=class_a.pk,
        product_id=rows[0].pk,
        unit_price=Decimal("950"),
    )
    account = AccountFactory(workspace=workspace, value_class="A", owner=actor)
    own = services.price_book_create(
        actor=actor,
        workspace=workspace,
        name="大客户专属",
        kind="customer",
        account_id=account.pk,
        currency="CNY",
        valid_from=dt.date(2020, 1, 1),
    )
    if len(rows) > 1:
        services.price_entry_set(
            actor=actor,
            workspace=workspace,
            price_book_id=own.pk,
            product_id=rows[1].pk,
            unit_price=Decimal("900"),
        )
    return {
        "standard": standard,
        "class_a": class_a,
        "own": own,
        "account": account,
        "products": rows,
    }
