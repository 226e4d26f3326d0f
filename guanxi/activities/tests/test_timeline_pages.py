"""The timeline and open commitments on the 360° pages: rendering, filters, the load-more
partial, quick logging (htmx and plain), closing promises, private entries, and a fixed
number of queries whatever the number of entries."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.activities.models import Commitment, EntryContact, TimelineEntry
from guanxi.activities.services.commitments import commitment_create
from guanxi.activities.services.timeline import record_entry
from guanxi.customers.models import AccountContact
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.tests.factories import TeamFactory, UserFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def team(workspace):
    return TeamFactory(workspace=workspace)


@pytest.fixture
def rep(workspace, team):
    return UserFactory(workspace=workspace, role_code="sales_rep", full_name="王伟", team=team)


@pytest.fixture
def account(workspace, rep):
    return AccountFactory(workspace=workspace, owner=rep, name="上海电气")


@pytest.fixture
def contact(workspace, rep, account):
    person = ContactFactory(workspace=workspace, owner=rep, account=account, name="李经理")
    AccountContact.objects.create(
        workspace=workspace, account=account, contact=person, is_primary=True
    )
    return person


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


def seed(workspace, account, authors, contacts, n, *, start=None, step=None, private_every=0):
    """``n`` entries on the account, mixed kinds, each with one contact; newest last."""
    start = start or timezone.now() - dt.timedelta(days=n + 1)
    step = step or dt.timedelta(hours=1)
    kinds = ["call", "meeting", "visit", "note", "email"]
    entries = TimelineEntry.objects.bulk_create(
        TimelineEntry(
            workspace=workspace,
            account=account,
            kind=kinds[i % len(kinds)],
            subtype="company_visit" if kinds[i % len(kinds)] == "visit" else "",
            direction="out" if kinds[i % len(kinds)] == "call" else "",
            occurred_at=start + step * i,
            subject=f"记录{i:04d}",
            author=authors[i % len(authors)],
            is_private=bool(private_every) and i % private_every == 0,
        )
        for i in range(n)
    )
    if contacts:
        EntryContact.objects.bulk_create(
            EntryContact(
                workspace=workspace,
                entry=e,
                contact=contacts[i % len(contacts)],
                occurred_at=e.occurred_at,
            )
            for i, e in enumerate(entries)
        )
    return entries


def subjects(html: str) -> list[str]:
    return re.findall(r"记录\d{4}", html)


def test_the_account_page_shows_the_timeline_newest_first(
    rep_client, workspace, rep, account, contact
):
    seed(workspace, account, [rep], [contact], 45)
    response = rep_client.get(f"/customers/accounts/{account.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        'id="section-activitiestimeline"' in html and 'id="section-activitiescommitments"' in html
    )
    shown = subjects(html)
    assert shown[:3] == ["记录0044", "记录0043", "记录0042"] and len(shown) == 30
    # The last row loads the next page as it scrolls into view.
    last = re.search(
        r'<li class="tl-entry[^"]*" id="entry-\d+" hx-get="([^"]+)" hx-trigger="revealed"', html
    )
    assert last is not None and "cursor=" in last.group(1)
    assert "李经理" in html and "Log a call" in html and "Add a note" in html
    more = rep_client.get(last.group(1).replace("&amp;", "&"), **HTMX)
    assert more.status_code == 200
    rest = subjects(more.content.decode())
    assert rest[0] == "记录0014" and rest[-1] == "记录0000" and len(rest) == 15
    assert "revealed" not in more.content.decode()


def test_the_contact_page_goes_through_its_links(rep_client, workspace, rep, account, contact):
    other = ContactFactory(workspace=workspace, owner=rep, account=account)
    seed(workspace, account, [rep], [contact, other], 10)
    html = rep_client.get(f"/customers/contacts/{contact.pk}/").content.decode()
    assert subjects(html) == ["记录0008", "记录0006", "记录0004", "记录0002", "记录0000"]


def test_filters_by_type_person_contact_and_period(rep_client, workspace, rep, account, contact):
    colleague = UserFactory(workspace=workspace, role_code="sales_rep", full_name="张敏")
    other = ContactFactory(workspace=workspace, owner=rep, account=account)
    AccountContact.objects.create(workspace=workspace, account=account, contact=other)
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    start = noon - dt.timedelta(days=30)
    seed(
        workspace,
        account,
        [rep, colleague],
        [contact, other],
        20,
        start=start,
        step=dt.timedelta(days=1),
    )
    url = f"/activities/timeline/accounts/{account.pk}/"

    def shown(**params):
        response = rep_client.get(url, params, **HTMX)
        assert response.status_code == 200
        return subjects(response.content.decode())

    assert shown(kind="visit") == ["记录0017", "记录0012", "记录0007", "记录0002"]
    assert set(shown(kind=["visit", "note"])) == {
        f"记录{i:04d}" for i in range(20) if i % 5 in (2, 3)
    }
    assert shown(author=colleague.pk) == [f"记录{i:04d}" for i in range(19, 0, -2)]
    assert shown(contact=other.pk) == [f"记录{i:04d}" for i in range(19, 0, -2)]
    day5 = (start + dt.timedelta(days=5)).date()
    day7 = (start + dt.timedelta(days=7)).date()
    assert shown(since=day5.isoformat(), until=day7.isoformat()) == [
        "记录0007",
        "记录0006",
        "记录0005",
    ]
    assert shown(since=day7.isoformat(), until=day7.isoformat()) == ["记录0007"]
    assert "记录0019" in shown(since=day7.isoformat()) and "记录0006" not in shown(
        since=day7.isoformat()
    )
    assert shown(until=day5.isoformat())[0] == "记录0005"
    assert shown(since="2999-01-01") == []
    assert (
        "No entries match these filters."
        in rep_client.get(url, {"since": "2999-01-01"}, **HTMX).content.decode()
    )
    # A bad value is shown as an error; the other filters still apply.
    response = rep_client.get(url, {"since": "yesterday", "kind": "visit"})
    assert response.status_code == 200 and "Enter a valid date" in response.content.decode()
    assert subjects(response.content.decode()) == ["记录0017", "记录0012", "记录0007", "记录0002"]
    bad = rep_client.get(url, {"cursor": "not-a-cursor"}, **HTMX)
    assert bad.status_code == 400


def test_load_more_keeps_the_filters(rep_client, workspace, rep, account, contact):
    seed(workspace, account, [rep], [contact], 200)
    url = f"/activities/timeline/accounts/{account.pk}/"
    first = rep_client.get(url, {"kind": "call"}, **HTMX).content.decode()
    next_url = re.search(r'hx-get="([^"]+)" hx-trigger="revealed"', first).group(1)
    assert "kind=call" in next_url
    second = subjects(rep_client.get(next_url.replace("&amp;", "&"), **HTMX).content.decode())
    assert len(second) == 10 and all(int(s[2:]) % 5 == 0 for s in second)


def test_the_plain_page_works_without_javascript(rep_client, workspace, rep, account, contact):
    seed(workspace, account, [rep], [contact], 35)
    response = rep_client.get(f"/activities/timeline/accounts/{account.pk}/")
    html = response.content.decode()
    assert response.status_code == 200 and "Older entries" in html and "<html" in html


def _queries(client, url) -> int:
    client.get(url)  # warm: the session and the user's role are read once per client
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_a_fixed_number_of_queries_at_10_and_200_entries(client, workspace, rep, account, contact):
    manager = UserFactory(workspace=workspace, role_code="sales_manager", team=rep.team)
    client.force_login(manager)
    authors = [rep, manager, *(UserFactory(workspace=workspace, team=rep.team) for _ in range(3))]
    people = [
        contact,
        *(ContactFactory(workspace=workspace, owner=rep, account=account) for _ in range(4)),
    ]
    seed(workspace, account, authors, people, 10, private_every=3)
    commitment_create(actor=rep, workspace=workspace, text="x", account_id=account.pk)
    urls = [
        f"/customers/accounts/{account.pk}/",
        f"/customers/contacts/{contact.pk}/",
        f"/activities/timeline/accounts/{account.pk}/?kind=call",
    ]
    small = [_queries(client, url) for url in urls]
    seed(workspace, account, authors, people, 190, private_every=3)
    for i in range(20):
        commitment_create(
            actor=manager,
            workspace=workspace,
            text=f"x{i}",
            account_id=account.pk,
            promised_by_id=authors[i % 5].pk,
        )
    large = [_queries(client, url) for url in urls]
    assert small == large, (small, large)


def test_quick_log_with_htmx_refreshes_the_section(rep_client, workspace, rep, account, contact):
    url = f"/activities/timeline/accounts/{account.pk}/log/"
    when = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    response = rep_client.post(
        url,
        {
            "form": "call",
            "call-occurred_at": when,
            "call-direction": "in",
            "call-outcome": "connected",
            "call-duration_minutes": "12",
            "call-subject": "询价",
            "call-contacts": [str(contact.pk)],
            "call-commitment_text": "明天发报价",
            "call-commitment_due": (timezone.localdate() + dt.timedelta(days=1)).isoformat(),
        },
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="timeline-body"' in html and "询价" in html
    assert "commitments-changed" in response["HX-Trigger"]
    entry = TimelineEntry.objects.in_workspace(workspace).get(kind="call")
    assert entry.duration_seconds == 720 and entry.direction == "in"
    assert list(entry.contacts.all()) == [contact]
    assert Commitment.objects.in_workspace(workspace).get().source_entry == entry


def test_quick_log_errors_come_back_on_the_form(rep_client, workspace, account):
    url = f"/activities/timeline/accounts/{account.pk}/log/"
    future = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = rep_client.post(url, {"form": "visit", "visit-occurred_at": future}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "cannot be logged in the future" in html and "Choose how the visit was made" in html
    assert re.search(r'<details class="quick-log-form" open>\s*<summary[^>]*>Log a visit', html)
    assert not TimelineEntry.objects.in_workspace(workspace).exists()


def test_quick_log_without_javascript_redirects(rep_client, workspace, account, contact):
    when = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    response = rep_client.post(
        f"/activities/timeline/contacts/{contact.pk}/log/",
        {"form": "note", "note-occurred_at": when, "note-body": "客户喜欢喝茶"},
    )
    assert (
        response.status_code == 302 and response["Location"] == f"/customers/contacts/{contact.pk}/"
    )
    entry = TimelineEntry.objects.in_workspace(workspace).get()
    assert entry.account_id == account.pk and list(entry.contacts.all()) == [contact]
    bad = rep_client.post(
        f"/activities/timeline/contacts/{contact.pk}/log/",
        {"form": "note", "note-occurred_at": when},
    )
    assert bad.status_code == 302
    assert TimelineEntry.objects.in_workspace(workspace).count() == 1
    assert (
        rep_client.post(
            f"/activities/timeline/contacts/{contact.pk}/log/", {"form": "system"}
        ).status_code
        == 404
    )


def test_another_workspace_and_hidden_customers_are_404(
    client, workspace, rep, account, other_admin
):
    client.force_login(other_admin)
    assert client.get(f"/activities/timeline/accounts/{account.pk}/").status_code == 404
    assert (
        client.post(
            f"/activities/timeline/accounts/{account.pk}/log/", {"form": "note"}
        ).status_code
        == 404
    )
    assert client.get(f"/activities/commitments/accounts/{account.pk}/").status_code == 404
    colleague = UserFactory(workspace=workspace, role_code="sales_rep")
    client.force_login(colleague)
    assert client.get(f"/activities/timeline/accounts/{account.pk}/").status_code == 404


def test_a_read_only_user_sees_but_cannot_log(client, workspace, rep, account, contact):
    seed(workspace, account, [rep], [contact], 3)
    viewer = UserFactory(workspace=workspace, role_code="read_only")
    client.force_login(viewer)
    html = client.get(f"/customers/accounts/{account.pk}/").content.decode()
    assert "记录0002" in html and "Log a call" not in html and "Record a promise" not in html
    when = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/activities/timeline/accounts/{account.pk}/log/",
        {"form": "note", "note-occurred_at": when, "note-body": "x"},
        **HTMX,
    )
    assert response.status_code == 403
    assert TimelineEntry.objects.in_workspace(workspace).count() == 3


def test_private_entries_only_for_who_may_see_them(client, workspace, rep, account, contact, team):
    """Non-private entries: everyone who sees the customer. Private ones: those whose
    visibility over entries covers the author (the manager of the author's team)."""
    outsider_team = TeamFactory(workspace=workspace)
    manager = UserFactory(workspace=workspace, role_code="sales_manager", team=team)
    other_manager = UserFactory(workspace=workspace, role_code="sales_manager", team=outsider_team)
    account.owner = other_manager  # a customer both managers... see through sharing below
    record_entry(workspace=workspace, author=rep, kind="note", account=account, subject="记录0001")
    record_entry(
        workspace=workspace,
        author=rep,
        kind="note",
        account=account,
        contacts=[contact],
        subject="记录0002",
        is_private=True,
    )
    admin = UserFactory(workspace=workspace, role_code="administrator")
    for user, expected in (
        (rep, {"记录0001", "记录0002"}),
        (manager, {"记录0001", "记录0002"}),
        (admin, {"记录0001", "记录0002"}),
    ):
        client.force_login(user)
        html = client.get(f"/activities/timeline/accounts/{account.pk}/", **HTMX).content.decode()
        assert set(subjects(html)) == expected, user
        html = client.get(f"/activities/timeline/contacts/{contact.pk}/", **HTMX).content.decode()
        assert set(subjects(html)) == {"记录0002"}, user
    # A manager of another team sees the customer (shared with them) but not the private note.
    from guanxi.platform.models import RecordShare

    RecordShare.objects.create(
        workspace=workspace,
        object_key="customers.account",
        object_id=account.pk,
        user=other_manager,
    )
    RecordShare.objects.create(
        workspace=workspace,
        object_key="customers.contact",
        object_id=contact.pk,
        user=other_manager,
    )
    client.force_login(other_manager)
    html = client.get(f"/activities/timeline/accounts/{account.pk}/", **HTMX).content.decode()
    assert set(subjects(html)) == {"记录0001"}
    html = client.get(f"/activities/timeline/contacts/{contact.pk}/", **HTMX).content.decode()
    assert subjects(html) == []


def test_open_commitments_by_person_and_closing_them(client, workspace, rep, account, team):
    manager = UserFactory(
        workspace=workspace, role_code="sales_manager", team=team, full_name="李娜"
    )
    third = UserFactory(workspace=workspace, role_code="sales_rep", team=team, full_name="张敏")
    for who, text in ((rep, "送样品"), (third, "安排演示"), (third, "发合同")):
        commitment_create(
            actor=manager,
            workspace=workspace,
            text=text,
            account_id=account.pk,
            promised_by_id=who.pk,
        )
    late = Commitment.objects.create(
        workspace=workspace,
        account=account,
        promised_by=rep,
        text="逾期的承诺",
        due_date=timezone.localdate() - dt.timedelta(days=2),
    )
    client.force_login(manager)
    html = client.get(f"/customers/accounts/{account.pk}/").content.decode()
    section = html.split('id="commitments-body"')[1].split("</section>")[0]
    assert (
        section.index("王伟")
        < section.index("送样品")
        < section.index("张敏")
        < section.index("安排演示")
    )
    assert f'class="commitment overdue" id="commitment-{late.pk}"' in section
    response = client.post(
        f"/activities/commitments/{late.pk}/close/",
        {"status": "kept", "on": f"accounts:{account.pk}"},
        **HTMX,
    )
    assert response.status_code == 200 and "timeline-changed" in response["HX-Trigger"]
    assert "逾期的承诺" not in response.content.decode()
    late.refresh_from_db()
    assert late.status == "kept"
    again = client.post(
        f"/activities/commitments/{late.pk}/close/",
        {"status": "broken", "on": f"accounts:{account.pk}"},
        **HTMX,
    )
    assert again.status_code == 200 and "already closed" in again["HX-Trigger"]
    # The timeline section reloads after that.
    section = client.get(f"/activities/timeline/accounts/{account.pk}/?part=section", **HTMX)
    assert "Promise kept" in section.content.decode()


def test_record_a_promise_from_the_page(client, workspace, rep, account, contact):
    client.force_login(rep)
    url = f"/activities/commitments/accounts/{account.pk}/new/"
    due = (timezone.localdate() + dt.timedelta(days=5)).isoformat()
    response = client.post(
        url,
        {"promise-text": "五天内上门安装", "promise-due_date": due, "promise-contact": contact.pk},
        **HTMX,
    )
    assert response.status_code == 200 and "五天内上门安装" in response.content.decode()
    assert "timeline-changed" in response["HX-Trigger"]
    promise = Commitment.objects.in_workspace(workspace).get()
    assert promise.contact == contact and promise.promised_by == rep
    past = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    response = client.post(url, {"promise-text": "x", "promise-due_date": past}, **HTMX)
    assert "cannot be due in the past" in response.content.decode()
    assert Commitment.objects.in_workspace(workspace).count() == 1
    # A rep cannot pick who promised: the field is not offered, a forged value is refused.
    assert 'name="promise-promised_by"' not in response.content.decode()


def test_commitment_close_of_another_workspace_is_404(client, workspace, rep, account, other_admin):
    promise = commitment_create(actor=rep, workspace=workspace, text="x", account_id=account.pk)
    other_account = AccountFactory(workspace=other_admin.workspace)
    client.force_login(other_admin)
    response = client.post(
        f"/activities/commitments/{promise.pk}/close/",
        {"status": "kept", "on": f"accounts:{other_account.pk}"},
        **HTMX,
    )
    assert response.status_code == 404
    promise.refresh_from_db()
    assert promise.status == "open"


def test_the_quick_forms_load_when_opened(client, workspace, rep, account, contact):
    client.force_login(rep)
    html = client.get(f"/customers/accounts/{account.pk}/").content.decode()
    # The page carries buttons only; each form loads when its <details> opens.
    assert 'name="call-occurred_at"' not in html
    form_url = f"/activities/timeline/accounts/{account.pk}/log/?form=call"
    assert f'hx-get="{form_url}" hx-trigger="toggle from:closest details once"' in html
    fragment = client.get(form_url, **HTMX)
    body = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in body
    assert 'name="call-occurred_at"' in body and 'name="call-direction"' in body
    assert f'value="{contact.pk}"' in body and 'name="call-commitment_text"' in body
    page = client.get(form_url)
    assert page.status_code == 200 and "<html" in page.content.decode()
    visit = client.get(f"/activities/timeline/contacts/{contact.pk}/log/?form=visit", **HTMX)
    assert 'name="visit-subtype"' in visit.content.decode()
    assert 'name="visit-contacts"' not in visit.content.decode()  # the contact's own page
    assert (
        client.get(f"/activities/timeline/accounts/{account.pk}/log/?form=task").status_code == 404
    )
    promise = client.get(f"/activities/commitments/accounts/{account.pk}/new/", **HTMX)
    assert 'name="promise-text"' in promise.content.decode()
    assert (
        'name="promise-promised_by"' not in promise.content.decode()
    )  # reps promise for themselves
    viewer = UserFactory(workspace=workspace, role_code="read_only")
    client.force_login(viewer)
    assert client.get(form_url, **HTMX).status_code == 403
    assert (
        client.get(f"/activities/commitments/accounts/{account.pk}/new/", **HTMX).status_code == 403
    )


def test_a_manager_may_name_who_promised(client, workspace, rep, account, team):
    manager = UserFactory(workspace=workspace, role_code="sales_manager", team=team)
    client.force_login(manager)
    url = f"/activities/commitments/accounts/{account.pk}/new/"
    assert 'name="promise-promised_by"' in client.get(url, **HTMX).content.decode()
    response = client.post(url, {"promise-text": "下周回电", "promise-promised_by": rep.pk}, **HTMX)
    assert response.status_code == 200
    assert Commitment.objects.in_workspace(workspace).get().promised_by == rep
