"""What the timeline part adds to the shared UI: 360° sections, side navigation, home panels."""
