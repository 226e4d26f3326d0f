"""The sales tables, one module per part."""

from .catalog import (  # noqa: F401
    CUSTOMER_CLASSES,
    Currency,
    ExchangeRate,
    PriceBook,
    PriceBookEntry,
    PriceBookKind,
    Product,
    TaxRate,
)
from .deals import (  # noqa: F401
    Competitor,
    Deal,
    DealCompetitor,
    DealLine,
    DealStageChange,
    DealStatus,
    ForecastCategory,
    LostReason,
    Pipeline,
    Stage,
    StageKind,
)
from .forecast import PeriodKind, Quota  # noqa: F401
from .leads import (  # noqa: F401
    AssignmentMethod,
    AssignmentRule,
    AssignmentRuleRep,
    Lead,
    LeadForm,
    LeadScoreModel,
    LeadScoringRule,
    LeadSource,
    LeadStatus,
    RepProfile,
    ScoreKind,
)
from .orders import (  # noqa: F401
    Invoice,
    InvoiceStatus,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentMethod,
)
from .quotes import ApprovalStatus, Quote, QuoteApproval, QuoteLine, QuoteStatus  # noqa: F401
from .settings import SalesSettings  # noqa: F401
