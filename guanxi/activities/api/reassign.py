"""``/users/{id}/holdings`` and ``/reassignments``: what a person holds, and moving it to
others as a background job. The job's progress is the platform's ``/jobs/{id}``."""

from __future__ import annotations

from typing import Literal

from ninja import Field, Router, Schema, Status

from guanxi.common.api import Id, responses
from guanxi.common.views import actor_scope
from guanxi.platform.api.jobs import job_data
from guanxi.platform.schemas import JobOut

from ..services import reassign

router = Router(tags=["activities"])
TAGS = ["Reassignment"]


class HoldingsOut(Schema):
    user_id: int
    accounts: int
    contacts: int
    individuals: int = Field(
        ..., description="Contacts without an account (customers of their own)."
    )
    customers: int = Field(
        ..., description="Accounts plus individuals: what the pool's cap counts."
    )
    tasks: int = Field(..., description="Open tasks, visit tasks included.")
    visit_tasks: int
    commitments: int = Field(..., description="Open commitments they promised.")
    visit_plans: int = Field(
        ..., description="Visit plans of their accounts (they follow the account)."
    )


Mode = Literal["one", "team", "pool"]
Part = Literal["customers", "tasks", "commitments"]


class ReassignIn(Schema):
    from_user_id: Id
    mode: Mode = Field(
        ...,
        description="`one`: everything to `to_user_id`; `team`: spread across the active "
        "members of `team_id`, the least loaded first, each customer's things to one person; "
        "`pool`: customers back to the pool, their open tasks and commitments to "
        "`tasks_to_user_id` (default: the caller).",
    )
    to_user_id: Id | None = None
    team_id: Id | None = None
    tasks_to_user_id: Id | None = None
    include: list[Part] = Field(
        default_factory=lambda: list(reassign.INCLUDE_ALL), min_length=1, max_length=3
    )
    deactivate: bool = Field(
        False, description="Deactivate the person once everything moved (administrators)."
    )


@router.get(
    "/users/{user_id}/holdings",
    response=responses(HoldingsOut),
    tags=TAGS,
    operation_id="reassign_holdings",
    summary="What a person holds: customers, open tasks and commitments (administrators, "
    "their managers)",
)
def holdings(request, user_id: Id):
    held = reassign.reassign_preview(**actor_scope(request), from_user_id=user_id)
    return {"user_id": user_id, **held.as_dict()}


@router.post(
    "/reassignments",
    response=responses(JobOut, status=202),
    tags=TAGS,
    operation_id="reassign_start",
    summary="Reassign a person's work (a background job; follow it at /jobs/{id})",
    description="Refused whole before anything moves: 400 with `fields` for a bad choice "
    "(the same person, an inactive or foreign user, an empty team), 409 "
    "`pool_cap_reached` when the plan breaks the per-rep cap, 409 `reassignment_running` "
    "while one runs for the person, 400 `nothing_to_reassign`.",
)
def start(request, payload: ReassignIn):
    job = reassign.reassign_start(**actor_scope(request), **payload.dict())
    return Status(202, job_data(job))


@router.post(
    "/reassignments/{job_id}/retry",
    response=responses(JobOut, status=202),
    tags=TAGS,
    operation_id="reassign_retry",
    summary="Run a failed reassignment again; it moves only what is left",
)
def retry(request, job_id: Id):
    job = reassign.reassign_retry(**actor_scope(request), job_id=job_id)
    return Status(202, job_data(job))
