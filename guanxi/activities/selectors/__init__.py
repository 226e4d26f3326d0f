"""The activities' reads, one module per part; each takes ``workspace`` and ``actor`` and applies record visibility."""
