"""Customer search: every kind of term, ranking, visibility, workspaces, index upkeep."""

import pytest

from guanxi.customers import search, search_keys, selectors
from guanxi.customers.models import Contact
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.tests.factories import UserFactory


@pytest.fixture
def rep(workspace):
    return UserFactory(workspace=workspace, role_code="sales_rep")


@pytest.fixture
def other_rep(workspace):
    return UserFactory(workspace=workspace, role_code="sales_rep")


@pytest.fixture
def people(workspace, rep, other_rep):
    return {
        "zhangsan": ContactFactory(
            workspace=workspace,
            name="张三",
            first_name="三",
            last_name="张",
            company="上海華為技術有限公司",
            mobile="+8613812345678",
            email="zhangsan@example.com",
            owner=rep,
        ),
        "sanfeng": ContactFactory(workspace=workspace, name="张三丰", owner=rep),
        "xiao": ContactFactory(workspace=workspace, name="小张三", owner=rep),
        "lisi": ContactFactory(
            workspace=workspace,
            name="李四",
            company="阿里巴巴网络技术有限公司",
            mobile="+8613900001111",
            email="li.si@alibaba-inc.com",
            owner=other_rep,
        ),
        "english": ContactFactory(
            workspace=workspace,
            name="Courtney Robinson",
            company="Harrison Group",
            email="c.robinson@harrison.example",
            owner=other_rep,
        ),
    }


def names(workspace, actor, term, limit=20):
    found = search.search_contacts(workspace=workspace, actor=actor, term=term, limit=limit)
    return [c.name for c in found]


@pytest.mark.parametrize(
    "term, expected",
    [
        ("张三", "张三"),  # 2-character Chinese name
        ("張三", "张三"),  # traditional input
        ("华为", "张三"),  # 2-character company part, stored traditional
        ("華為技術", "张三"),  # company part, traditional input, 4 characters
        ("zhangsan", "张三"),  # full pinyin
        ("zs", "张三"),  # initials
        ("ZhangSan", "张三"),  # case folded
        ("5678", "张三"),  # 4 phone digits
        ("138 1234 5678", "张三"),  # a phone as people write it
        ("+86 138-1234-5678", "张三"),
        ("zhangsan@", "张三"),  # e-mail part
        ("example.com", "张三"),
        ("阿里巴巴", "李四"),  # company part
        ("0000111", "李四"),
        ("robin", "Courtney Robinson"),  # part of an English name
        ("courtney", "Courtney Robinson"),
        ("harrison", "Courtney Robinson"),  # company part
        ("Ｃｏｕｒｔｎｅｙ", "Courtney Robinson"),  # full-width input
    ],
)
def test_each_kind_of_term_finds_the_record(workspace, admin_user, people, term, expected):
    assert expected in names(workspace, admin_user, term)


def test_exact_before_prefix_before_substring(workspace, admin_user, people):
    assert names(workspace, admin_user, "张三") == ["张三", "张三丰", "小张三"]


def test_pinyin_ranks_the_exact_name_first(workspace, admin_user, people):
    assert names(workspace, admin_user, "zhangsan")[0] == "张三"
    assert names(workspace, admin_user, "zs")[0] == "张三"


def test_limit(workspace, admin_user, people):
    assert names(workspace, admin_user, "张三", limit=1) == ["张三"]
    assert names(workspace, admin_user, "张三", limit=0) == []


@pytest.mark.parametrize("term", ["", " ", "张", "z", "1", "123"])
def test_too_short_terms_find_nothing(workspace, admin_user, people, term):
    assert names(workspace, admin_user, term) == []


def test_odd_input_does_not_break(workspace, admin_user, people):
    for term in ['"', "' OR 1=1 --", "a*b", "NEAR(", "%_", "张三 OR", "\\", "()"]:
        names(workspace, admin_user, term)  # no exception


def test_several_words_must_all_match(workspace, admin_user, people):
    assert names(workspace, admin_user, "张三 华为") == ["张三"]
    assert names(workspace, admin_user, "courtney harrison") == ["Courtney Robinson"]
    assert names(workspace, admin_user, "张三 阿里巴巴") == []


def test_rep_does_not_find_another_reps_contacts(workspace, rep, other_rep, people):
    assert names(workspace, rep, "张三") == ["张三", "张三丰", "小张三"]
    assert names(workspace, other_rep, "张三") == []
    assert names(workspace, other_rep, "zs") == []
    assert names(workspace, other_rep, "5678") == []
    assert names(workspace, rep, "李四") == []


def test_other_workspace_never_found(people, other_workspace, other_admin):
    ContactFactory(workspace=other_workspace, name="王五")
    for term in ("张三", "zhangsan", "zs", "5678", "zhangsan@", "华为", "robin"):
        assert names(other_workspace, other_admin, term) == []
    assert names(other_workspace, other_admin, "王五") == ["王五"]


def test_filter_queryset_for_lists(workspace, admin_user, rep, other_rep, people):
    qs = selectors.contact_list(workspace=workspace, actor=admin_user)
    assert set(search.filter_queryset(qs, "张三").values_list("name", flat=True)) == {
        "张三",
        "张三丰",
        "小张三",
    }
    assert set(search.filter_queryset(qs, "zs").values_list("name", flat=True)) == {
        "张三",
        "张三丰",
    }
    assert search.filter_queryset(qs, "").count() == 5
    assert search.filter_queryset(qs, "张").count() == 0
    # The list keeps its own order and pages.
    ordered = search.filter_queryset(qs, "张三").order_by("-name", "-id")
    assert [c.name for c in ordered] == sorted(["张三", "张三丰", "小张三"], reverse=True)
    rep_qs = selectors.contact_list(workspace=workspace, actor=other_rep)
    assert search.filter_queryset(rep_qs, "张三").count() == 0


def test_accounts(workspace, admin_user, other_workspace, other_admin):
    AccountFactory(workspace=workspace, name="北京字節跳動科技有限公司", phone="+861058001234")
    AccountFactory(workspace=workspace, name="Acme Trading Co., Ltd.")
    found = lambda ws, actor, term: [  # noqa: E731
        a.name for a in search.search_accounts(workspace=ws, actor=actor, term=term)
    ]
    assert found(workspace, admin_user, "字节") == ["北京字節跳動科技有限公司"]
    assert found(workspace, admin_user, "bjzj") == ["北京字節跳動科技有限公司"]
    assert found(workspace, admin_user, "58001234") == ["北京字節跳動科技有限公司"]
    assert found(workspace, admin_user, "acme") == ["Acme Trading Co., Ltd."]
    assert found(other_workspace, other_admin, "字节") == []
    qs = selectors.account_list(workspace=workspace, actor=admin_user)
    assert search.filter_queryset(qs, "trading").count() == 1


def test_index_follows_changes_and_deletes(workspace, admin_user, people):
    contact = people["lisi"]
    contact.name = "李思思"
    search_keys.apply_contact_keys(contact)
    contact.save()
    assert names(workspace, admin_user, "李思") == ["李思思"]
    assert names(workspace, admin_user, "李四") == []
    assert names(workspace, admin_user, "lss") == ["李思思"]
    Contact.objects.in_workspace(workspace).filter(pk=contact.pk).delete()
    assert names(workspace, admin_user, "李思") == []
    assert names(workspace, admin_user, "阿里巴巴") == []


def test_search_runs_a_fixed_number_of_queries(
    workspace, admin_user, people, django_assert_max_num_queries
):
    for term in ("张三", "zs", "5678", "zhangsan@"):
        with django_assert_max_num_queries(8):
            names(workspace, admin_user, term)


def test_rep_finds_own_contact_behind_many_others(workspace, rep, other_rep, monkeypatch):
    # The probes read matches in rounds (SQLite) or bounded by a limit: a rep who sees one
    # of many matching contacts still finds it.
    monkeypatch.setattr(search, "FTS_ROUNDS", (1, 2))
    monkeypatch.setattr(search, "PROBE_LIMIT", 3)
    for n in range(12):
        ContactFactory(
            workspace=workspace, name=f"王{n}", company="深圳腾讯计算机系统", owner=other_rep
        )
    mine = ContactFactory(
        workspace=workspace, name="王大锤", company="深圳腾讯计算机系统", owner=rep
    )
    assert search.search_contacts(workspace=workspace, actor=rep, term="腾讯计算机") == [mine]
    assert search.search_contacts(workspace=workspace, actor=rep, term="腾讯") == [mine]


def test_user_without_the_right_finds_nothing(workspace, people):
    from guanxi.platform.models import Role

    role = Role.objects.create(workspace=workspace, name="No customers", code="none", rights={})
    user = UserFactory(workspace=workspace, role_code="sales_rep")
    user.role = role
    user.save(update_fields=["role"])
    assert names(workspace, user, "张三") == []
    assert search.search_accounts(workspace=workspace, actor=user, term="华为") == []
    qs = selectors.contact_list(workspace=workspace, actor=user)
    assert search.filter_queryset(qs, "张三").count() == 0
