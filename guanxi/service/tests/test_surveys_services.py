"""Surveys: made once per case and resolution round, the link by e-mail or SMS sent once,
no link without a way to reach the customer (or against their consent), the settings, and
the answer — used once, refused after expiry, unknown tokens — with what it writes (event,
timeline, the agent's notification for a low score)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.activities.models import EmailMessage, Notification, TimelineEntry
from guanxi.activities.services import email_out
from guanxi.common.errors import ApplicationError, PermissionDenied
from guanxi.customers.models import Consent, ConsentMethod, ConsentStatus
from guanxi.customers.tests.factories import ContactFactory
from guanxi.integrations.models import SmsMessage, SmsState
from guanxi.platform.models import AuditEntry
from guanxi.service.models import (
    CaseEvent,
    CaseEventKind,
    CaseStatus,
    CaseTypeKind,
    Survey,
    SurveyChannel,
    SurveySettings,
)
from guanxi.service.services import cases as case_services
from guanxi.service.services import survey_hooks, surveys

from .surveys_support import *  # noqa: F403
from .surveys_support import case_type, make_case, resolve, resolved_case, survey_token

pytestmark = pytest.mark.django_db


def _surveys(workspace):
    return Survey.objects.in_workspace(workspace)


# --- made once per round ---------------------------------------------------------------------------


def test_one_survey_per_resolution_round(admin, agent, emailed):
    case = resolved_case(admin, emailed, assignee=agent.pk)
    survey = _surveys(admin.workspace).get()
    assert (survey.case_id, survey.round, survey.channel) == (case.pk, 1, SurveyChannel.EMAIL)
    assert survey.sent_to == "li.na@example.cn" and survey.sent_at is not None
    assert survey.agent_id == agent.pk
    assert (survey.account_id, survey.contact_id) == (emailed.account_id, emailed.pk)
    assert survey.expires_at - survey.sent_at == dt.timedelta(days=30)
    assert len(survey.token_hash) == 64 and survey.answered_at is None
    # The hook called again for the same resolution makes nothing more.
    case.refresh_from_db()
    assert survey_hooks.survey_start(case, now=timezone.now()) is None
    assert _surveys(admin.workspace).count() == 1
    # Reopened, resolved again: the second round gets its own survey and link.
    case_services.case_change_status(
        actor=admin, workspace=case.workspace, case_id=case.pk, status=CaseStatus.OPEN
    )
    resolve(admin, case)
    rounds = list(_surveys(admin.workspace).order_by("round").values_list("round", flat=True))
    assert rounds == [1, 2]
    tokens = {survey_token(s) for s in _surveys(admin.workspace)}
    assert len(tokens) == 2
    # Closing a resolved case sends nothing new.
    case_services.case_change_status(
        actor=admin, workspace=case.workspace, case_id=case.pk, status=CaseStatus.CLOSED
    )
    assert _surveys(admin.workspace).count() == 2


def test_only_the_hash_of_the_token_is_stored(admin, emailed):
    resolved_case(admin, emailed)
    survey = _surveys(admin.workspace).get()
    token = survey_token(survey)
    assert survey.token_hash == surveys.token_hash(token) and token not in survey.token_hash
    logged = AuditEntry.objects.in_workspace(admin.workspace).values_list("changes", flat=True)
    assert logged and not any(token in str(changes) for changes in logged)


def test_email_goes_once_in_the_case_language(
    admin, emailed, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case(
            admin,
            contact=emailed,
            account=emailed.account,
            acknowledge=False,
            language="en",
            subject="Printer jams",
        )
        resolve(admin, case)
    survey = _surveys(admin.workspace).get()
    sent = [m for m in smtp_server.messages if "/s/" in m.get_body().get_content()]
    assert len(sent) == 1
    message = sent[0]
    assert message["To"] == "li.na@example.cn"
    assert case.number in message["Subject"] and "How did we do?" in message["Subject"]
    assert f"/s/{survey_token(survey)}/" in message.get_body().get_content()
    assert "年" not in message.get_body().get_content()
    email = EmailMessage.objects.in_workspace(admin.workspace).get(to=["li.na@example.cn"])
    assert email.status == "sent" and email.contact_id == emailed.pk
    # The worker finds it sent: a second delivery attempt sends nothing.
    assert email_out.deliver(email.pk) == "skipped"
    assert len([m for m in smtp_server.messages if "/s/" in m.get_body().get_content()]) == 1


def test_chinese_case_gets_a_chinese_email(admin, emailed, smtp_server):
    case = make_case(
        admin, contact=emailed, account=emailed.account, acknowledge=False, language="zh-hans"
    )
    resolve(admin, case)
    email = EmailMessage.objects.in_workspace(admin.workspace).get(to=["li.na@example.cn"])
    assert case.number in email.subject and "/s/" in email.body_text
    # Rendered in Chinese: the expiry date has the Chinese format (Django's own locale).
    assert "年" in email.body_text and "月" in email.body_text


@pytest.mark.parametrize(
    "case_language, workspace_language, expected",
    [
        ("en", "zh-hans", "en"),
        ("zh-hans", "en", "zh-hans"),
        ("zh-TW", "en", "zh-hant"),
        ("zh", "en", "zh-hans"),
        ("en-GB", "zh-hans", "en"),
        ("", "en", "en"),
        ("", "fr", "zh-hans"),
    ],
)
def test_survey_language(case_language, workspace_language, expected):
    from guanxi.platform.models import Workspace
    from guanxi.service.models import Case

    workspace = Workspace(language=workspace_language)
    assert surveys.survey_language(Case(language=case_language), workspace) == expected


def test_sms_when_there_is_no_email_sent_once(admin, texted, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = resolved_case(admin, texted)
    survey = _surveys(admin.workspace).get()
    assert (survey.channel, survey.sent_to) == (SurveyChannel.SMS, "+8613912345678")
    texts = SmsMessage.objects.in_workspace(admin.workspace).filter(purpose="survey")
    assert texts.count() == 1
    text = texts.get()
    assert text.idempotency_key == f"survey:{survey.pk}" and text.phone == "+8613912345678"
    assert text.state == SmsState.SENT and case.number in text.body
    assert (text.related_object_key, text.related_object_id) == ("service.survey", survey.pk)
    # Asked again for this round: no second survey, no second text.
    case.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        assert survey_hooks.survey_start(case, now=timezone.now()) is None
    assert texts.count() == 1


def test_reply_addresses_of_a_case_without_contact(admin, service_ws):
    by_mail = make_case(admin, acknowledge=False, reply_email="Someone@Example.org")
    resolve(admin, by_mail)
    by_text = make_case(admin, acknowledge=False, reply_phone="+8613700001111")
    resolve(admin, by_text)
    rows = {s.case_id: (s.channel, s.sent_to) for s in _surveys(service_ws)}
    assert rows == {
        by_mail.pk: (SurveyChannel.EMAIL, "someone@example.org"),
        by_text.pk: (SurveyChannel.SMS, "+8613700001111"),
    }


def test_no_way_to_reach_the_customer_means_no_survey(admin, service_ws):
    person = ContactFactory(workspace=service_ws, name="无联系方式", email="not-an-address")
    resolved_case(admin, person)
    assert not _surveys(service_ws).exists()


def test_consent_decides_the_channel(admin, emailed, service_ws):
    Consent.objects.create(
        workspace=service_ws,
        contact=emailed,
        channel="email",
        purpose="surveys",
        status=ConsentStatus.WITHDRAWN,
        method=ConsentMethod.IN_PERSON,
        effective_at=timezone.now(),
    )
    resolved_case(admin, emailed)
    survey = _surveys(service_ws).get()
    assert survey.channel == SurveyChannel.SMS  # e-mail refused for surveys; the mobile is not
    Consent.objects.in_workspace(service_ws).update(channel="sms")
    Consent.objects.create(
        workspace=service_ws,
        contact=emailed,
        channel="email",
        purpose="service",
        status=ConsentStatus.WITHDRAWN,
        method="import",
        effective_at=timezone.now(),
    )
    resolved_case(admin, emailed)
    assert _surveys(service_ws).count() == 1  # neither channel allowed now


def test_erased_person_gets_no_survey(admin, emailed, service_ws):
    case = make_case(admin, contact=emailed, account=emailed.account, acknowledge=False)
    type(emailed).objects.in_workspace(service_ws).filter(pk=emailed.pk).update(
        erased_at=timezone.now()
    )
    resolve(admin, case)
    assert not _surveys(service_ws).exists()


# --- settings --------------------------------------------------------------------------------------


def test_settings_switch_surveys_off_and_choose_types(admin, emailed, service_ws):
    surveys.survey_settings_update(
        actor=admin, workspace=service_ws, enabled=False, case_type_ids=[]
    )
    resolved_case(admin, emailed)
    assert not _surveys(service_ws).exists()
    complaint = case_type(service_ws, CaseTypeKind.COMPLAINT)
    row = surveys.survey_settings_update(
        actor=admin, workspace=service_ws, enabled=True, case_type_ids=[complaint.pk]
    )
    assert SurveySettings.objects.in_workspace(service_ws).get().pk == row.pk
    resolved_case(admin, emailed, kind=CaseTypeKind.FAULT)
    assert not _surveys(service_ws).exists()
    resolved_case(admin, emailed, kind=CaseTypeKind.COMPLAINT)
    assert _surveys(service_ws).count() == 1
    assert (
        AuditEntry.objects.in_workspace(service_ws)
        .filter(object_key="service.surveysettings")
        .count()
        == 2
    )


def test_settings_refuse_bad_types_and_other_workspaces(admin, other_admin, service_ws):
    from guanxi.service.services.case_types import service_setup

    service_setup(other_admin.workspace)
    foreign = case_type(other_admin.workspace, CaseTypeKind.FAULT)
    for ids in ([foreign.pk], ["x"], [999999]):
        with pytest.raises(ApplicationError) as caught:
            surveys.survey_settings_update(
                actor=admin, workspace=service_ws, enabled=True, case_type_ids=ids
            )
        assert "case_type_ids" in caught.value.fields
    assert not SurveySettings.objects.in_workspace(service_ws).exists()


def test_settings_need_the_configuration_right(agent, nobody, service_ws):
    for user in (agent, nobody):
        with pytest.raises(PermissionDenied):
            surveys.survey_settings_update(
                actor=user, workspace=service_ws, enabled=False, case_type_ids=[]
            )


# --- answering ------------------------------------------------------------------------------------


def test_answer_once_writes_event_timeline_and_notifies_on_low_score(admin, agent, emailed):
    case = resolved_case(admin, emailed, assignee=agent.pk)
    survey = _surveys(admin.workspace).get()
    token = survey_token(survey)
    notes = Notification.objects.in_workspace(admin.workspace).filter(user=agent)
    before = set(notes.values_list("pk", flat=True))
    surveys.survey_answer(token=token, score="2", comment="  等了太久  ")
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (2, "等了太久") and survey.answered_at
    event = CaseEvent.objects.in_workspace(admin.workspace).get(
        case=case, kind=CaseEventKind.SURVEY
    )
    assert (event.to_value, event.note, event.actor_id) == ("2", "等了太久", None)
    entry = TimelineEntry.objects.in_workspace(admin.workspace).get(subtype="survey_answered")
    assert (entry.related_object_key, entry.related_object_id) == ("service.case", case.pk)
    assert entry.account_id == emailed.account_id
    assert entry.data == {"number": case.number, "score": 2, "survey_id": survey.pk}
    note = notes.exclude(pk__in=before).get()
    assert case.number in note.title and "2/5" in note.title and "等了太久" in note.body
    assert note.url == f"/service/cases/{case.pk}/"
    # The second use changes nothing.
    with pytest.raises(surveys.SurveyClosed) as caught:
        surveys.survey_answer(token=token, score=5, comment="改主意了")
    assert caught.value.state == "answered"
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (2, "等了太久")
    assert CaseEvent.objects.in_workspace(admin.workspace).filter(kind="survey").count() == 1
    assert notes.exclude(pk__in=before).count() == 1


def test_good_score_notifies_nobody(admin, agent, emailed):
    resolved_case(admin, emailed, assignee=agent.pk)
    survey = _surveys(admin.workspace).get()
    notes = Notification.objects.in_workspace(admin.workspace).filter(user=agent)
    before = notes.count()
    surveys.survey_answer(token=survey_token(survey), score=5)
    assert notes.count() == before
    assert surveys.survey_lookup(survey_token(survey)).state == "answered"


def test_expired_link_cannot_be_answered(admin, emailed):
    resolved_case(admin, emailed)
    survey = _surveys(admin.workspace).get()
    token = survey_token(survey)
    later = survey.expires_at + dt.timedelta(seconds=1)
    assert surveys.survey_lookup(token, now=later).state == "expired"
    with pytest.raises(surveys.SurveyClosed) as caught:
        surveys.survey_answer(token=token, score=4, now=later)
    assert caught.value.state == "expired" and caught.value.status == 409
    survey.refresh_from_db()
    assert survey.answered_at is None and survey.score is None
    assert not CaseEvent.objects.in_workspace(admin.workspace).filter(kind="survey").exists()


@pytest.mark.parametrize("token", ["", "nope", "x" * 300, "a/b", "\x00"])
def test_unknown_tokens(admin, emailed, token):
    resolved_case(admin, emailed)
    assert surveys.survey_lookup(token).state == "unknown"
    with pytest.raises(surveys.SurveyClosed) as caught:
        surveys.survey_answer(token=token, score=4)
    assert caught.value.status == 404


@pytest.mark.parametrize(
    "score, comment, field",
    [
        ("0", "", "score"),
        ("6", "", "score"),
        ("", "", "score"),
        ("x", "", "score"),
        (None, "", "score"),
        ("3", "a" * 2001, "comment"),
        ("3", "a\x00b", "comment"),
    ],
)
def test_bad_answers_write_nothing(admin, emailed, score, comment, field):
    resolved_case(admin, emailed)
    survey = _surveys(admin.workspace).get()
    with pytest.raises(ApplicationError) as caught:
        surveys.survey_answer(token=survey_token(survey), score=score, comment=comment)
    assert field in caught.value.fields
    survey.refresh_from_db()
    assert survey.answered_at is None


def test_same_token_value_never_matches_another_workspace(admin, emailed, other_admin):
    """The token is the only key: a survey of another workspace is reached by its own token
    only, and a token that is nobody's gives the same "unknown" wherever it is tried."""
    resolved_case(admin, emailed)
    mine = _surveys(admin.workspace).get()
    from guanxi.service.services.case_types import service_setup

    service_setup(other_admin.workspace)
    other_contact = ContactFactory(
        workspace=other_admin.workspace, name="外部客户", email="x@other.example"
    )
    other_case = make_case(
        other_admin, workspace=other_admin.workspace, contact=other_contact, acknowledge=False
    )
    resolve(other_admin, other_case)
    theirs = Survey.objects.in_workspace(other_admin.workspace).get()
    assert surveys.survey_lookup(survey_token(mine)).survey.pk == mine.pk
    assert surveys.survey_lookup(survey_token(theirs)).survey.pk == theirs.pk
    assert survey_token(mine) != survey_token(theirs)


# --- merges and personal data ----------------------------------------------------------------------


def test_merge_moves_surveys_and_erasure_empties_comment(admin, emailed, service_ws):
    from guanxi.service import surveys_ui

    resolved_case(admin, emailed)
    survey = _surveys(service_ws).get()
    surveys.survey_answer(token=survey_token(survey), score=3, comment="我的电话是 138…")
    survivor = ContactFactory(workspace=service_ws, name="李娜（合并后）")
    exported = surveys_ui._personal_surveys(service_ws.pk, emailed)["service.surveys"]
    assert exported[0]["comment"].startswith("我的电话") and exported[0]["score"] == 3
    surveys_ui._mover("contact")(workspace=service_ws, survivor=survivor, merged=emailed)
    survey.refresh_from_db()
    assert survey.contact_id == survivor.pk
    assert surveys_ui._erase_surveys(service_ws.pk, survivor) == {"service.surveys": 1}
    survey.refresh_from_db()
    assert (survey.comment, survey.sent_to, survey.score) == ("", "", 3)
