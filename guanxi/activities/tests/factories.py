"""factory-boy factories for the activities. Pass ``workspace`` and the customer/user rows
of that workspace; the sub-factories only fill what a test leaves out."""

import datetime as dt

import factory
from django.utils import timezone

from guanxi.activities.models import Commitment, Task, TimelineEntry
from guanxi.platform.tests.factories import UserFactory, WorkspaceFactory


class TimelineEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimelineEntry

    workspace = factory.SubFactory(WorkspaceFactory)
    kind = "note"
    occurred_at = factory.LazyFunction(timezone.now)
    subject = factory.Sequence(lambda n: f"记录 {n}")
    author = factory.SubFactory(UserFactory, workspace=factory.SelfAttribute("..workspace"))


class CommitmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commitment

    workspace = factory.SubFactory(WorkspaceFactory)
    text = factory.Sequence(lambda n: f"承诺 {n}: 下周送样品")
    promised_by = factory.SubFactory(UserFactory, workspace=factory.SelfAttribute("..workspace"))


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    workspace = factory.SubFactory(WorkspaceFactory)
    title = factory.Sequence(lambda n: f"任务 {n}")
    due_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=1))
    assignee = factory.SubFactory(UserFactory, workspace=factory.SelfAttribute("..workspace"))
