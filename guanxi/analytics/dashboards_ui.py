"""What the dashboards part adds to the shared UI (navigation, 360° sections, home panels)."""
