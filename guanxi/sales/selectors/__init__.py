"""The sales' reads, one module per part."""
