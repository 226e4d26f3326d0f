"""The activities' tables, one module per part: the timeline and commitments, tasks and
reminders, visit plans and check-ins, e-mail in and out."""

from .email import (  # noqa: F401
    EmailAttachment,
    EmailDirection,
    EmailMessage,
    EmailPurpose,
    EmailStatus,
    EmailTemplate,
    Mailbox,
)
from .tasks import (  # noqa: F401
    CalendarFeed,
    Notification,
    Priority,
    Recurrence,
    ReminderState,
    Task,
    TaskKind,
    TaskStatus,
)
from .timeline import (  # noqa: F401
    CallOutcome,
    Channel,
    Commitment,
    CommitmentStatus,
    Direction,
    EntryContact,
    EntryKind,
    SystemEvent,
    TimelineEntry,
    VisitMeans,
)
from .visits import CheckIn, VisitPlan, VisitSettings  # noqa: F401
