"""(filled in by its part of the customers module)"""

from ninja import Router

router = Router()
