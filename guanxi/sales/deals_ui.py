"""What the deals part adds to the shared UI (navigation, 360° sections, home panels) and
the hooks it registers with the lower apps (merge movers, personal data)."""

from guanxi.activities.timeline_display import register_system_renderer

from .deals_display import RENDERERS

for _subtype, _render in RENDERERS.items():
    register_system_renderer(_subtype, _render)
