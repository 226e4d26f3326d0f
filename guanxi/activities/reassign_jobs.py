"""Periodic tasks and job handlers of one part of the activities app."""
