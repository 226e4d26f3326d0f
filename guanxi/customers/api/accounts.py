"""``/accounts``: companies (and branches of groups) with their addresses, phones, e-mails,
bank accounts, tags and stages."""

from __future__ import annotations

from ninja import Router, Status

from guanxi.common.api import Id, responses

from ..models import BankAccount
from ..schemas import (
    AccountCreateIn,
    AccountFilters,
    AccountOut,
    AccountUpdateIn,
    BankAccountIn,
    BankAccountOut,
)
from ..services import records
from . import _endpoints
from . import _records as R

router = Router()
TAGS = ["Accounts"]

_endpoints.register(
    router,
    object_key=R.ACCOUNT,
    path="/accounts",
    tag="Accounts",
    prefix="accounts",
    out=AccountOut,
    create_in=AccountCreateIn,
    update_in=AccountUpdateIn,
    filters=AccountFilters,
    label="account",
)


@router.post(
    "/accounts/{record_id}/bank-accounts",
    response=responses(BankAccountOut, status=201),
    tags=TAGS,
    operation_id="accounts_bank_account_add",
    summary="Add a bank account to an account",
)
def bank_account_add(request, record_id: Id, payload: BankAccountIn):
    R.get_one(request, R.ACCOUNT, record_id)
    bank = records.bank_account_add(**R.ws(request), account_id=record_id, **payload.dict())
    return Status(201, bank)


@router.delete(
    "/accounts/{record_id}/bank-accounts/{bank_account_id}",
    response=responses(None, status=204),
    tags=TAGS,
    operation_id="accounts_bank_account_remove",
    summary="Remove a bank account of an account",
)
def bank_account_remove(request, record_id: Id, bank_account_id: Id):
    R.child_of(request, BankAccount, bank_account_id, object_key=R.ACCOUNT, record_id=record_id)
    records.bank_account_remove(**R.ws(request), bank_account_id=bank_account_id)
    return Status(204, None)
