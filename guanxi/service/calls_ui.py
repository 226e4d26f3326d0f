"""What the calls part adds to the shared UI (navigation, 360° sections) and its hooks."""
