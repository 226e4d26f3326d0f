"""Check-in and check-out: position, distance and the far flag, no position, the photo,
setting a customer's coordinates, the visit on the timeline, the task done; and every bad
input refused with nothing written."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from guanxi.activities.models import (
    CheckIn,
    TaskKind,
    TaskStatus,
    TimelineEntry,
    VisitSettings,
)
from guanxi.activities.services import checkins
from guanxi.activities.services.routes import haversine_m
from guanxi.activities.tests.factories import TaskFactory
from guanxi.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from guanxi.customers.models import Account
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

SITE = (Decimal("31.230400"), Decimal("121.473700"))


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def rep(workspace):
    return UserFactory(workspace=workspace, team=TeamFactory(workspace=workspace))


@pytest.fixture
def account(workspace, rep):
    return AccountFactory(
        workspace=workspace, owner=rep, name="华东机电", latitude=SITE[0], longitude=SITE[1]
    )


@pytest.fixture
def visit(workspace, rep, account):
    return TaskFactory(workspace=workspace, assignee=rep, kind=TaskKind.VISIT, account=account)


def jpeg_with_exif() -> SimpleUploadedFile:
    image = Image.new("RGB", (64, 48), "red")
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90°
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return SimpleUploadedFile("p.jpg", out.getvalue(), content_type="image/jpeg")


def test_check_in_near_at_a_visit_then_out(workspace, rep, account, visit):
    checkin = checkins.checkin_create(
        actor=rep,
        workspace=workspace,
        task_id=visit.pk,
        latitude="31.2310",
        longitude="121.4740",
        accuracy_m=12.4,
        photo=jpeg_with_exif(),
    )
    expected = haversine_m(31.2310, 121.4740, float(SITE[0]), float(SITE[1]))
    assert checkin.distance_m == expected and 0 < expected < 500 and not checkin.is_far
    assert checkin.accuracy_m == 12 and checkin.account == account and checkin.task == visit
    assert checkin.means == "company_visit"
    with Image.open(checkin.photo.path) as stored:
        assert "exif" not in stored.info and not stored.getexif()
        assert stored.size == (48, 64)  # the camera's rotation applied

    done = checkins.checkin_checkout(
        actor=rep,
        workspace=workspace,
        checkin_id=checkin.pk,
        notes="谈了明年的框架协议",
        means="technical_exchange",
        outcome="follow_up",
    )
    entry = TimelineEntry.objects.in_workspace(workspace).get(pk=done.entry_id)
    assert (entry.kind, entry.subtype, entry.channel) == (
        "visit",
        "technical_exchange",
        "in_person",
    )
    assert entry.account == account and entry.author == rep and entry.outcome == "follow_up"
    assert entry.body == "谈了明年的框架协议" and entry.occurred_at == checkin.checked_in_at
    assert entry.data["distance_m"] == expected and entry.data["latitude"] == 31.231
    assert entry.data["no_position"] is False and entry.duration_seconds >= 0
    visit.refresh_from_db()
    assert visit.status == TaskStatus.DONE and visit.completed_at == done.checked_out_at


def test_far_check_in_is_flagged(workspace, rep, account):
    VisitSettings.objects.create(workspace=workspace, far_checkin_meters=200)
    checkin = checkins.checkin_create(
        actor=rep, workspace=workspace, account_id=account.pk, latitude=31.25, longitude=121.47
    )
    assert checkin.distance_m > 2000 and checkin.is_far


def test_contact_coordinates_win(workspace, rep, account):
    person = ContactFactory(
        workspace=workspace,
        owner=rep,
        account=account,
        latitude=Decimal("31.3"),
        longitude=Decimal("121.5"),
    )
    checkin = checkins.checkin_create(
        actor=rep,
        workspace=workspace,
        account_id=account.pk,
        contact_id=person.pk,
        latitude=31.3,
        longitude=121.5,
    )
    assert checkin.distance_m == 0


def test_no_position_is_allowed_and_recorded(workspace, rep, account):
    checkin = checkins.checkin_create(actor=rep, workspace=workspace, account_id=account.pk)
    assert checkin.latitude is None and checkin.distance_m is None and not checkin.is_far
    checkins.checkin_checkout(actor=rep, workspace=workspace, checkin_id=checkin.pk)
    entry = TimelineEntry.objects.in_workspace(workspace).get()
    assert entry.data["no_position"] is True and entry.subtype == "company_visit"
    with pytest.raises(ApplicationError) as err:
        checkins.checkin_set_customer_location(
            actor=rep, workspace=workspace, checkin_id=checkin.pk
        )
    assert err.value.code == "no_position"


def test_customer_without_coordinates_gets_the_check_in_position(workspace, rep):
    bare = AccountFactory(workspace=workspace, owner=rep)
    checkin = checkins.checkin_create(
        actor=rep, workspace=workspace, account_id=bare.pk, latitude=31.2, longitude=121.4
    )
    assert checkin.distance_m is None
    checkins.checkin_set_customer_location(actor=rep, workspace=workspace, checkin_id=checkin.pk)
    bare.refresh_from_db()
    assert (bare.latitude, bare.longitude) == (Decimal("31.200000"), Decimal("121.400000"))
    checkin.refresh_from_db()
    assert checkin.distance_m == 0
    with pytest.raises(Conflict) as err:  # now it has coordinates: not overwritten
        checkins.checkin_set_customer_location(
            actor=rep, workspace=workspace, checkin_id=checkin.pk
        )
    assert err.value.code == "has_coordinates"


@pytest.mark.parametrize(
    "position, field",
    [
        ({"latitude": 90.1, "longitude": 0}, "latitude"),
        ({"latitude": -91, "longitude": 0}, "latitude"),
        ({"latitude": 0, "longitude": 180.5}, "longitude"),
        ({"latitude": 0, "longitude": -181}, "longitude"),
        ({"latitude": "north", "longitude": 0}, "latitude"),
        ({"latitude": 31.2, "longitude": None}, "longitude"),
        ({"latitude": 31.2, "longitude": 121.4, "accuracy_m": -5}, "accuracy_m"),
    ],
)
def test_bad_positions_write_nothing(workspace, rep, visit, position, field):
    with pytest.raises(ApplicationError) as err:
        checkins.checkin_create(actor=rep, workspace=workspace, task_id=visit.pk, **position)
    assert field in err.value.fields and str(err.value.message)
    assert not CheckIn.objects.in_workspace(workspace).exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"%PDF-1.4 not an image", "not an image"),
        (b"\xff\xd8\xff\xe0 truncated jpeg", "not an image"),
        (b"", "empty"),
    ],
)
def test_photo_that_is_not_an_image_writes_nothing(
    workspace, rep, visit, content, message, tmp_path
):
    upload = SimpleUploadedFile("x.jpg", content, content_type="image/jpeg")
    with pytest.raises(ApplicationError) as err:
        checkins.checkin_create(
            actor=rep,
            workspace=workspace,
            task_id=visit.pk,
            latitude=31.2,
            longitude=121.4,
            photo=upload,
        )
    assert "photo" in err.value.fields and message in str(err.value.message)
    assert not CheckIn.objects.in_workspace(workspace).exists()
    assert not any(tmp_path.rglob("*.jpg"))


def test_photo_over_10_mb_is_refused(workspace, rep, visit):
    upload = SimpleUploadedFile("big.jpg", b"\xff" * (10 * 1024 * 1024 + 1))
    with pytest.raises(ApplicationError) as err:
        checkins.checkin_create(actor=rep, workspace=workspace, task_id=visit.pk, photo=upload)
    assert "10 MB" in str(err.value.message)


def test_checking_in_twice(workspace, rep, account, visit):
    checkins.checkin_create(actor=rep, workspace=workspace, task_id=visit.pk)
    with pytest.raises(Conflict) as err:
        checkins.checkin_create(actor=rep, workspace=workspace, task_id=visit.pk)
    assert err.value.code == "already_checked_in" and "already checked in" in str(err.value.message)
    other = AccountFactory(workspace=workspace, owner=rep)
    with pytest.raises(Conflict) as err:
        checkins.checkin_create(actor=rep, workspace=workspace, account_id=other.pk)
    assert account.name in str(err.value.message)
    assert CheckIn.objects.in_workspace(workspace).count() == 1


def test_checking_out_without_checking_in(workspace, rep, visit):
    with pytest.raises(ApplicationError) as err:
        checkins.checkin_checkout(actor=rep, workspace=workspace, task_id=visit.pk, notes="x")
    assert err.value.code == "not_checked_in"
    assert not TimelineEntry.objects.in_workspace(workspace).exists()
    visit.refresh_from_db()
    assert visit.status == TaskStatus.OPEN


def test_checking_out_twice(workspace, rep, visit):
    checkin = checkins.checkin_create(actor=rep, workspace=workspace, task_id=visit.pk)
    checkins.checkin_checkout(actor=rep, workspace=workspace, task_id=visit.pk)
    with pytest.raises(Conflict) as err:
        checkins.checkin_checkout(actor=rep, workspace=workspace, checkin_id=checkin.pk)
    assert err.value.code == "checked_out"
    assert TimelineEntry.objects.in_workspace(workspace).count() == 1


def test_bad_checkout_input_writes_nothing(workspace, rep, visit):
    checkin = checkins.checkin_create(actor=rep, workspace=workspace, task_id=visit.pk)
    for kwargs, field in (
        ({"outcome": "great"}, "outcome"),
        ({"means": "lunch"}, "means"),
        ({"notes": "a\x00b"}, "notes"),
    ):
        with pytest.raises(ApplicationError) as err:
            checkins.checkin_checkout(
                actor=rep, workspace=workspace, checkin_id=checkin.pk, **kwargs
            )
        assert field in err.value.fields
    checkin.refresh_from_db()
    assert checkin.checked_out_at is None
    assert not TimelineEntry.objects.in_workspace(workspace).exists()


def test_closed_or_someone_elses_visit(workspace, rep, account, visit):
    colleague = UserFactory(workspace=workspace, role_code="sales_manager", team=rep.team)
    with pytest.raises(PermissionDenied):
        checkins.checkin_create(actor=colleague, workspace=workspace, task_id=visit.pk)
    visit.status = TaskStatus.DONE
    visit.save()
    with pytest.raises(Conflict):
        checkins.checkin_create(actor=rep, workspace=workspace, task_id=visit.pk)
    with pytest.raises(ApplicationError) as err:
        checkins.checkin_create(actor=rep, workspace=workspace)
    assert err.value.code == "no_customer"


def test_other_workspace_and_invisible_records_are_not_found(
    workspace, rep, other_workspace, other_admin
):
    foreign_account = AccountFactory(workspace=other_workspace)
    foreign_task = TaskFactory(workspace=other_workspace, assignee=other_admin, kind=TaskKind.VISIT)
    someone = UserFactory(workspace=workspace)
    not_mine = AccountFactory(workspace=workspace, owner=someone)
    with pytest.raises(NotFound):
        checkins.checkin_create(actor=rep, workspace=workspace, account_id=foreign_account.pk)
    with pytest.raises(NotFound):
        checkins.checkin_create(actor=rep, workspace=workspace, task_id=foreign_task.pk)
    with pytest.raises(NotFound):
        checkins.checkin_create(actor=rep, workspace=workspace, account_id=not_mine.pk)
    theirs = checkins.checkin_create(
        actor=other_admin, workspace=other_workspace, account_id=foreign_account.pk
    )
    with pytest.raises(NotFound):
        checkins.checkin_checkout(actor=rep, workspace=workspace, checkin_id=theirs.pk)


def test_manager_cannot_check_out_for_the_rep(workspace, rep, visit):
    manager = UserFactory(workspace=workspace, role_code="sales_manager", team=rep.team)
    checkin = checkins.checkin_create(actor=rep, workspace=workspace, task_id=visit.pk)
    with pytest.raises(PermissionDenied):
        checkins.checkin_checkout(actor=manager, workspace=workspace, checkin_id=checkin.pk)


def test_a_role_without_check_in_rights(workspace, account):
    reader = UserFactory(workspace=workspace, role_code="read_only")
    with pytest.raises(PermissionDenied):
        checkins.checkin_create(actor=reader, workspace=workspace, account_id=account.pk)


def test_set_location_goes_through_the_customer_service(workspace, rep):
    bare = AccountFactory(workspace=workspace, owner=rep)
    checkin = checkins.checkin_create(
        actor=rep, workspace=workspace, account_id=bare.pk, latitude=30.5, longitude=114.3
    )
    checkins.checkin_set_customer_location(actor=rep, workspace=workspace, checkin_id=checkin.pk)
    from guanxi.platform.models import AuditEntry

    assert (
        AuditEntry.objects.in_workspace(workspace)
        .filter(object_key="customers.account", object_id=str(bare.pk), action="update")
        .exists()
    )
    assert Account.objects.in_workspace(workspace).get(pk=bare.pk).latitude == Decimal("30.500000")


def test_duration_is_recorded(workspace, rep, visit):
    checkin = checkins.checkin_create(actor=rep, workspace=workspace, task_id=visit.pk)
    CheckIn.objects.in_workspace(workspace).filter(pk=checkin.pk).update(
        checked_in_at=checkin.checked_in_at - dt.timedelta(minutes=45)
    )
    checkins.checkin_checkout(actor=rep, workspace=workspace, checkin_id=checkin.pk)
    entry = TimelineEntry.objects.in_workspace(workspace).get()
    assert 45 * 60 <= entry.duration_seconds < 46 * 60
