"""Issue 4's two "done when" scenarios in a real browser.

1. "The rep who owned this deal quit; the customer arrives in 30 minutes": a manager
   reassigns everything 王伟 held to 刘洋 and watches the job finish; 刘洋 opens the
   account's 360° page and finds the whole history (three authors, 70-odd entries loaded as
   he scrolls), the open promises by person and the open tasks, now his.
2. A rep's day on a phone (390 × 844, touch, the browser's geolocation): my day → the day's
   route → check in at the first stop → check out, the visit on the timeline → a follow-up
   task for tomorrow with a reminder, which the reminder worker e-mails to a real SMTP
   server on loopback exactly once.

The data are made through the services, as the people in the story would have made them;
the browser does only what the people do on the day.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import zoneinfo
from dataclasses import dataclass

import pytest

from tests.e2e.conftest import PASSWORD, TIMEOUT_MS

pytestmark = pytest.mark.e2e

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
PHONE_WIDTH = 390


# --- helpers shared by both scenarios ---------------------------------------------------------


def _user(admin, *, email: str, name: str, role: str, team=None):
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
    )


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{page.url} is {width} px wide on a {PHONE_WIDTH} px phone"


class ServerLock:
    """Keeps the test's own database work (the worker's jobs) apart from the live server's
    requests: on SQLite the live server shares the test's in-memory connection, so a job
    run by the test while the page polls would interleave its transactions with the
    request's. Every request runs under the lock, and so does ``run``."""

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


@pytest.fixture
def server_lock(monkeypatch, live_server):
    return ServerLock(monkeypatch)


# --- scenario 1: the rep who owned this deal quit ------------------------------------------------


@dataclass
class Department:
    admin: object
    manager: object
    leaver: object
    new_rep: object
    engineer: object
    account: object
    buyer: object
    tech_lead: object


# Half a year of work with 上海宏达精密机械: calls and notes by 王伟 every week or two, his
# visits, the technical exchanges of the engineer 陈静 and the manager's own visits.
CALLS = [
    ("询问二季度采购计划", "李经理说二季度预算已批，重点是两台五轴加工中心。"),
    ("确认报价单细节", "对方要求把安装调试费单列，付款方式 30/60/10。"),
    ("跟进付款进度", "上批货款财务已走流程，预计本周五到账。"),
    ("沟通交货期", "客户希望提前两周交货，已和生产部确认可以排产。"),
    ("回访设备使用情况", "三号机主轴温升偏高，已转技术支持跟进。"),
    ("了解新产线需求", "明年扩建一条汽车零部件产线，设备预算约 800 万。"),
]
NOTES = [
    "客户对比了德国品牌的报价，我们价格有优势，但担心售后响应速度。",
    "采购部李经理下月调岗，新接手的是赵工，需要尽早拜访认识。",
    "对方总经理关注设备的能耗数据，下次带能耗测试报告。",
    "客户年底有预算结余，可以推荐刀库升级包。",
]
ENGINEER_VISITS = [
    ("数控系统改造方案交流", "与孙总监讨论旧设备数控系统改造，客户倾向分两期实施。"),
    ("三号机主轴温升问题排查", "更换冷却液并调整参数，温升恢复正常。"),
    ("操作培训", "为车间 12 名操作工做了新版系统培训。"),
]
MANAGER_VISITS = [
    ("拜访总经理", "与王总沟通年度合作框架，对方认可我们的服务。"),
    ("年度合作回顾", "双方确认明年继续按框架协议合作，价格维持不变。"),
]
FIRST_CALL = "首次电话联系：介绍公司五轴加工中心产品线"
LEAVERS_PROMISE = "下周五前寄送样品"
ENGINEERS_PROMISE = "月底前提交数控系统改造技术方案"
OPEN_TASKS = [
    "电话回访李经理：确认样品收货地址",
    "季度拜访：带能耗测试报告",
    "整理新产线设备报价单",
]
SENT_MAIL = "关于样品寄送的确认"


def _department(make_workspace) -> Department:
    """A manager's team with the leaver 王伟 and the new rep 刘洋, an engineer outside the
    team, and the account 王伟 owns with its two contacts."""
    from guanxi.customers.services import records
    from guanxi.platform.services import teams

    admin = make_workspace(name="华东精工销售有限公司", full_name="赵敏")
    ws = admin.workspace
    team = teams.team_create(actor=admin.user, workspace=ws, name="华东销售一组")
    manager = _user(
        admin, email="zhang.jianguo@e2e.example.com", name="张建国", role="sales_manager", team=team
    )
    teams.team_update(actor=admin.user, workspace=ws, team_id=team.pk, manager_id=manager.pk)
    leaver = _user(
        admin, email="wang.wei@e2e.example.com", name="王伟", role="sales_rep", team=team
    )
    new_rep = _user(
        admin, email="liu.yang@e2e.example.com", name="刘洋", role="sales_rep", team=team
    )
    engineer = _user(admin, email="chen.jing@e2e.example.com", name="陈静", role="technician")
    account = records.account_create(
        actor=leaver,
        workspace=ws,
        name="上海宏达精密机械有限公司",
        industry="机械制造",
        city="上海",
        district="闵行区",
        street="申富路 318 号",
        phone="021-64891234",
        latitude="31.112400",
        longitude="121.381200",
    )
    buyer = records.contact_create(
        actor=leaver,
        workspace=ws,
        account_id=account.pk,
        name="李建华",
        title="采购经理",
        mobile="13917345678",
        email="li.jianhua@hongda-jx.cn",
    )
    tech_lead = records.contact_create(
        actor=leaver,
        workspace=ws,
        account_id=account.pk,
        name="孙丽",
        title="技术总监",
        mobile="13816452390",
        email="sun.li@hongda-jx.cn",
    )
    return Department(admin, manager, leaver, new_rep, engineer, account, buyer, tech_lead)


def _history(d: Department) -> None:
    """Six months of activities by 王伟, 陈静 and 张建国 (60-odd entries), the two open
    promises, 王伟's open tasks, a kept promise and a done task (history that stays), and an
    e-mail 王伟 sent."""
    from guanxi.activities.services import commitments, email_out, tasks, timeline

    ws = d.admin.workspace
    now = dt.datetime.now(SHANGHAI)
    people = [d.buyer.pk, d.tech_lead.pk]

    def log(actor, days_ago: float, **fields):
        return timeline.entry_log(
            actor=actor,
            workspace=ws,
            occurred_at=now - dt.timedelta(days=days_ago),
            account_id=d.account.pk,
            **fields,
        )

    log(
        d.leaver,
        182,
        kind="call",
        direction="out",
        outcome="connected",
        duration_seconds=600,
        subject=FIRST_CALL,
        contact_ids=[d.buyer.pk],
    )
    for week in range(26):
        days_ago = 180 - week * 7
        subject, body = CALLS[week % len(CALLS)]
        log(
            d.leaver,
            days_ago,
            kind="call",
            direction="out" if week % 3 else "in",
            outcome="connected",
            duration_seconds=300 + 60 * (week % 5),
            subject=subject,
            body=body,
            contact_ids=[people[week % 2]],
        )
        if week % 2 == 0:
            log(d.leaver, days_ago - 1, kind="note", body=NOTES[week // 2 % len(NOTES)])
        if week % 4 == 1:
            log(
                d.leaver,
                days_ago - 2,
                kind="visit",
                subtype="company_visit",
                subject="上门拜访采购部",
                body="带了新版产品手册，介绍了五轴加工中心的案例。",
                duration_seconds=5400,
                contact_ids=[d.buyer.pk],
            )
        if week % 5 == 2:
            subject, body = ENGINEER_VISITS[week // 5 % len(ENGINEER_VISITS)]
            log(
                d.engineer,
                days_ago - 3,
                kind="visit",
                subtype="technical_exchange",
                subject=subject,
                body=body,
                duration_seconds=7200,
                contact_ids=[d.tech_lead.pk],
            )
        if week % 6 == 3:
            subject, body = MANAGER_VISITS[week // 6 % len(MANAGER_VISITS)]
            log(
                d.manager,
                days_ago - 4,
                kind="visit",
                subtype="management_research",
                subject=subject,
                body=body,
                duration_seconds=3600,
            )

    # The promises still open: 王伟's, made during his last visit; 陈静's, recorded on its own.
    today = now.date()
    next_friday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=11)
    log(
        d.leaver,
        2,
        kind="visit",
        subtype="company_visit",
        subject="样品确认",
        body="客户要求先看样品再下单。",
        contact_ids=[d.buyer.pk],
        commitment_text=LEAVERS_PROMISE,
        commitment_due=next_friday,
    )
    commitments.commitment_create(
        actor=d.engineer,
        workspace=ws,
        text=ENGINEERS_PROMISE,
        due_date=today + dt.timedelta(days=20),
        account_id=d.account.pk,
        contact_id=d.tech_lead.pk,
    )
    kept = commitments.commitment_create(
        actor=d.leaver, workspace=ws, text="提供能耗测试报告", account_id=d.account.pk
    )
    commitments.commitment_close(actor=d.leaver, workspace=ws, commitment_id=kept.pk, status="kept")
    # 王伟's open tasks, and one he finished.
    for title, kind, days in zip(OPEN_TASKS, ["call", "visit", "todo"], [1, 6, 3], strict=True):
        tasks.task_create(
            actor=d.leaver,
            workspace=ws,
            title=title,
            kind=kind,
            due_at=_local(today + dt.timedelta(days=days), 10).replace(tzinfo=None),
            account_id=d.account.pk,
        )
    done = tasks.task_create(
        actor=d.leaver,
        workspace=ws,
        title="寄送产品手册",
        due_at=_local(today + dt.timedelta(days=1), 9).replace(tzinfo=None),
        account_id=d.account.pk,
    )
    tasks.task_complete(actor=d.leaver, workspace=ws, task_id=done.pk)
    email_out.email_send(
        actor=d.leaver,
        workspace=ws,
        contact_id=d.buyer.pk,
        subject=SENT_MAIL,
        body="李经理您好：\n\n样品将于下周五前寄出，收货地址请确认。\n\n王伟",
    )


def _counts(page, selector: str) -> dict[str, str]:
    """A definition list's terms and values, as the page shows them."""
    return page.eval_on_selector(
        selector,
        "dl => Object.fromEntries([...dl.querySelectorAll('dt')].map("
        "dt => [dt.innerText.trim(), dt.nextElementSibling.innerText.trim()]))",
    )


def _load_whole_timeline(page, expected: int) -> list[str]:
    """Scroll the timeline to its end; each last row fetches the next page when it is
    revealed. Returns the rows' texts."""
    rows = page.locator("#timeline-list li.tl-entry")
    seen = rows.count()
    while seen < expected:
        rows.last.scroll_into_view_if_needed()
        page.wait_for_function(
            "n => document.querySelectorAll('#timeline-list li.tl-entry').length > n", arg=seen
        )
        seen = rows.count()
    assert seen == expected
    return rows.all_inner_texts()


def test_the_rep_who_owned_this_deal_quit(
    page, browser, live_server, make_workspace, login, screenshot, server_lock, monkeypatch
):
    from guanxi.activities.models import Commitment, Task, TimelineEntry
    from guanxi.platform import jobs
    from guanxi.platform.tasks import run_job

    d = _department(make_workspace)
    _history(d)
    ws = d.admin.workspace

    # Jobs wait in the queue for the worker (the test) instead of running inside the request
    # that starts them, so the page shows the job queued and then finishing.
    queued: list[int] = []
    monkeypatch.setattr(jobs, "_enqueue", queued.append)

    # --- The manager: find 王伟 among the people, check what he holds, give it all to 刘洋.
    login(page, d.manager.email, PASSWORD)
    page.goto("/activities/reassign/")
    page.locator(f"#reassign-user-{d.leaver.pk} a").click()
    page.wait_for_url(f"**/activities/reassign/users/{d.leaver.pk}/")
    holdings = _counts(page, "section[aria-labelledby=holdings-title] dl.fields")
    assert holdings["客户（公司）"] == "1", holdings
    assert holdings["联系人"] == "2", holdings
    assert re.fullmatch(r"3\D+1\D*", holdings["未完成的任务"]), holdings  # 3 (1 visit)
    assert holdings["未兑现的承诺"] == "1", holdings  # the engineer's promise is not his
    page.check("input[name=mode][value=one]")
    page.select_option("select[name=to_user]", str(d.new_rep.pk))
    for what in ("customers", "tasks", "commitments"):
        assert page.is_checked(f"input[name=include][value={what}]")
    page.click("#reassign-form button[type=submit]")
    page.wait_for_url(re.compile(r"/activities/reassign/jobs/\d+/$"))
    assert len(queued) == 1
    job_id = queued.pop()
    assert page.url.endswith(f"/activities/reassign/jobs/{job_id}/")
    progress = page.locator(f"#job-progress-{job_id}")
    assert "job-progress--queued" in progress.get_attribute("class")
    assert progress.get_attribute("aria-busy") == "true"

    # The worker picks the job up; the page, polling, shows the bar full and who got what.
    server_lock.run(run_job.call_local, job_id)
    page.wait_for_selector(f"#job-progress-{job_id}.job-progress--succeeded")
    assert page.locator(f"#job-progress-{job_id}-bar").get_attribute("value") == "100"
    result = page.locator("#reassign-result table tbody tr")
    result.first.wait_for()  # the result section polls too
    assert result.count() == 1
    cells = result.first.locator("td").all_inner_texts()
    assert cells == ["刘洋", "1", "2", "3", "1", "1"], cells
    screenshot(page, "activities-reassign-done")

    # What moved, and what stayed with its author.
    open_tasks = Task.objects.in_workspace(ws).filter(account=d.account, status="open")
    assert {t.assignee_id for t in open_tasks} == {d.new_rep.pk}
    assert Task.objects.in_workspace(ws).get(title="寄送产品手册").assignee_id == d.leaver.pk
    promises = Commitment.objects.in_workspace(ws).filter(account=d.account, status="open")
    assert {c.text: c.promised_by_id for c in promises} == {
        LEAVERS_PROMISE: d.new_rep.pk,
        ENGINEERS_PROMISE: d.engineer.pk,
    }
    entries = TimelineEntry.objects.in_workspace(ws).filter(account=d.account)
    total = entries.count()
    assert total > 60  # three pages of 30: "load more as you scroll" is needed twice
    assert entries.filter(kind="system", subtype="reassigned").exists()

    # --- 刘洋, half an hour before the customer arrives, in his own browser.
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        rep = context.new_page()
        login(rep, d.new_rep.email, PASSWORD)
        # He was told in the app.
        assert (
            "您从 王伟 处接收了 1 个客户" in rep.locator("#my-day .notification-list").inner_text()
        )
        rep.goto(f"/customers/accounts/{d.account.pk}/")
        rep.wait_for_load_state("networkidle")

        # The timeline: newest first, 30 at a time, starting with the handover itself.
        timeline = rep.locator("#timeline-list li.tl-entry")
        first_page = timeline.all_inner_texts()
        assert len(first_page) == 30
        top = "\n".join(first_page[:8])
        assert "王伟 → 刘洋" in top  # the reassignment entry
        assert "负责人：王伟 → 刘洋" in top  # the owner changes of the account and contacts
        assert not any(FIRST_CALL in row for row in first_page)
        texts = _load_whole_timeline(rep, total)
        history = "\n".join(texts)
        assert FIRST_CALL in texts[-1]  # the oldest entry, on the last page
        for author in ("王伟", "陈静", "张建国"):
            assert sum(f"· {author}" in row for row in texts) >= 3, author
        for subject in ("数控系统改造方案交流", "拜访总经理", SENT_MAIL, "样品确认"):
            assert subject in history, subject
        # The task 王伟 finished reads as one (its kind in words, not its code).
        assert "任务 · 待办\n寄送产品手册" in history and "todo" not in history
        # 王伟's promise was his when he made it: the timeline still says so.
        assert f"王伟 做出承诺\n{LEAVERS_PROMISE}" in history

        # Open promises by person: 王伟's is now 刘洋's to keep (the reassignment moves a
        # commitment's promiser; the original one stays in the timeline and the audit).
        groups = rep.locator("#commitments-body .promiser")
        by_person = {
            g.locator("h3").inner_text().split(" · ")[0].strip(): g.locator("li").all_inner_texts()
            for g in groups.all()
        }
        assert set(by_person) == {"刘洋", "陈静"}, by_person
        assert any(LEAVERS_PROMISE in item for item in by_person["刘洋"]), by_person
        assert any(ENGINEERS_PROMISE in item for item in by_person["陈静"]), by_person

        # Open tasks: 王伟's three, now assigned to 刘洋.
        task_rows = rep.locator("#section-activitiesopen_tasks li.task-row")
        task_rows.first.wait_for()
        rows = task_rows.all_inner_texts()
        assert len(rows) == 3, rows
        for title in OPEN_TASKS:
            row = next(r for r in rows if title in r)
            assert "刘洋" in row and "王伟" not in row, row

        rep.evaluate("window.scrollTo(0, 0)")
        screenshot(rep, "activities-360-after-reassign")
    finally:
        context.close()


# --- scenario 2: a rep's day on a phone ----------------------------------------------------------


class Clock:
    """The server's clock, moved to a time of the test's choosing and running on from there.

    "My day", the route's start time and the reminder all depend on the time of day; the
    test must pass at 23:50 in Shanghai too, so the day starts at 08:30 whenever it runs.
    (Only ``django.utils.timezone.now`` moves — what the code reads; the session timeouts
    count real seconds and are not affected.)"""

    def __init__(self, monkeypatch):
        from django.utils import timezone

        self._real = timezone.now
        self._offset = dt.timedelta(0)
        monkeypatch.setattr(timezone, "now", self.now)

    def now(self) -> dt.datetime:
        return self._real() + self._offset

    def set(self, when: dt.datetime) -> None:
        self._offset = when - self._real()


@dataclass(frozen=True)
class Stop:
    account: str
    short: str
    street: str
    latitude: str
    longitude: str
    due: tuple[int, int]
    window: tuple[dt.time, dt.time] | None = None


# The rep starts at the office by 人民广场; the day's customers lie eastwards across the river,
# so the shortest route is this order whatever the due times say.
OFFICE = {"latitude": 31.230400, "longitude": 121.473700, "accuracy": 15}
STOPS = [
    Stop(
        "上海申江贸易有限公司", "申江贸易", "中山东一路 18 号", "31.235000", "121.490500", (9, 30)
    ),
    Stop(
        "陆家嘴金融信息服务有限公司",
        "陆家嘴金融",
        "世纪大道 100 号",
        "31.235500",
        "121.505500",
        (10, 30),
    ),
    Stop(
        "上海东方医疗器械有限公司",
        "东方医疗",
        "世纪大道 1500 号",
        "31.229000",
        "121.525000",
        (11, 30),
        (dt.time(11, 0), dt.time(12, 0)),
    ),
    Stop("上海花木家具有限公司", "花木家具", "芳甸路 300 号", "31.215000", "121.551000", (14, 0)),
    Stop(
        "上海张江微电子有限公司",
        "张江微电子",
        "祖冲之路 887 号",
        "31.204000",
        "121.590000",
        (15, 30),
    ),
]
OVERDUE = "给长江物流寄回盖章合同"
FOLLOW_UP = "发送新产线报价和样机演示安排"
VISIT_NOTES = "与采购部确认了新产线的设备参数，对方希望下周看到报价和样机演示。"


def _reps_day(admin, today: dt.date):
    """The rep 周杰 with five visits today at accounts with coordinates (one with a time
    window) and a to-do that was due yesterday."""
    from guanxi.activities.services import tasks
    from guanxi.customers.services import records

    ws = admin.workspace
    rep = _user(admin, email="zhou.jie@e2e.example.com", name="周杰", role="sales_rep")
    visits = []
    for stop in STOPS:
        account = records.account_create(
            actor=rep,
            workspace=ws,
            name=stop.account,
            city="上海",
            street=stop.street,
            latitude=stop.latitude,
            longitude=stop.longitude,
        )
        window = (
            {"window_start": stop.window[0], "window_end": stop.window[1]} if stop.window else {}
        )
        visits.append(
            tasks.task_create(
                actor=rep,
                workspace=ws,
                kind="visit",
                title=f"拜访{stop.short}",
                due_at=_local(today, *stop.due).replace(tzinfo=None),
                account_id=account.pk,
                location=stop.street,
                **window,
            )
        )
    yesterday = today - dt.timedelta(days=1)
    tasks.task_create(
        actor=rep,
        workspace=ws,
        title=OVERDUE,
        due_at=_local(yesterday, 17).replace(tzinfo=None),
        now=_local(yesterday, 9),
    )
    return rep, visits


def _phone(browser, live_server, position: dict):
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": PHONE_WIDTH, "height": 844},
        is_mobile=True,
        has_touch=True,
        geolocation=position,
        permissions=["geolocation"],
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


def test_a_reps_day_on_a_phone(
    browser,
    live_server,
    make_workspace,
    login,
    screenshot,
    monkeypatch,
    server_lock,
    smtp_server,
):
    from guanxi.activities.models import Task, TimelineEntry
    from guanxi.activities.reminder_jobs import send_due_reminders
    from guanxi.activities.services.routes import haversine_m

    clock = Clock(monkeypatch)
    today = dt.datetime.now(SHANGHAI).date()
    clock.set(_local(today, 8, 30))
    admin = make_workspace(name="申城商贸有限公司", full_name="赵敏")
    rep, visits = _reps_day(admin, today)
    ws = admin.workspace
    first = STOPS[0]

    context = _phone(browser, live_server, OFFICE)
    try:
        page = context.new_page()
        # --- Sign in: the start page is "my day".
        login(page, rep.email, PASSWORD)
        day = page.locator("#my-day")
        day.wait_for()
        overdue = day.locator(".myday-overdue li.task-row")
        assert overdue.count() == 1
        assert OVERDUE in overdue.inner_text() and "已逾期" in overdue.inner_text()
        assert "overdue" in overdue.get_attribute("class")
        # It stands out: a red bar on the left, in a card of its own above today's list.
        color = overdue.evaluate("li => getComputedStyle(li).borderLeftColor")
        red, green = (int(n) for n in re.findall(r"\d+", color)[:2])
        assert red > 150 and green < 100, (red, green)
        today_rows = day.locator(".myday-grid .card").first.locator("li.task-row")
        titles = [today_rows.nth(i).locator(".task-title").inner_text() for i in range(5)]
        assert titles == [v.title for v in visits], titles  # in time order
        times = [today_rows.nth(i).locator(".task-when").inner_text() for i in range(5)]
        assert times == [f"{h:02d}:{m:02d}" for h, m in (s.due for s in STOPS)], times
        assert today_rows.locator("a", has_text="签到").count() == 5
        # The one-line form adds a task for today unless told otherwise.
        assert page.input_value("#quick_due_date") == today.isoformat()
        _no_sideways_scroll(page)
        screenshot(page, "activities-my-day-phone")

        # --- The day's route, from where the phone is.
        day.locator("a", has_text="今日路线").click()
        page.wait_for_url("**/activities/visits/route/")
        _no_sideways_scroll(page)
        page.click("button[data-use-position]")
        page.wait_for_url(re.compile(r"start_lat=31\.2304"))
        stops = page.locator("ol.route-stops li.route-stop")
        assert stops.count() == len(STOPS)
        texts = stops.all_inner_texts()
        assert [s.account for s in STOPS] == [t.splitlines()[0].strip() for t in texts], texts
        legs = [re.search(r"\+(\d+) 米 · 累计 (\d+) 米", t) for t in texts]
        assert all(legs), texts
        expected_first = haversine_m(
            OFFICE["latitude"], OFFICE["longitude"], float(first.latitude), float(first.longitude)
        )
        assert int(legs[0][1]) == expected_first
        running = 0
        for leg in legs:
            running += int(leg[1])
            assert int(leg[2]) == running
        assert "11:00–12:00" in texts[2] and "错过" not in "\n".join(texts)
        _no_sideways_scroll(page)
        screenshot(page, "activities-route-phone")

        # --- At the first stop: check in, the browser's position near the customer's door.
        here = {"latitude": 31.235500, "longitude": 121.490600, "accuracy": 15}
        context.set_geolocation(here)
        stops.first.locator("a", has_text="签到").click()
        page.wait_for_url(f"**/activities/visits/check-in/?task={visits[0].pk}")
        page.wait_for_selector("form[data-checkin][data-positioned=true]")
        screenshot(page, "activities-checkin-start-phone")
        assert "15 米" in page.locator("[data-position-status]").inner_text()
        assert page.input_value("input[name=latitude]") == "31.235500"
        _no_sideways_scroll(page)
        page.click("form[data-checkin] button[type=submit]")
        page.wait_for_url(re.compile(r"/activities/visits/check-ins/\d+/$"))
        distance = haversine_m(
            here["latitude"], here["longitude"], float(first.latitude), float(first.longitude)
        )
        assert 20 < distance < 500
        facts = _counts(page, ".checkin-card dl.fields")
        assert facts["与客户的距离"].startswith(f"{distance} 米"), facts
        assert "在现场" in facts["与客户的距离"], facts
        _no_sideways_scroll(page)
        screenshot(page, "activities-checkin-phone")

        # --- Check out: how the visit was made, and what happened.
        page.select_option("#checkout-means", "technical_exchange")
        page.select_option("#checkout-outcome", "follow_up")
        page.fill("#checkout-notes", VISIT_NOTES)
        page.click("button:has-text('签退并记录拜访')")
        page.wait_for_selector("dt:has-text('签退时间')")
        assert Task.objects.in_workspace(ws).get(pk=visits[0].pk).status == "done"

        # --- The visit is on the customer's timeline.
        page.click("a:has-text('查看客户')")
        page.wait_for_url(f"**/customers/accounts/{visits[0].account_id}/")
        entry = page.locator("#timeline-list li.tl-entry").first
        assert "上门拜访 · 技术交流 · 需要跟进" in entry.inner_text()  # kind, means, outcome
        assert VISIT_NOTES in entry.inner_text()
        assert "周杰" in entry.inner_text()
        visit = TimelineEntry.objects.in_workspace(ws).get(
            account_id=visits[0].account_id, kind="visit"
        )
        assert visit.subtype == "technical_exchange" and visit.data["distance_m"] == distance
        _no_sideways_scroll(page)

        # --- A follow-up for tomorrow at 10:00, reminded an hour before, from the same page.
        tomorrow = today + dt.timedelta(days=1)
        section = page.locator("#section-activitiesopen_tasks")
        section.locator("summary", has_text="添加任务").click()
        form = section.locator("form.quick-add")
        form.locator("input[name=title]").fill(FOLLOW_UP)
        form.locator("select[name=kind]").select_option("call")
        form.locator("input[name=due_date]").fill(tomorrow.isoformat())
        form.locator("input[name=due_time]").fill("10:00")
        form.locator("select[name=reminder]").select_option("60")
        _no_sideways_scroll(page)
        screenshot(page, "activities-follow-up-phone")
        form.locator("button[type=submit]").click()
        page.locator("#section-activitiesopen_tasks li.task-row", has_text=FOLLOW_UP).wait_for()
        follow_up = Task.objects.in_workspace(ws).get(title=FOLLOW_UP)
        assert follow_up.account_id == visits[0].account_id
        assert follow_up.remind_at == _local(tomorrow, 9) and follow_up.reminder_state == "pending"

        # --- The reminder worker's minute, as the Huey consumer calls it.
        def worker_minute() -> dict:
            return server_lock.run(send_due_reminders.call_local)

        assert worker_minute() == {"sent": 0, "failed": 0}  # not due yet
        assert smtp_server.messages == []
        clock.set(_local(tomorrow, 9, 0) + dt.timedelta(seconds=20))  # the next morning
        assert worker_minute() == {"sent": 1, "failed": 0}
        assert worker_minute() == {"sent": 0, "failed": 0}  # a later minute: nothing again
        assert len(smtp_server.messages) == 1
        message = smtp_server.messages[0]
        assert smtp_server.recipients == [[rep.email]]
        assert FOLLOW_UP in message["Subject"]
        body = message.get_content()
        assert "周杰" in body and "10:00" in body and STOPS[0].account in body
        # ...and in the app: the next morning (yesterday's session is over) "my day" shows it.
        login(page, rep.email, PASSWORD)
        assert f"提醒：{FOLLOW_UP}" in page.locator("#my-day .notification-list").inner_text()
        assert "overdue" not in (
            page.locator("#my-day li.task-row", has_text=FOLLOW_UP).get_attribute("class") or ""
        )
    finally:
        context.close()
