"""E-mail in against a real IMAP server (dovecot on loopback): fetch, match known and
unknown senders, thread a reply to our sent mail (only from its parties: a forged
In-Reply-To from anyone else is new mail), attachments, GB2312 headers, bad MIME,
a crash mid-fetch, concurrent fetches, triage filing and dismissal."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import threading

import pytest
from django.db import connection

from guanxi.activities.models import (
    EmailAttachment,
    EmailMessage,
    EmailStatus,
    Mailbox,
    Notification,
    TimelineEntry,
)
from guanxi.activities.services import email_in, email_mailboxes, email_out
from guanxi.common.errors import ApplicationError, Conflict, PermissionDenied
from guanxi.customers.models import ContactPoint
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def gb(text: str) -> str:
    """An RFC 2047 word labelled GB2312 whose bytes are GBK (as Chinese mailers send)."""
    return "=?GB2312?B?" + base64.b64encode(text.encode("gbk")).decode() + "?="


def message(
    *,
    sender="stranger@unknown.example.com",
    subject="Hello",
    body="Hi there",
    message_id=None,
    in_reply_to=None,
    extra=b"",
) -> bytes:
    headers = [
        f"From: {sender}",
        "To: sales@crm.example.com",
        f"Subject: {subject}",
        "Date: Mon, 01 Sep 2025 10:00:00 +0800",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
    ]
    if message_id:
        headers.append(f"Message-ID: {message_id}")
    if in_reply_to:
        headers.append(f"In-Reply-To: {in_reply_to}")
        headers.append(f"References: {in_reply_to}")
    return (
        "\r\n".join(headers).encode() + b"\r\n" + extra + b"\r\n" + body.encode("utf-8") + b"\r\n"
    )


@pytest.fixture
def rep(workspace):
    return UserFactory(workspace=workspace, full_name="王小明")


@pytest.fixture
def triager(workspace):
    return UserFactory(workspace=workspace, full_name="前台")


@pytest.fixture
def mailbox(workspace, dovecot, imap_folder, triager):
    return Mailbox.objects.create(
        workspace=workspace,
        name="销售",
        address="sales@crm.example.com",
        host="127.0.0.1",
        port=dovecot.port,
        use_ssl=False,
        username=dovecot.user,
        password=dovecot.password,
        folder=imap_folder,
        triage_owner=triager,
    )


@pytest.fixture
def contact(workspace, rep):
    account = AccountFactory(workspace=workspace, owner=rep, name="星河科技")
    return ContactFactory(
        workspace=workspace, owner=rep, account=account, name="李雷", email="lilei@customer.cn"
    )


def fetch(mailbox):
    return email_in.mailbox_fetch(mailbox_id=mailbox.pk)


def test_known_sender_is_filed_to_the_timeline_and_the_owner_notified(
    workspace, dovecot, mailbox, contact, rep
):
    dovecot.deliver(message(sender="Li Lei <LiLei@Customer.CN>", subject="询价"), mailbox.folder)
    result = fetch(mailbox)
    assert (result.stored, result.error) == (1, "")
    email = EmailMessage.objects.get(workspace=workspace)
    assert email.status == EmailStatus.FILED
    assert (email.contact_id, email.account_id) == (contact.pk, contact.account_id)
    assert email.from_address == "lilei@customer.cn"
    assert email.body_text.strip() == "Hi there"
    entry = TimelineEntry.objects.get(workspace=workspace, pk=email.entry_id)
    assert (entry.kind, entry.direction, entry.subject) == ("email", "in", "询价")
    assert entry.account_id == contact.account_id
    note = Notification.objects.get(workspace=workspace, user=rep)
    assert note.url.endswith(f"/email/{email.pk}/")
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 1 and mailbox.uidvalidity and mailbox.last_fetched_at
    # Nothing new: nothing stored.
    assert fetch(mailbox).stored == 0


def test_a_further_address_of_the_contact_matches(workspace, dovecot, mailbox, contact):
    ContactPoint.objects.create(
        workspace=workspace, contact=contact, kind="email", value="li@home.cn"
    )
    dovecot.deliver(message(sender="li@HOME.cn"), mailbox.folder)
    fetch(mailbox)
    assert EmailMessage.objects.get(workspace=workspace).contact_id == contact.pk


def test_unknown_sender_waits_in_triage_for_the_triage_owner(workspace, dovecot, mailbox, triager):
    dovecot.deliver(message(), mailbox.folder)
    fetch(mailbox)
    email = EmailMessage.objects.get(workspace=workspace)
    assert email.status == EmailStatus.TRIAGE and email.assigned_to_id == triager.pk
    assert email.entry_id is None
    assert not TimelineEntry.objects.filter(workspace=workspace, kind="email").exists()


def _sent_to(contact, rep, workspace, capture, **extra):
    with capture(execute=True):
        sent = email_out.email_send(
            actor=rep,
            workspace=workspace,
            contact_id=contact.pk,
            subject="报价",
            body="附件",
            **extra,
        )
    sent.refresh_from_db()
    assert sent.status == EmailStatus.SENT
    return sent


def test_a_reply_to_our_mail_is_threaded(
    workspace,
    dovecot,
    mailbox,
    contact,
    rep,
    smtp_server,
    django_capture_on_commit_callbacks,
):
    sent = _sent_to(
        contact, rep, workspace, django_capture_on_commit_callbacks, cc=["boss@customer.cn"]
    )
    outgoing = smtp_server.messages[0]
    assert outgoing["Reply-To"] == "sales@crm.example.com"
    # From the contact, and from the colleague we copied (not a contact of ours).
    for n, sender in enumerate(("Li Lei <LiLei@Customer.CN>", "boss@customer.cn")):
        reply = message(
            sender=sender,
            subject="Re: 报价",
            in_reply_to=outgoing["Message-ID"],
            message_id=f"<reply-{n}@customer.cn>",
        )
        dovecot.deliver(reply, mailbox.folder)
    fetch(mailbox)
    for email in EmailMessage.objects.filter(workspace=workspace, direction="in"):
        assert email.status == EmailStatus.FILED and email.contact_id == contact.pk
        assert email.thread_root == sent.message_id
        assert email.in_reply_to == sent.message_id


def test_a_forged_reply_header_does_not_file_a_strangers_mail_onto_the_thread(
    workspace,
    dovecot,
    mailbox,
    contact,
    rep,
    triager,
    smtp_server,
    django_capture_on_commit_callbacks,
):
    sent = _sent_to(contact, rep, workspace, django_capture_on_commit_callbacks)
    other = ContactFactory(
        workspace=workspace, owner=rep, name="韩梅梅", email="hanmeimei@other.cn"
    )
    # A stranger and another customer quote our Message-ID (In-Reply-To and References).
    for n, sender in enumerate(("attacker@evil.example.com", "hanmeimei@other.cn")):
        forged = message(
            sender=sender,
            subject="Re: 报价",
            in_reply_to=sent.message_id,
            message_id=f"<forged-{n}@evil.example.com>",
        )
        dovecot.deliver(forged, mailbox.folder)
    fetch(mailbox)
    stranger = EmailMessage.objects.get(
        workspace=workspace, from_address="attacker@evil.example.com"
    )
    assert stranger.status == EmailStatus.TRIAGE and stranger.assigned_to_id == triager.pk
    assert stranger.contact_id is None and stranger.account_id is None
    assert stranger.thread_root == "<forged-0@evil.example.com>"  # its own thread
    assert stranger.entry_id is None
    filed = EmailMessage.objects.get(workspace=workspace, from_address="hanmeimei@other.cn")
    assert filed.status == EmailStatus.FILED and filed.contact_id == other.pk
    assert filed.thread_root == "<forged-1@evil.example.com>"
    assert not TimelineEntry.objects.filter(
        workspace=workspace, kind="email", direction="in", contacts=contact
    ).exists()


def test_attachments_are_stored_with_their_names_and_hashes(workspace, dovecot, mailbox):
    pdf = b"%PDF-1.4 fake"
    raw = (
        b"From: x@unknown.cn\r\nSubject: " + gb("报价单").encode() + b"\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
        b"--B\r\nContent-Type: text/html; charset=gb2312\r\n\r\n"
        + "<p>您好<script>alert(1)</script></p>".encode("gbk")
        + b'\r\n--B\r\nContent-Type: application/pdf; name="'
        + gb("报价单.pdf").encode()
        + b'"\r\nContent-Disposition: attachment; filename="'
        + gb("报价单.pdf").encode()
        + b'"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + base64.b64encode(pdf)
        + b'\r\n--B\r\nContent-Type: text/plain; name="a.txt"\r\n'
        b"Content-Disposition: attachment; filename*=utf-8''%E8%AF%B4%E6%98%8E.txt\r\n\r\nnotes\r\n--B--\r\n"
    )
    dovecot.deliver(raw, mailbox.folder)
    fetch(mailbox)
    email = EmailMessage.objects.get(workspace=workspace)
    assert email.subject == "报价单"
    assert "<script>" in email.body_html and email.body_text == "您好"
    files = list(EmailAttachment.objects.filter(workspace=workspace).order_by("id"))
    assert [f.filename for f in files] == ["报价单.pdf", "说明.txt"]
    assert files[0].sha256 == hashlib.sha256(pdf).hexdigest() and files[0].size == len(pdf)
    assert files[0].file.read() == pdf
    assert "报价" not in files[0].file.name  # our own name on disk


def test_gb2312_headers_with_gbk_characters(workspace, dovecot, mailbox):
    # 镕 and 喆 are in GBK, not in GB2312.
    raw = message(sender=f"{gb('朱镕喆')} <zhu@unknown.cn>", subject=gb("关于朱镕喆的报价"))
    dovecot.deliver(raw, mailbox.folder)
    fetch(mailbox)
    email = EmailMessage.objects.get(workspace=workspace)
    assert email.subject == "关于朱镕喆的报价"
    assert email.from_name == "朱镕喆"


def test_bad_mime_and_unknown_charsets_are_kept_readable(workspace, dovecot, mailbox):
    raw = (
        b"From: x@unknown.cn\r\nSubject: =?x-unknown?Q?caf=E9?=\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=NEVER-CLOSED\r\n\r\n"
        b"--NEVER-CLOSED\r\nContent-Type: text/plain; charset=klingon\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n"
    )
    dovecot.deliver(raw, mailbox.folder)
    result = fetch(mailbox)
    assert result.stored == 1 and result.error == ""
    email = EmailMessage.objects.get(workspace=workspace)
    assert email.subject == "café"
    assert email.status == EmailStatus.TRIAGE


def test_an_unparseable_message_becomes_triage_with_its_raw_source(
    workspace, dovecot, mailbox, monkeypatch
):
    raw = message(subject="broken")
    dovecot.deliver(raw, mailbox.folder)

    def explode(data):
        raise RuntimeError("parser bug")

    monkeypatch.setattr(email_in.email_parse, "parse_message", explode)
    result = fetch(mailbox)
    assert (result.stored, result.unreadable) == (1, 1)
    email = EmailMessage.objects.get(workspace=workspace)
    assert email.status == EmailStatus.TRIAGE
    kept = EmailAttachment.objects.get(workspace=workspace, message=email)
    assert kept.filename == "message.eml" and kept.file.read() == raw
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 1  # not fetched again: no crash loop


def test_a_crash_mid_fetch_loses_nothing_and_duplicates_nothing(
    workspace, dovecot, mailbox, monkeypatch
):
    for n in range(5):
        dovecot.deliver(message(subject=f"m{n}", message_id=f"<m{n}@x>"), mailbox.folder)
    real_store = email_in._store
    calls = {"n": 0}

    def dies_after_two(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise SystemExit("worker killed")  # not an Exception: nothing catches it
        return real_store(*args, **kwargs)

    monkeypatch.setattr(email_in, "_store", dies_after_two)
    with pytest.raises(SystemExit):
        fetch(mailbox)
    assert EmailMessage.objects.filter(workspace=workspace).count() == 2
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 2
    monkeypatch.setattr(email_in, "_store", real_store)
    # The checkpoint is lost too (as if the worker died before writing it): the unique
    # constraint skips what is already there.
    Mailbox.objects.filter(workspace=workspace, pk=mailbox.pk).update(last_uid=0)
    result = fetch(mailbox)
    assert (result.stored, result.duplicates) == (3, 2)
    subjects = sorted(
        EmailMessage.objects.filter(workspace=workspace).values_list("subject", flat=True)
    )
    assert subjects == ["m0", "m1", "m2", "m3", "m4"]
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 5


def test_a_new_uidvalidity_resets_the_checkpoint(workspace, dovecot, mailbox):
    dovecot.deliver(message(subject="one"), mailbox.folder)
    fetch(mailbox)
    Mailbox.objects.filter(workspace=workspace, pk=mailbox.pk).update(uidvalidity=1, last_uid=99)
    result = fetch(mailbox)
    # Same server message, new epoch: stored again under the new UIDVALIDITY's key would
    # be a duplicate only if UIDVALIDITY were unchanged; here the server's real value is
    # back, so the earlier row is found.
    assert result.duplicates == 1 and result.stored == 0
    mailbox.refresh_from_db()
    assert mailbox.uidvalidity != 1 and mailbox.last_uid == 1


def test_the_same_message_stored_by_two_workers_makes_one_row(workspace, dovecot, mailbox):
    """Two workers that both read the checkpoint before either committed."""
    raw = message(subject="twice")
    uid = dovecot.deliver(raw, mailbox.folder)
    first = Mailbox.objects.get(workspace=workspace, pk=mailbox.pk)
    second = Mailbox.objects.get(workspace=workspace, pk=mailbox.pk)
    assert email_in.store_message(mailbox=first, uidvalidity=7, uid=uid, raw=raw) == "stored"
    assert email_in.store_message(mailbox=second, uidvalidity=7, uid=uid, raw=raw) == "duplicate"
    assert EmailMessage.objects.filter(workspace=workspace).count() == 1


@pytest.mark.postgres_only  # SQLite's in-memory test database has no concurrent writers
@pytest.mark.django_db(transaction=True)
def test_the_same_message_fetched_twice_concurrently_makes_one_row(dovecot, imap_folder):
    from guanxi.platform.tests.factories import WorkspaceFactory

    workspace = WorkspaceFactory()
    box = Mailbox.objects.create(
        workspace=workspace,
        name="m",
        address="m@crm.example.com",
        host="127.0.0.1",
        port=dovecot.port,
        use_ssl=False,
        username=dovecot.user,
        password=dovecot.password,
        folder=imap_folder,
    )
    for n in range(3):
        dovecot.deliver(message(subject=f"c{n}"), imap_folder)
    barrier = threading.Barrier(2)
    real_store = email_in._store
    results, errors = [], []

    def synchronised(*args, **kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=5)
        return real_store(*args, **kwargs)

    email_in._store = synchronised
    try:

        def run():
            try:
                results.append(email_in.mailbox_fetch(mailbox_id=box.pk))
            except Exception as exc:
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        email_in._store = real_store
    assert errors == []
    assert EmailMessage.objects.filter(workspace=workspace).count() == 3
    assert sum(r.stored for r in results) == 3
    assert sum(r.duplicates for r in results) == 3


def test_a_wrong_password_is_recorded_on_the_mailbox(workspace, dovecot, mailbox, admin_user):
    Mailbox.objects.filter(workspace=workspace, pk=mailbox.pk).update(password="wrong")
    result = fetch(mailbox)
    assert result.stored == 0 and "AUTHENTICATIONFAILED" in result.error
    mailbox.refresh_from_db()
    assert "AUTHENTICATIONFAILED" in mailbox.last_error
    with pytest.raises(email_mailboxes.ImapFailed):
        email_mailboxes.mailbox_test(actor=admin_user, workspace=workspace, mailbox_id=mailbox.pk)


def test_test_connection_and_fetch_now(
    workspace, dovecot, mailbox, admin_user, django_capture_on_commit_callbacks
):
    dovecot.deliver(message(), mailbox.folder)
    assert email_mailboxes.mailbox_test(
        actor=admin_user, workspace=workspace, mailbox_id=mailbox.pk
    ) == {"ok": True, "messages": 1}
    with django_capture_on_commit_callbacks(execute=True):
        email_mailboxes.mailbox_fetch_now(
            actor=admin_user, workspace=workspace, mailbox_id=mailbox.pk
        )
    assert EmailMessage.objects.filter(workspace=workspace).count() == 1
    with pytest.raises(PermissionDenied):
        email_mailboxes.mailbox_test(
            actor=UserFactory(workspace=workspace), workspace=workspace, mailbox_id=mailbox.pk
        )


def test_periodic_task_fetches_every_active_mailbox(workspace, dovecot, mailbox):
    from guanxi.activities.email_jobs import fetch_mailboxes

    dovecot.deliver(message(), mailbox.folder)
    fetch_mailboxes.call_local()
    assert EmailMessage.objects.filter(workspace=workspace).count() == 1


# --- triage ------------------------------------------------------------------------------------


@pytest.fixture
def waiting(workspace, dovecot, mailbox):
    dovecot.deliver(message(sender="New Person <new@person.cn>"), mailbox.folder)
    fetch(mailbox)
    return EmailMessage.objects.get(workspace=workspace)


def test_file_to_a_contact_and_add_the_address(workspace, waiting, triager, contact, rep):
    contact.owner = triager
    contact.save()
    filed = email_in.email_file(
        actor=triager,
        workspace=workspace,
        email_id=waiting.pk,
        contact_id=contact.pk,
        add_address=True,
    )
    assert filed.status == EmailStatus.FILED and filed.contact_id == contact.pk
    assert filed.filed_by_id == triager.pk
    assert TimelineEntry.objects.filter(workspace=workspace, pk=filed.entry_id).exists()
    assert ContactPoint.objects.filter(
        workspace=workspace, contact=contact, kind="email", value="new@person.cn"
    ).exists()
    with pytest.raises(Conflict):
        email_in.email_dismiss(actor=triager, workspace=workspace, email_id=waiting.pk)
    # The next message from that address is filed by itself.
    assert email_in.match_sender(workspace.pk, "NEW@person.cn").pk == contact.pk


def test_only_the_triage_owner_or_a_manager_files(workspace, waiting, contact):
    other_rep = UserFactory(workspace=workspace)
    with pytest.raises((PermissionDenied, ApplicationError)):
        email_in.email_dismiss(actor=other_rep, workspace=workspace, email_id=waiting.pk)
    manager = UserFactory(workspace=workspace, role_code="sales_manager")
    dismissed = email_in.email_dismiss(actor=manager, workspace=workspace, email_id=waiting.pk)
    assert dismissed.status == EmailStatus.DISMISSED


def test_registered_triage_actions_turn_a_message_into_something_else(workspace, waiting, triager):
    made = []

    def make_lead(*, actor, workspace, email):
        made.append(email.pk)
        return ("sales.lead", 42)

    assert "test.lead" not in [a.key for a in email_in.triage_actions(triager)]
    email_in.register_triage_action("test.lead", "Turn into a lead", make_lead)
    try:
        assert "test.lead" in [a.key for a in email_in.triage_actions(triager)]
        done = email_in.email_triage_action(
            actor=triager, workspace=workspace, email_id=waiting.pk, key="test.lead"
        )
    finally:
        email_in.unregister_triage_action("test.lead")
    assert made == [waiting.pk]
    assert (done.status, done.related_object_key, done.related_object_id) == (
        EmailStatus.FILED,
        "sales.lead",
        42,
    )
