"""Issue 3's "done when" scenario in a real browser: "We collected 4,700 business cards at
the trade show". Import a 4,700-row GBK CSV holding duplicates of existing customers, scan
for and merge the duplicates, find a contact by pinyin initials, open the 360° page on a
phone. Plus a rep on a phone: the as-you-type duplicate warning and a claim from the pool."""

from __future__ import annotations

import csv
import io
import random
import re

import pytest

from tests.e2e.conftest import PASSWORD, TIMEOUT_MS

pytestmark = pytest.mark.e2e

ROWS = 4_700
HEADERS = ["姓名", "公司", "职位", "手机", "邮箱", "城市", "生日", "性别"]

# Names whose every character has a traditional form, so a card may carry either.
T_SURNAMES = {"陈": "陳", "刘": "劉", "张": "張", "黄": "黃", "赵": "趙", "杨": "楊"}
T_GIVEN = {"伟": "偉", "丽": "麗", "华": "華", "军": "軍", "红": "紅", "东": "東", "国": "國"}
T_GIVEN2 = {"龙": "龍", "凤": "鳳", "宁": "寧", "涛": "濤", "杰": "傑"}
# The generated cards: three-character names, so none has the initials "zs" exactly.
SURNAMES = "王李周吴徐孙胡朱高林何郭马罗梁宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余杜叶程魏苏吕丁任沈姚卢"
GIVEN = "明敏静秀英霞平刚桂兰玉萍燕建春玲芳海波洪金晓云飞鹏辉超莉琳雪梅亮斌宇浩凯"
COMPANIES = ["华东贸易", "鸿运科技", "金桥电子", "长江物流", "东方纺织", "新兴医药", "蓝天软件"]
SUFFIXES = ["有限公司", "股份有限公司", "科技有限公司"]
TITLES = ["经理", "总监", "采购", "工程师", "销售代表", "总经理", "财务"]
CITIES = ["上海", "北京", "深圳", "广州", "杭州", "成都", "南京", "苏州"]


def _valid_mobile(number: str) -> bool:
    """Only numbers of ranges in use (the records service rejects the others)."""
    from guanxi.customers import cleaning

    try:
        cleaning.clean_value(cleaning.CONTACT_KEY, "mobile", number)
    except ValueError:
        return False
    return True


def _mobile(rng: random.Random, used: set[str]) -> str:
    while True:
        m = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        if m not in used and _valid_mobile(m):
            used.add(m)
            return m


def _existing_people(rng: random.Random, used: set[str]) -> list[dict]:
    people = []
    surnames, given, given2 = list(T_SURNAMES), list(T_GIVEN), list(T_GIVEN2)
    for i in range(30):
        name = surnames[i % 6] + given[i % 7] + given2[(i // 6) % 5]
        mobile = _mobile(rng, used)
        people.append(
            {
                "name": name,
                "mobile": mobile,
                "email": f"client{i:02d}@partner{i % 5}.cn",
                "company": f"{rng.choice(COMPANIES)}{rng.choice(SUFFIXES)}",
                "title": rng.choice(TITLES),
                "city": rng.choice(CITIES),
            }
        )
    return people


def _traditional(name: str) -> str:
    table = {**T_SURNAMES, **T_GIVEN, **T_GIVEN2}
    return "".join(table.get(ch, ch) for ch in name)


def make_cards(existing: list[dict], rng: random.Random, used: set[str]) -> tuple[bytes, dict]:
    """The trade show's cards as a GBK CSV; returns the bytes and what was planted."""
    rows = []
    for i in range(ROWS):
        rows.append(
            [
                rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                f"{rng.choice(COMPANIES)}{rng.choice(SUFFIXES)}",
                rng.choice(TITLES),
                _mobile(rng, used),
                f"card{i:05d}@expo.example.cn",
                rng.choice(CITIES),
                f"19{rng.randrange(60, 99)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                rng.choice(["男", "女", ""]),
            ]
        )
    slots = rng.sample(range(1, ROWS), 30)  # row 0 stays a plain card
    planted = {"by_mobile": [], "by_email": [], "errors": [], "zhangsan": None}
    # 10 cards of existing people with their mobile written another way, another title.
    for n, person in enumerate(existing[:10]):
        m = person["mobile"]
        shown = f"{m[:3]}-{m[3:7]}-{m[7:]}" if n % 2 else f"+86 {m[:3]} {m[3:7]} {m[7:]}"
        rows[slots[n]][:5] = [person["name"], person["company"], "销售总监", shown, ""]
        planted["by_mobile"].append(person)
    # 10 cards with the name in traditional characters and the same e-mail.
    for n, person in enumerate(existing[10:20], start=10):
        rows[slots[n]][:5] = [
            _traditional(person["name"]),
            person["company"],
            "",
            "",
            person["email"],
        ]
        planted["by_email"].append(person)
    # 4 cards with errors: a bad date, a bad phone.
    for n in range(20, 24):
        if n % 2:
            rows[slots[n]][6] = "1985-13-45"
        else:
            rows[slots[n]][3] = "+86 12"
        planted["errors"].append(slots[n] + 2)  # the file's line number (header is line 1)
    # 张三, with a mobile of his own.
    zhang = slots[24]
    rows[zhang][:5] = ["张三", "鸿运科技有限公司", "采购经理", "139-0013-8000", "zhangsan@expo.cn"]
    planted["zhangsan"] = "+8613900138000"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows(rows)
    return out.getvalue().encode("gbk"), planted


def _user(account, *, email: str, name: str, role_code: str):
    from guanxi.platform.models import Role
    from guanxi.platform.services import users

    role = Role.objects.in_workspace(account.workspace).get(code=role_code)
    return users.user_create(
        actor=account.user,
        workspace=account.workspace,
        email=email,
        full_name=name,
        role_id=role.pk,
        password=PASSWORD,
    )


def _wait_job(page) -> None:
    """Wait until the progress bar on the page says its job has finished."""
    page.wait_for_selector(
        ".job-progress--succeeded, .job-progress--failed", timeout=TIMEOUT_MS * 4
    )
    assert page.locator(".job-progress--failed").count() == 0, page.locator("main").inner_text()


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _phone_context(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


def test_4700_business_cards_from_the_trade_show(
    page, browser, live_server, make_workspace, login, screenshot, tmp_path
):
    from guanxi.customers.models import Contact, ImportRun, Merge
    from guanxi.customers.services import records
    from guanxi.platform.models import AuditEntry

    # --- The customer file before the show: 30 contacts of two reps.
    account = make_workspace(name="华东贸易有限公司")
    ws = account.workspace
    reps = [
        _user(account, email="li.na@e2e.example.com", name="李娜", role_code="sales_rep"),
        _user(account, email="zhou.jie@e2e.example.com", name="周杰", role_code="sales_rep"),
    ]
    rng = random.Random(20260303)
    used: set[str] = set()
    existing = _existing_people(rng, used)
    for i, person in enumerate(existing):
        rep = reps[i % 2]
        person["pk"] = records.contact_create(actor=rep, workspace=ws, **person).pk
    assert Contact.objects.in_workspace(ws).count() == 30

    data, planted = make_cards(existing, rng, used)
    cards = tmp_path / "展会名片.csv"
    cards.write_bytes(data)

    # --- Import, as the administrator, on a desktop.
    login(page, account.email, account.password)
    page.goto("/customers/import/")
    page.select_option("select[name=object]", "contacts")
    page.set_input_files("input[type=file][name=file]", str(cards))
    page.locator("main form.card button[type=submit]").click()
    page.wait_for_url(re.compile(r"/customers/import/\d+/$"))
    main = page.locator("main").inner_text()
    assert re.search(r"GB(K|18030)", main, re.I), main[:300]
    # Every header is matched to its field without help.
    expected = {
        "姓名": "name",
        "公司": "company",
        "职位": "title",
        "手机": "mobile",
        "邮箱": "email",
        "城市": "city",
        "生日": "birthday",
        "性别": "gender",
    }
    for i, header in enumerate(HEADERS):
        assert page.locator(f"label[for=col-{i}]").inner_text() == header
        assert page.input_value(f"select[name=col-{i}]") == expected[header], header
    screenshot(page, "customers-import-mapping")
    # Duplicates are created and reviewed later on the duplicates page.
    page.check("input[name=on_duplicate][value=create]")
    page.click("button[name=action][value=start]")
    page.wait_for_url(re.compile(r"/customers/import/\d+/$"))
    _wait_job(page)
    page.reload()
    run = ImportRun.objects.in_workspace(ws).get()
    assert run.finished_at is not None and not run.dry_run
    assert run.created == ROWS and run.skipped == 0 and run.failed == 0
    # A bad date or phone is left empty and the row imported, with a warning in the report.

    assert run.warnings == len(planted["errors"]), (run.warnings, planted["errors"])
    card = page.locator("main .card").last.inner_text()
    assert str(run.created) in card and str(run.failed) in card
    report = page.locator("a", has_text=re.compile("报告|report", re.I))
    assert report.count() == 1
    with page.expect_download() as download:
        report.click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    for line in planted["errors"]:
        assert re.search(rf"^{line},", text, re.M), (line, text[:500])
    screenshot(page, "customers-import-done")
    # Nothing half-written: exactly the created rows, each with its search keys and code.
    contacts = Contact.objects.in_workspace(ws)
    assert contacts.count() == 30 + run.created
    assert not contacts.filter(code="").exists()
    assert not contacts.filter(name_initials="").exists()
    assert contacts.filter(mobile=planted["zhangsan"], name="张三").count() == 1

    # --- The duplicates: scan, review, merge.
    page.goto("/customers/duplicates/")
    page.click("button[name=action][value=scan]")
    page.wait_for_url(re.compile(r"/customers/duplicates/\?.*job=\d+"))
    _wait_job(page)
    page.goto("/customers/duplicates/?object=contacts")
    links = page.locator("main a[href^='/customers/duplicates/']", has_text="·")
    assert links.count() >= 15, page.locator("main").inner_text()[:1000]
    screenshot(page, "customers-duplicates")
    merged_away = []
    for person in planted["by_mobile"][:3]:
        # The pair of this person: the card created by the import and the existing record.
        dup = contacts.filter(mobile="+86" + person["mobile"]).exclude(pk=person["pk"]).get()
        page.goto("/customers/duplicates/?object=contacts")
        pair = page.locator("main .card").filter(has_text=person["name"]).first
        pair.locator("a.btn-primary").click()
        page.wait_for_url(re.compile(r"/customers/duplicates/\d+/$"))
        assert "销售总监" in page.locator("main").inner_text()
        # The older record stays; keep the card's job title.
        page.check("input[name='choice:title'][value=merged]")
        if not merged_away:
            screenshot(page, "customers-duplicate-compare")
        page.locator("button[name=action][value=merge]").click()
        page.wait_for_url(re.compile(r"/customers/contacts/\d+/$"))
        assert page.url.endswith(f"/customers/contacts/{person['pk']}/")
        merged_away.append((person, dup))
    audit = AuditEntry.objects.filter(workspace=ws, object_key="customers.contact")
    for person, dup in merged_away:
        assert not contacts.filter(pk=dup.pk).exists()
        survivor = contacts.get(pk=person["pk"])
        assert survivor.title == "销售总监" and survivor.name == person["name"]
        merge = Merge.objects.in_workspace(ws).get(survivor_id=survivor.pk)
        assert merge.merged_id == dup.pk and merge.merged_code == dup.code
        assert merge.snapshot["title"] == "销售总监" and merge.actor_id == account.user.pk
        assert audit.filter(action="delete", object_id=str(dup.pk)).exists()
        change = audit.filter(action="update", object_id=str(survivor.pk)).latest("id")
        assert change.changes["title"][1] == "销售总监", change.changes
    # The survivor's 360° page shows the merge in its history.
    assert merged_away[-1][1].code in page.locator("main").inner_text()
    screenshot(page, "customers-merged-survivor")

    # --- Find 张三 by his initials in the contacts list and in the global box.
    zhang = contacts.get(name="张三")
    page.goto("/customers/contacts/")
    page.fill("#list-q", "zs")
    page.wait_for_url(re.compile(r"[?&]q=zs"))
    page.locator(f"#list-body a[href='/customers/contacts/{zhang.pk}/']").first.wait_for()
    # Exact initials rank first.
    first_row = page.locator("#list-body tbody tr").first.inner_text()
    assert "张三" in first_row, first_row
    assert "csrfmiddlewaretoken" not in page.url and "op=export" not in page.url, page.url
    screenshot(page, "customers-search-zs")
    # The search result exports (CSV, with the search applied).
    page.locator("#export-box").locator("xpath=..").locator("summary").click()
    page.click("#export-box button[value=csv]")
    _wait_job(page)
    assert "/customers/contacts/" in page.url and page.locator("#list-body tbody tr").count() == 1
    with page.expect_download() as download:
        page.click("#export-box .job-progress__result a")
    exported = download.value.path().read_text(encoding="utf-8-sig")
    assert exported.count("\n") == 2 and "张三" in exported, exported[:300]
    page.fill("#global-search", "zs")
    page.wait_for_selector(f"#search-results a[href*='/customers/contacts/{zhang.pk}/']")

    # --- His 360° page on a phone.
    context = _phone_context(browser, live_server)
    try:
        phone = context.new_page()
        login(phone, account.email, account.password)
        phone.goto(f"/customers/contacts/{zhang.pk}/")
        phone.wait_for_load_state("networkidle")
        screenshot(phone, "customers-360-phone")
        metrics = phone.evaluate(
            "[window.innerWidth, document.documentElement.scrollWidth, window.visualViewport.scale]"
        )
        assert metrics[0] == 390 and _no_sideways_scroll(phone), metrics
        main = phone.locator("main")
        assert "张三" in main.inner_text()
        profile = phone.locator("section.card", has=phone.locator("h2", has_text="资料")).first
        if profile.count() == 0:
            profile = phone.locator("section.card").first
        profile.scroll_into_view_if_needed()
        assert profile.is_visible()
        box = profile.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 391
        assert phone.locator("main section.card").count() >= 3
    finally:
        context.close()


def test_a_rep_on_a_phone_is_warned_of_a_duplicate_and_claims_from_the_pool(
    browser, live_server, make_workspace, login, screenshot
):
    from guanxi.customers.models import Contact
    from guanxi.customers.services import records

    account = make_workspace(name="华南贸易有限公司")
    ws = account.workspace
    rep = _user(account, email="chen.jing@e2e.example.com", name="陈静", role_code="sales_rep")
    other = _user(account, email="wu.gang@e2e.example.com", name="吴刚", role_code="sales_rep")
    mine = records.contact_create(
        actor=rep, workspace=ws, name="刘德明", mobile="13812345678", company="鸿运科技"
    )
    records.contact_create(actor=other, workspace=ws, name="郭凯", mobile="13622223333")
    unowned = records.contact_create(
        actor=account.user, workspace=ws, owner_id=None, name="孙丽", mobile="13900001111"
    )
    context = _phone_context(browser, live_server)
    try:
        phone = context.new_page()
        login(phone, rep.email, PASSWORD)
        # A new contact whose mobile (typed another way) is already one of his customers.
        phone.goto("/customers/contacts/new/")
        assert _no_sideways_scroll(phone)
        phone.fill("input[name=name]", "刘德明")
        phone.fill("input[name=mobile]", "138 1234 5678")
        warning = phone.locator("#duplicate-warning .alert")
        warning.first.wait_for()
        assert mine.code in warning.first.inner_text()
        screenshot(phone, "customers-new-contact-duplicate-warning-phone")
        # Another rep's customer's mobile: saving is refused with who owns it (no 撞单).
        phone.fill("input[name=name]", "郭凯")
        phone.fill("input[name=mobile]", "136 2222 3333")
        phone.locator("main form button[type=submit].btn-primary").first.click()
        phone.wait_for_load_state("networkidle")
        assert "吴刚" in phone.locator("main").inner_text()
        assert Contact.objects.in_workspace(ws).filter(name="郭凯").count() == 1

        # The pool of individual customers: claim 孙丽.
        phone.goto("/customers/pool/?kind=people")
        assert _no_sideways_scroll(phone)
        row = phone.locator("tr", has_text="孙丽")
        row.locator("button[type=submit]").click()
        phone.wait_for_load_state("networkidle")
        screenshot(phone, "customers-pool-claimed-phone")
        assert Contact.objects.in_workspace(ws).get(pk=unowned.pk).owner_id == rep.pk
    finally:
        context.close()
