import pytest

from guanxi.customers import normalize, search_keys
from guanxi.customers.models import Contact


@pytest.mark.parametrize(
    "raw",
    ["13812345678", "138-1234-5678", "+86 138 1234 5678", "0086 13812345678", "（+86）13812345678"],
)
def test_mobile_numbers_in_any_format_become_e164(raw):
    assert normalize.phone(raw) == "+8613812345678"


def test_landline_keeps_its_area_code():
    assert normalize.phone("021-6123 4567") == "+862161234567"
    assert normalize.phone_national_digits("+862161234567") == "02161234567"


@pytest.mark.parametrize("raw", ["12", "12345", "139000000", "+86 12"])
def test_a_number_that_no_phone_can_have_is_refused(raw):
    with pytest.raises(normalize.InvalidPhone):
        normalize.phone(raw)


def test_pinyin_and_initials_of_a_traditional_name():
    assert normalize.pinyin("張三") == ("zhangsan", "zs")
    assert normalize.pinyin("John") == ("", "")


@pytest.mark.parametrize(
    ("name", "core"),
    [
        ("上海華為技術有限公司", "上海华为技术"),
        ("北京某某股份有限公司", "北京某某"),
        ("Acme Co., Ltd.", "acme"),
        ("ACME Inc.", "acme"),
    ],
)
def test_company_core_drops_legal_suffixes(name, core):
    assert normalize.company_core(name) == core


def test_contact_search_keys_hold_name_phone_pinyin_and_grams():
    contact = Contact(name="張三", company="華為", mobile="+8613812345678", email="Z@X.CN")
    keys = search_keys.contact_keys(contact)
    assert keys["name_pinyin"] == "zhangsan"
    assert keys["name_initials"] == "zs"
    for part in ("张三", "华为", "13812345678", "z@x.cn", "zhangsan"):
        assert part in keys["search_text"]
    assert keys["search_grams"].split() == ["张三", "华为"]


@pytest.mark.parametrize(
    ("e164", "dialled"),
    [
        ("+8613812345678", "13812345678"),
        ("+862161234567", "02161234567"),
        ("+861012345678", "01012345678"),  # Beijing: starts with 1, but no mobile
        ("+864001234567", "4001234567"),  # service numbers have no trunk 0
    ],
)
def test_national_digits_are_what_people_dial(e164, dialled):
    assert normalize.phone_national_digits(e164) == dialled
