"""Script tags for the vendored front-end libraries listed in static/vendor/manifest.json.

    {% load vendor %}
    {% vendor_js "htmx" %}            <script src="/static/vendor/htmx/2.0.11/htmx.min.js" nonce="…" defer></script>
    {% vendor_js "echarts" defer=False %}
    {% vendor_url "htmx" %}           the URL alone (a preload link, a worker)

The nonce is the request's CSP nonce (django-csp's ``request.csp_nonce``). The manifest is
read once and read again only when the file changes (``scripts/vendor_static.py`` rewrote it).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join

register = template.Library()

_lock = threading.Lock()
_cache: dict = {"key": None, "libraries": {}}


def manifest_path() -> Path:
    return Path(
        getattr(
            settings,
            "VENDOR_MANIFEST",
            Path(settings.BASE_DIR) / "static" / "vendor" / "manifest.json",
        )
    )


def libraries() -> dict[str, dict]:
    """The manifest's libraries by name, cached until the manifest file changes."""
    path = manifest_path()
    try:
        stat = path.stat()
    except FileNotFoundError as exc:
        raise template.TemplateSyntaxError(
            f"{path} is missing; run scripts/vendor_static.py"
        ) from exc
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    with _lock:
        if _cache["key"] != key:
            data = json.loads(path.read_text(encoding="utf-8"))
            _cache["libraries"] = {entry["name"]: entry for entry in data["libraries"]}
            _cache["key"] = key
        return _cache["libraries"]


def _library(name: str) -> dict:
    libs = libraries()
    if name not in libs:
        raise template.TemplateSyntaxError(
            f"unknown vendored library {name!r}; the manifest has: {', '.join(sorted(libs))}"
        )
    return libs[name]


def _nonce(context) -> str:
    request = context.get("request")
    nonce = getattr(request, "csp_nonce", None) if request is not None else None
    if nonce is None:
        nonce = context.get("CSP_NONCE")
    # Not ``bool(nonce)``: django-csp's lazy nonce is falsy until it has been generated.
    return "" if nonce is None else str(nonce)


@register.simple_tag
def vendor_url(name: str, index: int = 0) -> str:
    """The static URL of a vendored library's script."""
    return static("vendor/" + _library(name)["js"][index])


@register.simple_tag(takes_context=True)
def vendor_js(context, name: str, defer: bool = True) -> str:
    """``<script>`` tags for a vendored library, carrying the request's CSP nonce."""
    nonce = _nonce(context)
    nonce_attr = format_html(' nonce="{}"', nonce) if nonce else ""
    defer_attr = " defer" if defer else ""
    return format_html_join(
        "\n",
        '<script src="{}"{}{}></script>',
        ((static("vendor/" + path), nonce_attr, defer_attr) for path in _library(name)["js"]),
    )
