"""What the timeline part adds to the shared UI: the timeline and the open commitments on
the customer 360° page (account and contact)."""

from django.utils.translation import gettext_lazy as _

from guanxi.customers import sections
from guanxi.platform import permissions
from guanxi.platform.models import Action

from .objects import COMMITMENT, ENTRY


def _timeline(request, object_key, record):
    from .timeline_views import section_context

    return section_context(request, object_key, record)


def _commitments(request, object_key, record):
    from .timeline_views import commitments_context

    return commitments_context(request, object_key, record)


sections.register(
    sections.Section(
        key="activities.commitments",
        title=_("Open commitments"),
        object_keys=(sections.ACCOUNT, sections.CONTACT),
        order=80,
        loader=_commitments,
        template="activities/commitment_section.html",
        allowed=lambda user: permissions.can(user, COMMITMENT, Action.READ),
    )
)
sections.register(
    sections.Section(
        key="activities.timeline",
        title=_("Timeline"),
        object_keys=(sections.ACCOUNT, sections.CONTACT),
        order=90,
        loader=_timeline,
        template="activities/timeline_section.html",
        allowed=lambda user: permissions.can(user, ENTRY, Action.READ),
        wide=True,
    )
)
