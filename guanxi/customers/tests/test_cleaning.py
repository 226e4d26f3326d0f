"""The one validation path of customer fields: types, messages, names, header matching."""

import datetime as dt
import decimal

import pytest

from guanxi.customers import cleaning
from guanxi.customers.cleaning import (
    clean_account_values,
    clean_contact_values,
    match_header,
    match_headers,
)
from guanxi.platform.models import CustomField, FieldType
from guanxi.platform.tests.factories import WorkspaceFactory


def contact(raw, **kw):
    return clean_contact_values(raw, workspace=None, definitions=[], **kw)


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("13812345678", "+8613812345678"),
        ("138 1234 5678", "+8613812345678"),
        ("+86 138-1234-5678", "+8613812345678"),
        (13812345678, "+8613812345678"),
        (13812345678.0, "+8613812345678"),
        ("021-6123 4567", "+862161234567"),
        ("+1 650 253 0000", "+16502530000"),
        ("", ""),
    ],
)
def test_phones_become_e164(raw, expected):
    clean, errors = contact({"name": "x", "mobile": raw})
    assert errors == {}
    assert clean["mobile"] == expected


@pytest.mark.parametrize(
    "raw",
    [
        "2024-01-02",
        "2024/1/2",
        "2024.1.2",
        "20240102",
        "2024年1月2日",
        "2024-01-02 00:00:00",
        dt.date(2024, 1, 2),
        dt.datetime(2024, 1, 2, 8, 0),
        45293,
        45293.0,
        "４５２９３",
    ],
)
def test_dates_in_usual_shapes(raw):
    clean, errors = contact({"name": "x", "birthday": raw})
    assert errors == {}
    assert clean["birthday"] == dt.date(2024, 1, 2)


@pytest.mark.parametrize("raw", ["2023-02-30", "2024/13/1", "20241340"])
def test_impossible_dates_are_refused(raw):
    _clean, errors = contact({"name": "x", "birthday": raw})
    assert errors["birthday"] == ["This date does not exist."]


def test_bad_values_are_reported_per_field():
    clean, errors = contact(
        {
            "name": "x",
            "birthday": "next tuesday",
            "mobile": "12",
            "email": "not-an-email",
            "gender": "maybe",
            "code": "C" * 65,
            "title": "a\x00b",
            "latitude": "91",
            "country": "Atlantis",
            "nickname": "x",
        }
    )
    assert set(errors) == {
        "birthday",
        "mobile",
        "email",
        "gender",
        "code",
        "title",
        "latitude",
        "country",
        "nickname",
    }
    assert errors["code"] == ["At most 64 characters."]
    assert "birthday" not in clean and "mobile" not in clean


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("男", "male"),
        ("女", "female"),
        ("M", "male"),
        ("f", "female"),
        ("Female", "female"),
        ("male", "male"),
        ("女士", "female"),
        ("其他", "other"),
        ("", ""),
    ],
)
def test_gender_by_value_label_or_synonym(raw, expected):
    clean, errors = contact({"name": "x", "gender": raw})
    assert errors == {}
    assert clean["gender"] == expected


def test_choice_labels_in_every_language():
    clean, errors = contact({"name": "x", "lifecycle_stage": "Lost", "education": "硕士"})
    assert errors == {}
    assert clean == {
        "name": "x",
        "lifecycle_stage": "lost",
        "education": "master",
    }


def test_email_lower_cased_and_country_names():
    clean, errors = contact({"name": "x", "email": " Ann@Example.COM ", "country": "中国"})
    assert errors == {}
    assert clean["email"] == "ann@example.com"
    assert clean["country"] == "CN"
    assert contact({"name": "x", "country": "us"})[0]["country"] == "US"


def test_address_maps_to_street_and_text_is_stripped():
    clean, errors = contact({"name": " 张三 ", "address": " 人民路1号 ", "postal_code": 200000.0})
    assert errors == {}
    assert clean["street"] == "人民路1号"
    assert clean["name"] == "张三"
    assert clean["postal_code"] == "200000"


def test_names_chinese_and_western():
    assert contact({"last_name": "张", "first_name": "三"})[0]["name"] == "张三"
    assert contact({"last_name": "Lee", "first_name": "Ann"})[0]["name"] == "Ann Lee"
    clean = contact({"name": "欧阳娜娜"})[0]
    assert (clean["last_name"], clean["first_name"]) == ("欧阳", "娜娜")
    clean = contact({"name": "司马光"})[0]
    assert (clean["last_name"], clean["first_name"]) == ("司马", "光")
    clean = contact({"name": "王小明"})[0]
    assert (clean["last_name"], clean["first_name"]) == ("王", "小明")
    assert "last_name" not in contact({"name": "Ann Lee"})[0]
    assert contact({"email": "a@b.cn"})[1]["name"]


def test_partial_only_returns_given_fields():
    clean, errors = contact({"title": "经理"}, partial=True)
    assert errors == {}
    assert clean == {"title": "经理"}
    _clean, errors = contact({"name": ""}, partial=True)
    assert "name" in errors


def test_account_values():
    clean, errors = clean_account_values(
        {
            "name": "上海華為技術有限公司",
            "credit_limit": "¥1,234.567",
            "employees": "250",
            "annual_revenue": 1e6,
            "longitude": "121.4737",
            "account_type": "供应商",
        },
        workspace=None,
        definitions=[],
    )
    assert errors == {}
    assert clean["credit_limit"] == decimal.Decimal("1234.57")
    assert clean["employees"] == 250
    assert clean["annual_revenue"] == decimal.Decimal("1000000.00")
    assert clean["longitude"] == decimal.Decimal("121.473700")
    assert clean["account_type"] == "supplier"
    _clean, errors = clean_account_values(
        {"employees": "12.5", "credit_limit": "1e20"}, workspace=None, definitions=[]
    )
    assert set(errors) == {"employees", "credit_limit", "name"}


@pytest.mark.parametrize(
    "header,field",
    [
        ("姓名", "name"),
        ("名字", "name"),
        ("名", "first_name"),
        ("First Name", "first_name"),
        ("姓", "last_name"),
        ("Surname", "last_name"),
        ("手机号", "mobile"),
        ("Mobile", "mobile"),
        ("座机", "phone"),
        ("TEL", "phone"),
        ("電子郵件", "email"),
        ("E-mail", "email"),
        ("单位", "company"),
        ("职务", "title"),
        ("地址", "street"),
        ("address", "street"),
        ("省份", "province"),
        ("Zip", "postal_code"),
        ("国家", "country"),
        ("出生日期", "birthday"),
        ("Date of birth", "birthday"),
        ("DOB", "birthday"),
        ("sex", "gender"),
        ("身份证号", "id_number"),
        ("客户代码", "code"),
        ("编号", "code"),
        ("postal_code", "postal_code"),
        ("  id_number ", "id_number"),
        ("favourite colour", ""),
    ],
)
def test_header_aliases(header, field):
    assert match_header(header, cleaning.CONTACT_KEY) == field


def test_account_headers():
    assert match_header("公司名称", cleaning.ACCOUNT_KEY) == "name"
    assert match_header("税号", cleaning.ACCOUNT_KEY) == "tax_number"


@pytest.mark.django_db
def test_custom_fields_by_key_or_label_and_cleaned():
    ws = WorkspaceFactory()
    level = CustomField.objects.create(
        workspace=ws,
        object_key=cleaning.CONTACT_KEY,
        key="vip_level",
        label="VIP 等级",
        field_type=FieldType.NUMBER,
    )
    defs = [level]
    headers = match_headers(["vip_level", "Name"], cleaning.CONTACT_KEY, defs)
    assert headers == {"vip_level": "custom.vip_level", "Name": "name"}
    assert match_header("VIP等级", cleaning.CONTACT_KEY, defs) == "custom.vip_level"
    clean, errors = clean_contact_values(
        {"name": "x", "custom.vip_level": "3"}, workspace=ws, definitions=defs
    )
    assert errors == {}
    assert clean["custom"] == {"vip_level": 3}
    _clean, errors = clean_contact_values(
        {"name": "x", "custom": {"vip_level": "three"}}, workspace=ws
    )
    assert errors == {"custom.vip_level": ["Enter a number."]}
    _clean, errors = clean_contact_values({"name": "x", "custom.nope": "1"}, workspace=ws)
    assert "custom.nope" in errors


def test_clean_value_single_field():
    assert cleaning.clean_value(cleaning.CONTACT_KEY, "mobile", "13812345678") == "+8613812345678"
    with pytest.raises(ValueError):
        cleaning.clean_value(cleaning.CONTACT_KEY, "birthday", "2023-02-30")


@pytest.mark.parametrize(
    "e164,national",
    [
        ("+8613812345678", "13812345678"),
        ("+8619912345678", "19912345678"),
        ("+861012345678", "01012345678"),
        ("+862161234567", "02161234567"),
    ],
)
def test_national_digits_fast_path_agrees_with_the_parser(e164, national):
    from guanxi.customers import normalize

    assert normalize.phone_national_digits(e164) == national
