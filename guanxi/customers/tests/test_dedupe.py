"""The duplicate matcher, blocking, the full scan and the CLI export."""

import csv
import datetime as dt

import pytest
from django.core.management import call_command

from guanxi.customers.dedupe import blocking, matching
from guanxi.customers.dedupe.scan import scan_workspace
from guanxi.customers.models import CandidateStatus, DuplicateCandidate

from .factories import AccountFactory, ContactFactory

C = matching.CONTACT
A = matching.ACCOUNT


def score(a, b, key=C):
    return matching.score_rows(key, a, b)


BASE = {
    "name": "Robert Miller",
    "first_name": "Robert",
    "last_name": "Miller",
    "street": "12 King Street",
    "city": "Sydney",
    "postal_code": "2000",
    "birthday": dt.date(1980, 3, 7),
    "id_number": "5123456",
}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"first_name": "Bob", "name": "Bob Miller"}, "nickname"),
        ({"first_name": "Miller", "last_name": "Robert", "name": "Miller Robert"}, "name_swapped"),
        ({"last_name": "Millre", "name": "Robert Millre"}, "name_similar"),
        ({"birthday": dt.date(1980, 7, 3)}, "birthday_similar"),
        ({"birthday": dt.date(1981, 3, 7)}, "birthday_similar"),
        ({"id_number": "5123465"}, "id_number_similar"),
        ({"street": "12 king st."}, "address_similar"),
    ],
)
def test_person_variants_match(change, reason):
    s, reasons = score(BASE, {**BASE, **change})
    assert s >= matching.DEFAULT_THRESHOLD
    assert reason in reasons


def test_chinese_names_simplified_traditional_and_pinyin():
    a = {"name": "张三", "mobile": "+8613812345678", "city": "上海"}
    b = {"name": "張三", "mobile": "138 1234 5678", "city": "上海"}
    c = {"name": "San Zhang", "mobile": "+86-138-1234-5678"}
    d = {"name": "Zhang San", "email": "zs@example.com"}
    s, reasons = score(a, b)
    assert s > 0.9 and "same_name" in reasons and "same_mobile" in reasons
    s, reasons = score(a, c)
    assert s > 0.9 and "same_mobile" in reasons
    assert score(c, d)[0] >= matching.DEFAULT_THRESHOLD  # swapped pinyin, nothing against
    assert (
        "same_name" in score(a, {"name": "Zhang San"})[1]
        or score(a, {"name": "Zhang San"})[0] > 0.5
    )


@pytest.mark.parametrize(
    "other",
    [
        # Family member at the same address.
        {
            **BASE,
            "first_name": "Sarah",
            "name": "Sarah Miller",
            "birthday": dt.date(1983, 9, 21),
            "id_number": "7788990",
        },
        # Same common name, everything else different.
        {
            "name": "Robert Miller",
            "first_name": "Robert",
            "last_name": "Miller",
            "street": "3 Elm Road",
            "city": "Perth",
            "postal_code": "6000",
            "birthday": dt.date(1955, 1, 30),
            "id_number": "9988776",
        },
        {"name": "Alice Wong", "street": "12 King Street", "city": "Sydney", "postal_code": "2000"},
    ],
)
def test_different_people_do_not_match(other):
    assert score(BASE, other)[0] < matching.DEFAULT_THRESHOLD


def test_chinese_different_people_same_common_name():
    a = {
        "name": "王伟",
        "mobile": "+8613800000001",
        "birthday": dt.date(1990, 1, 1),
        "city": "北京",
    }
    b = {
        "name": "王伟",
        "mobile": "+8613900000002",
        "birthday": dt.date(1975, 6, 9),
        "city": "广州",
    }
    assert score(a, b)[0] < matching.DEFAULT_THRESHOLD


def test_companies_without_legal_suffix():
    a = {"name": "上海華為技術有限公司", "phone": "021 6123 4567"}
    b = {"name": "上海华为技术股份有限公司"}
    s, reasons = score(a, b, A)
    assert s >= matching.DEFAULT_THRESHOLD and "same_company" in reasons
    s, _ = score({"name": "Acme Co., Ltd."}, {"name": "ACME Inc."}, A)
    assert s >= matching.DEFAULT_THRESHOLD
    assert score({"name": "Acme Co., Ltd."}, {"name": "Globex Corp."}, A)[0] < 0.5
    assert (
        score(
            {"name": "甲公司", "tax_number": "91310000X"},
            {"name": "甲公司", "tax_number": "91440000Y"},
            A,
        )[0]
        < 0.5
    )


def test_blocking_finds_planted_duplicates_without_all_pairs():
    rows = []
    for i in range(400):
        rows.append(
            {
                "name": f"Person{i} Family{i % 37}",
                "birthday": dt.date(1950 + i % 50, 1 + i % 12, 1 + i % 28),
                "postal_code": str(1000 + i),
                "mobile": f"+86138{i:08d}",
            }
        )
    planted = {(3, 400), (77, 401), (250, 402)}
    rows.append({**rows[3], "mobile": ""})
    rows.append({**rows[77], "name": f"Family{77 % 37} Person77"})
    rows.append({**rows[250], "birthday": None, "name": f"Persn250 Family{250 % 37}"})
    feats = [matching.contact_features(r) for r in rows]
    pairs = {tuple(p) for p in blocking.candidate_pairs(C, feats).tolist()}
    assert planted <= pairs
    assert len(pairs) < len(rows) * (len(rows) - 1) // 20
    found = {
        (i, j)
        for i, j, _s, _r in blocking.scored_pairs(C, feats, blocking.candidate_pairs(C, feats), 0.5)
    }
    assert planted <= found


def _people(workspace):
    a = ContactFactory(workspace=workspace, name="张三", mobile="+8613812345678", code="C1")
    b = ContactFactory(workspace=workspace, name="張三", mobile="+8613812345678", code="C2")
    c = ContactFactory(workspace=workspace, name="Li Si", email="li@example.com", code="C3")
    d = ContactFactory(workspace=workspace, name="Lee Si", email="li@example.com", code="C4")
    ContactFactory(workspace=workspace, name="王五", code="C5")
    return a, b, c, d


@pytest.mark.django_db
def test_scan_writes_candidates_and_keeps_dismissed(workspace, other_workspace):
    a, b, c, d = _people(workspace)
    ContactFactory(workspace=other_workspace, name="张三", mobile="+8613812345678", code="C1")
    stats = scan_workspace(workspace, C)
    assert stats["matches"] == 2
    rows = DuplicateCandidate.objects.in_workspace(workspace).order_by("left_id")
    assert [(r.left_id, r.right_id) for r in rows] == [(a.pk, b.pk), (c.pk, d.pk)]
    assert all(r.left_id < r.right_id and r.reasons for r in rows)
    assert not DuplicateCandidate.objects.in_workspace(other_workspace).exists()
    first = rows[0]
    first.status = CandidateStatus.DISMISSED
    first.save()
    scan_workspace(workspace, C)
    rows = DuplicateCandidate.objects.in_workspace(workspace).order_by("left_id")
    assert [r.status for r in rows] == [CandidateStatus.DISMISSED, CandidateStatus.OPEN]
    assert rows.count() == 2


@pytest.mark.django_db
def test_scan_accounts(workspace):
    x = AccountFactory(workspace=workspace, name="上海華為技術有限公司")
    y = AccountFactory(workspace=workspace, name="上海华为技术股份有限公司")
    AccountFactory(workspace=workspace, name="北京小米科技有限责任公司")
    scan_workspace(workspace, A)
    rows = DuplicateCandidate.objects.in_workspace(workspace).filter(object_key=A)
    assert [(r.left_id, r.right_id) for r in rows] == [(x.pk, y.pk)]


@pytest.mark.django_db
def test_cli_export_format(workspace, tmp_path):
    _people(workspace)
    out = tmp_path / "pairs.csv"
    call_command("dedupe", "--workspace", workspace.slug, "--export", str(out), verbosity=0)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "code_a,code_b,score"
    body = list(csv.reader(lines[1:]))
    assert {tuple(r[:2]) for r in body} == {("C1", "C2"), ("C3", "C4")}
    for row in body:
        assert len(row[2].split(".")[1]) == 4 and 0 <= float(row[2]) <= 1


def test_as_you_type_finds_the_same_id_number(workspace, admin_user):
    from guanxi.customers.dedupe.check import likely_matches
    from guanxi.customers.tests.factories import ContactFactory

    existing = ContactFactory(
        workspace=workspace, name="王芳", id_number="110101199003071234", birthday=None
    )
    found = likely_matches(
        workspace=workspace,
        actor=admin_user,
        object_key="customers.contact",
        values={"name": "王小芳", "id_number": "110101 19900307 1234"},
    )
    assert [record.pk for record, _score, _reasons in found] == [existing.pk]
