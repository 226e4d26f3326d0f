"""What the email part adds to the shared UI: 360° sections, side navigation, home panels."""
