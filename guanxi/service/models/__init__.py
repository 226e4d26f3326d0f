"""The service tables, one module per part."""

from .assignment import (  # noqa: F401
    AgentProfile,
    AgentSkill,
    AgentStatus,
    Dispatch,
    DispatchStatus,
    DistributionMethod,
    Queue,
    QueueMember,
    SkillKind,
)
from .calls import CallEvent, CallEventKind, ScreenPop  # noqa: F401
from .cases import (  # noqa: F401
    OPEN_STATUSES,
    Case,
    CaseCategory,
    CaseChannel,
    CaseEvent,
    CaseEventKind,
    CaseMessage,
    CasePriority,
    CaseStatus,
    CaseType,
    CaseTypeKind,
    MessageKind,
)
from .channels import ChannelSettings  # noqa: F401
from .knowledge import (  # noqa: F401
    Article,
    ArticleCategory,
    ArticleStatus,
    ArticleVersion,
    ArticleVisibility,
)
from .portal import PortalCode, PortalSearch, PortalSession, PortalSettings  # noqa: F401
from .sla import (  # noqa: F401
    CalendarDay,
    CalendarDayKind,
    EscalationAction,
    EscalationRule,
    EscalationTarget,
    EscalationWhen,
    SlaPolicy,
    WorkCalendar,
)
from .surveys import Survey, SurveyChannel, SurveySettings  # noqa: F401
