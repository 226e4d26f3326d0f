"""The customer pool's services: the cap, claims, releases, assignment and the sweep."""

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from guanxi.customers.models import Account, PoolEvent, PoolSettings
from guanxi.customers.services import pool
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.models import AuditEntry
from guanxi.platform.tests.factories import TeamFactory, UserFactory

ACCOUNT = "customers.account"
CONTACT = "customers.contact"


@pytest.fixture
def team(workspace):
    return TeamFactory(workspace=workspace)


@pytest.fixture
def rep(workspace, team):
    return UserFactory(workspace=workspace, full_name="Rep One", team=team)


@pytest.fixture
def rep2(workspace, team):
    return UserFactory(workspace=workspace, full_name="Rep Two", team=team)


@pytest.fixture
def manager(workspace, team):
    return UserFactory(workspace=workspace, role_code="sales_manager", full_name="Boss", team=team)


def set_rules(workspace, **values):
    PoolSettings.objects.update_or_create(workspace=workspace, defaults=values)


# --- the cap -----------------------------------------------------------------------------------


def test_ensure_capacity_without_cap_allows_anything(workspace, rep):
    AccountFactory.create_batch(3, workspace=workspace, owner=rep)
    pool.ensure_capacity(workspace=workspace, owner=rep, adding=100)


def test_ensure_capacity_counts_accounts_and_individual_contacts(workspace, rep):
    set_rules(workspace, max_per_rep=3)
    account = AccountFactory(workspace=workspace, owner=rep)
    ContactFactory(workspace=workspace, owner=rep)  # individual customer: counts
    ContactFactory(workspace=workspace, owner=rep, account=account)  # at an account: not
    assert pool.held_count(workspace=workspace, owner=rep) == 2
    pool.ensure_capacity(workspace=workspace, owner=rep)
    with pytest.raises(Conflict) as exc:
        pool.ensure_capacity(workspace=workspace, owner=rep, adding=2)
    assert exc.value.code == "pool_cap_reached"
    assert "3" in str(exc.value.message)


def test_cap_is_per_workspace(workspace, other_workspace, rep):
    set_rules(workspace, max_per_rep=1)
    AccountFactory(workspace=workspace, owner=rep)
    with pytest.raises(Conflict):
        pool.ensure_capacity(workspace=workspace, owner=rep)
    pool.ensure_capacity(workspace=other_workspace, owner=rep)


# --- claim -------------------------------------------------------------------------------------


def test_claim_takes_an_unowned_customer_and_records_it(workspace, rep):
    account = AccountFactory(workspace=workspace)
    pool.customer_claim(actor=rep, workspace=workspace, object_key=ACCOUNT, record_id=account.pk)
    account.refresh_from_db()
    assert account.owner_id == rep.pk
    assert account.owned_since is not None
    event = PoolEvent.objects.in_workspace(workspace).get(account=account)
    assert (event.kind, event.to_owner_id, event.from_owner_id) == ("claimed", rep.pk, None)
    entry = AuditEntry.objects.in_workspace(workspace).filter(object_id=str(account.pk)).last()
    assert entry.changes["pool"] == [None, "claimed"]
    assert entry.changes["owner"][1]["id"] == rep.pk


def test_claim_of_another_reps_customer_names_the_owner(workspace, rep, rep2, manager):
    # A manager sees rep2's record; the refusal says who owns it (撞单).
    account = AccountFactory(workspace=workspace, owner=rep2)
    with pytest.raises(Conflict) as exc:
        pool.customer_claim(
            actor=manager, workspace=workspace, object_key=ACCOUNT, record_id=account.pk
        )
    assert exc.value.code == "owned_by_other"
    assert "Rep Two" in str(exc.value.message)


def test_claim_of_an_invisible_owned_customer_still_names_the_owner(workspace, rep, rep2):
    account = AccountFactory(workspace=workspace, owner=rep2)
    with pytest.raises(Conflict) as exc:
        pool.customer_claim(
            actor=rep, workspace=workspace, object_key=ACCOUNT, record_id=account.pk
        )
    assert exc.value.code == "owned_by_other" and "Rep Two" in str(exc.value.message)


def test_claim_refused_at_the_cap(workspace, rep):
    set_rules(workspace, max_per_rep=1)
    AccountFactory(workspace=workspace, owner=rep)
    person = ContactFactory(workspace=workspace)
    with pytest.raises(Conflict) as exc:
        pool.customer_claim(actor=rep, workspace=workspace, object_key=CONTACT, record_id=person.pk)
    assert exc.value.code == "pool_cap_reached"
    person.refresh_from_db()
    assert person.owner_id is None
    assert not PoolEvent.objects.in_workspace(workspace).filter(contact=person).exists()


def test_claim_of_a_contact_at_an_account_ignores_the_cap(workspace, rep):
    set_rules(workspace, max_per_rep=1)
    account = AccountFactory(workspace=workspace, owner=rep)
    person = ContactFactory(workspace=workspace, account=account)
    pool.customer_claim(actor=rep, workspace=workspace, object_key=CONTACT, record_id=person.pk)


def test_reclaim_refused_within_the_waiting_days(workspace, rep, rep2):
    set_rules(workspace, reclaim_after_days=7)
    account = AccountFactory(workspace=workspace, owner=rep)
    pool.customer_release(actor=rep, workspace=workspace, object_key=ACCOUNT, record_id=account.pk)
    with pytest.raises(Conflict) as exc:
        pool.customer_claim(
            actor=rep, workspace=workspace, object_key=ACCOUNT, record_id=account.pk
        )
    assert exc.value.code == "reclaim_too_soon"
    # Another rep may claim it at once.
    pool.customer_claim(actor=rep2, workspace=workspace, object_key=ACCOUNT, record_id=account.pk)


def test_reclaim_allowed_after_the_waiting_days(workspace, rep):
    set_rules(workspace, reclaim_after_days=7)
    account = AccountFactory(workspace=workspace, owner=rep)
    pool.customer_release(actor=rep, workspace=workspace, object_key=ACCOUNT, record_id=account.pk)
    PoolEvent.objects.in_workspace(workspace).update(
        created_at=timezone.now() - dt.timedelta(days=8)
    )
    pool.customer_claim(actor=rep, workspace=workspace, object_key=ACCOUNT, record_id=account.pk)


def test_claim_needs_the_update_right(workspace):
    reader = UserFactory(workspace=workspace, role_code="read_only")
    account = AccountFactory(workspace=workspace)
    with pytest.raises(PermissionDenied):
        pool.customer_claim(
            actor=reader, workspace=workspace, object_key=ACCOUNT, record_id=account.pk
        )


def test_claim_across_workspaces_is_not_found(workspace, other_workspace, rep):
    foreign = AccountFactory(workspace=other_workspace)
    with pytest.raises(NotFound):
        pool.customer_claim(
            actor=rep, workspace=workspace, object_key=ACCOUNT, record_id=foreign.pk
        )


@pytest.mark.parametrize("bad", ["x", None, -1, 2**70])
def test_claim_with_a_bad_id_is_not_found(workspace, rep, bad):
    with pytest.raises(NotFound):
        pool.customer_claim(actor=rep, workspace=workspace, object_key=ACCOUNT, record_id=bad)


def test_claim_with_a_bad_object_key_is_a_field_error(workspace, rep):
    with pytest.raises(ApplicationError) as exc:
        pool.customer_claim(actor=rep, workspace=workspace, object_key="platform.user", record_id=1)
    assert "object_key" in exc.value.fields


# --- release -------------------------------------------------------------------------------------


def test_release_by_owner(workspace, rep):
    account = AccountFactory(workspace=workspace, owner=rep)
    pool.customer_release(
        actor=rep, workspace=workspace, object_key=ACCOUNT, record_id=account.pk, reason="busy"
    )
    account.refresh_from_db()
    assert account.owner_id is None and account.owned_since is None
    event = PoolEvent.objects.in_workspace(workspace).get(account=account)
    assert (event.kind, event.from_owner_id, event.reason) == ("released", rep.pk, "busy")


def test_release_by_a_manager(workspace, rep, manager):
    account = AccountFactory(workspace=workspace, owner=rep)
    pool.customer_release(
        actor=manager, workspace=workspace, object_key=ACCOUNT, record_id=account.pk
    )
    account.refresh_from_db()
    assert account.owner_id is None


def test_release_by_another_rep_who_sees_it_is_refused(workspace, rep, rep2):
    from guanxi.platform.models import RecordShare

    account = AccountFactory(workspace=workspace, owner=rep)
    RecordShare.objects.create(
        workspace=workspace, object_key=ACCOUNT, object_id=account.pk, user=rep2
    )
    with pytest.raises(PermissionDenied):
        pool.customer_release(
            actor=rep2, workspace=workspace, object_key=ACCOUNT, record_id=account.pk
        )
    account.refresh_from_db()
    assert account.owner_id == rep.pk


def test_release_of_a_pool_customer_is_a_conflict(workspace, rep):
    account = AccountFactory(workspace=workspace)
    with pytest.raises(Conflict):
        pool.customer_release(
            actor=rep, workspace=workspace, object_key=ACCOUNT, record_id=account.pk
        )


# --- assign --------------------------------------------------------------------------------------


def test_assign_by_manager_moves_several_and_checks_the_cap(workspace, rep, manager):
    set_rules(workspace, max_per_rep=2)
    a, b, c = AccountFactory.create_batch(3, workspace=workspace)
    with pytest.raises(Conflict):
        pool.customer_assign(
            actor=manager,
            workspace=workspace,
            object_key=ACCOUNT,
            record_ids=[a.pk, b.pk, c.pk],
            owner_id=rep.pk,
        )
    assert not Account.objects.in_workspace(workspace).filter(owner=rep).exists()
    pool.customer_assign(
        actor=manager,
        workspace=workspace,
        object_key=ACCOUNT,
        record_ids=[a.pk, b.pk],
        owner_id=rep.pk,
    )
    assert Account.objects.in_workspace(workspace).filter(owner=rep).count() == 2
    kinds = set(PoolEvent.objects.in_workspace(workspace).values_list("kind", flat=True))
    assert kinds == {"assigned"}


def test_assign_to_the_pool(workspace, rep, manager):
    person = ContactFactory(workspace=workspace, owner=rep)
    pool.customer_assign(
        actor=manager, workspace=workspace, object_key=CONTACT, record_id=person.pk, owner_id=None
    )
    person.refresh_from_db()
    assert person.owner_id is None


def test_assign_needs_bulk_or_manager(workspace, rep, rep2):
    account = AccountFactory(workspace=workspace, owner=rep)
    with pytest.raises(PermissionDenied):
        pool.customer_assign(
            actor=rep,
            workspace=workspace,
            object_key=ACCOUNT,
            record_id=account.pk,
            owner_id=rep2.pk,
        )


def test_assign_refuses_foreign_and_deactivated_owners(workspace, other_admin, rep, manager):
    account = AccountFactory(workspace=workspace)
    with pytest.raises(ApplicationError) as exc:
        pool.customer_assign(
            actor=manager,
            workspace=workspace,
            object_key=ACCOUNT,
            record_id=account.pk,
            owner_id=other_admin.pk,
        )
    assert "owner" in exc.value.fields
    rep.is_active = False
    rep.save()
    with pytest.raises(ApplicationError):
        pool.customer_assign(
            actor=manager,
            workspace=workspace,
            object_key=ACCOUNT,
            record_id=account.pk,
            owner_id=rep.pk,
        )


def test_assign_of_a_foreign_record_is_not_found(workspace, other_workspace, rep, manager):
    foreign = AccountFactory(workspace=other_workspace)
    with pytest.raises(NotFound):
        pool.customer_assign(
            actor=manager,
            workspace=workspace,
            object_key=ACCOUNT,
            record_id=foreign.pk,
            owner_id=rep.pk,
        )


# --- settings ------------------------------------------------------------------------------------


def test_settings_update_by_admin_only(workspace, admin_user, manager):
    settings = pool.pool_settings_update(
        actor=admin_user, workspace=workspace, max_per_rep=50, return_after_days=30
    )
    assert (settings.max_per_rep, settings.return_after_days) == (50, 30)
    assert (
        AuditEntry.objects.in_workspace(workspace)
        .filter(object_key="customers.poolsettings")
        .exists()
        or AuditEntry.objects.in_workspace(workspace).filter(action="update").exists()
    )
    with pytest.raises(PermissionDenied):
        pool.pool_settings_update(actor=manager, workspace=workspace, max_per_rep=1)


@pytest.mark.parametrize(
    "changes",
    [
        {"max_per_rep": -1},
        {"max_per_rep": "many"},
        {"return_after_days": 10**9},
        {"return_on_departure": "yes"},
        {"colour": "red"},
    ],
)
def test_settings_update_refuses_bad_values(workspace, admin_user, changes):
    with pytest.raises(ApplicationError):
        pool.pool_settings_update(actor=admin_user, workspace=workspace, **changes)
    assert not PoolSettings.objects.in_workspace(workspace).exists()


# --- sweep ---------------------------------------------------------------------------------------


def test_sweep_returns_neglected_customers(workspace, rep):
    set_rules(workspace, return_after_days=30)
    now = timezone.now()
    old = AccountFactory(workspace=workspace, owner=rep, owned_since=now - dt.timedelta(days=40))
    active = AccountFactory(
        workspace=workspace,
        owner=rep,
        owned_since=now - dt.timedelta(days=40),
        last_activity_at=now - dt.timedelta(days=2),
    )
    fresh = AccountFactory(workspace=workspace, owner=rep, owned_since=now - dt.timedelta(days=3))
    lonely = ContactFactory(workspace=workspace, owner=rep, owned_since=now - dt.timedelta(days=99))
    at_account = ContactFactory(
        workspace=workspace, owner=rep, account=active, owned_since=now - dt.timedelta(days=99)
    )
    result = pool.pool_return_sweep(workspace=workspace)
    assert result.returned_inactive == 2
    owners = {
        r.pk: r.owner_id
        for r in Account.objects.in_workspace(workspace).filter(
            pk__in=[old.pk, active.pk, fresh.pk]
        )
    }
    assert owners == {old.pk: None, active.pk: rep.pk, fresh.pk: rep.pk}
    lonely.refresh_from_db()
    at_account.refresh_from_db()
    assert lonely.owner_id is None and at_account.owner_id == rep.pk
    event = PoolEvent.objects.in_workspace(workspace).get(account=old)
    assert event.kind == "returned" and event.actor_id is None and event.from_owner_id == rep.pk
    entry = AuditEntry.objects.in_workspace(workspace).get(
        object_key=ACCOUNT, object_id=str(old.pk)
    )
    assert entry.actor_label == "system" and entry.changes["pool"] == [None, "returned"]
    assert entry.changes["owner"] == [{"id": rep.pk, "label": rep.full_name}, None]


def test_sweep_returns_departed_reps_customers(workspace, rep, rep2):
    set_rules(workspace, return_on_departure=True)
    gone = AccountFactory(workspace=workspace, owner=rep)
    staying = AccountFactory(workspace=workspace, owner=rep2)
    rep.is_active = False
    rep.save()
    result = pool.pool_return_sweep(workspace=workspace)
    assert result.returned_departed == 1
    gone.refresh_from_db()
    staying.refresh_from_db()
    assert gone.owner_id is None and staying.owner_id == rep2.pk


def test_sweep_keeps_departed_reps_customers_when_told(workspace, rep):
    set_rules(workspace, return_on_departure=False)
    kept = AccountFactory(workspace=workspace, owner=rep)
    rep.is_active = False
    rep.save()
    pool.pool_return_sweep(workspace=workspace)
    kept.refresh_from_db()
    assert kept.owner_id == rep.pk


def test_sweep_all_covers_every_workspace_in_batches(workspace, other_workspace, rep, monkeypatch):
    monkeypatch.setattr(pool, "SWEEP_BATCH", 2)
    other_rep = UserFactory(workspace=other_workspace)
    AccountFactory.create_batch(5, workspace=workspace, owner=rep)
    AccountFactory.create_batch(3, workspace=other_workspace, owner=other_rep)
    for user in (rep, other_rep):
        user.is_active = False
        user.save()
    results = pool.pool_return_sweep_all()
    assert results[workspace.pk].returned_departed == 5
    assert results[other_workspace.pk].returned_departed == 3
    assert not Account.objects.across_workspaces().filter(owner__isnull=False).exists()
