"""Demo data of the catalogue (``seed(workspace=, users=, rng=)``), called by ``demo.py``
before the other sales parts: about 25 products of an industrial-equipment seller (pumps,
valves, motors, controls, instruments and services; 13% VAT on goods, 6% on services), a
CNY standard book, USD with a rate and a USD book, a class-A book 5% below the standard,
and one customer's own book. Everything goes through the services (audit rows included)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from guanxi.customers.models import Account
from guanxi.platform import permissions
from guanxi.platform.models import Action

from .models import Currency, ExchangeRate, PriceBook, Product, TaxRate
from .objects import CONFIGURATION, PRICE_BOOK, PRODUCT
from .services import catalog as services
from .services.money import base_currency, round_money

# code, Chinese name, English name, category, unit, service?, CNY list price
PRODUCTS = (
    (
        "PUMP-IS50",
        "单级离心泵 IS50-32-125",
        "Single-stage centrifugal pump IS50-32-125",
        "泵",
        "台",
        False,
        "6800",
    ),
    (
        "PUMP-IS80",
        "单级离心泵 IS80-65-160",
        "Single-stage centrifugal pump IS80-65-160",
        "泵",
        "台",
        False,
        "11800",
    ),
    (
        "PUMP-CDL",
        "立式多级泵 CDL32-6",
        "Vertical multistage pump CDL32-6",
        "泵",
        "台",
        False,
        "15600",
    ),
    ("PUMP-SUB", "潜水排污泵 WQ100", "Submersible sewage pump WQ100", "泵", "台", False, "9200"),
    ("PUMP-DOSE", "隔膜计量泵 GM120", "Diaphragm metering pump GM120", "泵", "台", False, "7400"),
    (
        "VALVE-BF100",
        "电动蝶阀 DN100",
        "Motorised butterfly valve DN100",
        "阀门",
        "件",
        False,
        "3650",
    ),
    ("VALVE-GL50", "截止阀 DN50 不锈钢", "Stainless globe valve DN50", "阀门", "件", False, "1280"),
    ("VALVE-CV80", "电动调节阀 DN80", "Motorised control valve DN80", "阀门", "件", False, "4200"),
    ("VALVE-CHK", "止回阀 DN150", "Check valve DN150", "阀门", "件", False, "2350"),
    ("VALVE-SAFE", "安全阀 A48Y", "Safety relief valve A48Y", "阀门", "件", False, "1890"),
    (
        "MOTOR-Y15",
        "三相异步电机 15kW",
        "Three-phase induction motor 15 kW",
        "电机",
        "台",
        False,
        "5600",
    ),
    (
        "MOTOR-Y37",
        "三相异步电机 37kW",
        "Three-phase induction motor 37 kW",
        "电机",
        "台",
        False,
        "11900",
    ),
    (
        "MOTOR-EX",
        "防爆电机 YB3 22kW",
        "Explosion-proof motor YB3 22 kW",
        "电机",
        "台",
        False,
        "14800",
    ),
    ("VFD-22", "变频器 22kW", "Variable-frequency drive 22 kW", "控制系统", "台", False, "6900"),
    ("PANEL-VFD", "变频控制柜", "VFD control panel", "控制系统", "套", False, "32800"),
    (
        "PLC-S7",
        "PLC 控制系统 S7-1200",
        "PLC control system S7-1200",
        "控制系统",
        "套",
        False,
        "26500",
    ),
    ("HMI-10", "10 寸触摸屏", "10-inch HMI touch panel", "控制系统", "台", False, "4800"),
    ("FLOW-EM", "电磁流量计 DN100", "Electromagnetic flowmeter DN100", "仪表", "台", False, "8600"),
    ("PRESS-TX", "压力变送器", "Pressure transmitter", "仪表", "件", False, "1450"),
    ("LEVEL-RD", "雷达物位计", "Radar level meter", "仪表", "台", False, "9800"),
    ("SEAL-KIT", "机械密封备件包", "Mechanical seal spare kit", "备件", "套", False, "880"),
    (
        "SVC-INST",
        "现场安装调试",
        "On-site installation and commissioning",
        "服务",
        "次",
        True,
        "6000",
    ),
    ("SVC-YEAR", "年度维保服务", "Annual maintenance contract", "服务", "年", True, "12000"),
    ("SVC-TRAIN", "操作培训（一天）", "Operator training (one day)", "服务", "次", True, "3500"),
    ("SVC-REMOTE", "远程监控服务", "Remote monitoring service", "服务", "年", True, "8800"),
)
USD_RATE = Decimal("7.10")
CLASS_A_DISCOUNT = Decimal("0.95")
CUSTOMER_DISCOUNT = Decimal("0.92")


def _actor(users):
    """Someone who may set up the catalogue: an administrator, else a sales manager."""
    for user in sorted(users, key=lambda u: (not u.role.is_admin, u.pk)):
        if user.is_active and all(
            permissions.can(user, key, Action.CREATE)
            for key in (PRODUCT, PRICE_BOOK, CONFIGURATION)
        ):
            return user
    return None


def seed(*, workspace, users, rng) -> None:
    if Product.objects.in_workspace(workspace).exists():
        return  # seeded already (or a real catalogue)
    actor = _actor(users)
    if actor is None:
        return
    scope = {"actor": actor, "workspace": workspace}
    base = base_currency(workspace)
    rates = dict(TaxRate.objects.in_workspace(workspace).values_list("rate", "pk"))
    goods, services_rate = rates.get(Decimal("0.1300")), rates.get(Decimal("0.0600"))
    products = []
    for code, name, name_en, category, unit, is_service, price in PRODUCTS:
        product = services.product_create(
            **scope,
            code=code,
            name=name,
            name_en=name_en,
            category=category,
            unit=unit,
            tax_rate_id=services_rate if is_service else goods,
        )
        products.append((product, Decimal(price)))

    standard = services.price_book_create(
        **scope, name="标准价目表", kind="standard", currency=base
    )
    for product, price in products:
        services.price_entry_set(
            **scope, price_book_id=standard.pk, product_id=product.pk, unit_price=price
        )

    if base != "USD":
        if not Currency.objects.in_workspace(workspace).filter(code="USD").exists():
            services.currency_create(**scope, code="USD")
        if not ExchangeRate.objects.in_workspace(workspace).filter(currency="USD").exists():
            services.exchange_rate_create(
                **scope,
                currency="USD",
                valid_from=timezone.localdate() - dt.timedelta(days=365),
                rate=USD_RATE,
            )
        if not PriceBook.objects.in_workspace(workspace).filter(currency="USD").exists():
            usd = services.price_book_create(
                **scope, name="Export price list (USD)", kind="standard", currency="USD"
            )
            for product, price in products:
                services.price_entry_set(
                    **scope,
                    price_book_id=usd.pk,
                    product_id=product.pk,
                    unit_price=round_money(price / USD_RATE),
                )

    class_a = services.price_book_create(
        **scope,
        name="A类客户价（标准价 95 折）",
        kind="class",
        customer_class="A",
        currency=base,
        notes="A 类客户在标准价基础上优惠 5%。",
    )
    for product, price in products:
        services.price_entry_set(
            **scope,
            price_book_id=class_a.pk,
            product_id=product.pk,
            unit_price=round_money(price * CLASS_A_DISCOUNT),
        )

    accounts = Account.objects.in_workspace(workspace).order_by("id")
    account = accounts.filter(value_class="A").first() or accounts.first()
    if account is not None:
        own = services.price_book_create(
            **scope,
            name=f"{account.name} 年度协议价",
            kind="customer",
            account_id=account.pk,
            currency=base,
            valid_from=timezone.localdate().replace(month=1, day=1),
            notes="年度框架协议：主要泵类及维保服务享受 92 折。",
        )
        chosen = [p for p in products if p[0].category in ("泵", "服务")]
        for product, price in rng.sample(chosen, k=min(6, len(chosen))):
            services.price_entry_set(
                **scope,
                price_book_id=own.pk,
                product_id=product.pk,
                unit_price=round_money(price * CUSTOMER_DISCOUNT),
            )
