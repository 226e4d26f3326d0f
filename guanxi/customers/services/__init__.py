"""Writes of the customers module, one module per subject: ``records`` (accounts, contacts
and what hangs on them), ``pool``, ``consent``, ``privacy``, ``merge``, ``duplicates``,
``imports`` and ``codes``."""
