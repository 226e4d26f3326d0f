"""The activities' writes, one module per part: ``timeline`` (entries, system events),
``commitments``, ``tasks`` (and reminders, notifications, calendar feeds), ``visits`` (plans),
``routes``, ``checkins``, ``email_out``, ``email_in``, ``reassign``."""
