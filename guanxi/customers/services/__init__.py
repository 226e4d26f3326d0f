"""Writes of the customers module, one module per subject. Import the functions from here."""
