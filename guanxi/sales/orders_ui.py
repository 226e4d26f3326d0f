"""What the orders part adds to the shared UI (navigation, 360° sections, home panels) and
the hooks it registers with the lower apps (merge movers, personal data)."""
