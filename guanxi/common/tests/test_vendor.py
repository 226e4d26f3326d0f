"""The vendored front-end libraries: files match the manifest, and the tag loads them."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import sys

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.template import Context, Template, TemplateSyntaxError
from django.test import RequestFactory

VENDOR_DIR = settings.BASE_DIR / "static" / "vendor"
MANIFEST = json.loads((VENDOR_DIR / "manifest.json").read_text(encoding="utf-8"))
EXPECTED = {
    "htmx": ("htmx.org", 2),
    "alpine": ("@alpinejs/csp", 3),
    "echarts": ("echarts", 5),
    "sortable": ("sortablejs", 1),
}


def test_manifest_lists_the_libraries_of_the_house():
    found = {
        e["name"]: (e["package"], int(e["version"].split(".")[0])) for e in MANIFEST["libraries"]
    }
    assert found == EXPECTED
    for entry in MANIFEST["libraries"]:
        assert re.fullmatch(r"\d+\.\d+\.\d+", entry["version"]), entry
        assert entry["integrity"].startswith("sha512-")
        assert entry["js"], entry["name"]


@pytest.mark.parametrize("entry", MANIFEST["libraries"], ids=lambda e: e["name"])
def test_every_manifest_file_exists_with_its_sha256(entry):
    for item in entry["files"]:
        path = VENDOR_DIR / item["path"]
        assert path.is_file(), f"missing static/vendor/{item['path']}"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == item["sha256"], item["path"]
        assert item["path"].startswith(f"{entry['name']}/{entry['version']}/")
    names = {item["path"].rsplit("/", 1)[-1] for item in entry["files"]}
    assert any(n.upper().startswith("LICENSE") for n in names), f"{entry['name']} has no LICENSE"
    listed = {item["path"] for item in entry["files"]}
    assert set(entry["js"]) <= listed
    # Nothing unlisted lies in the library's folder (an old version, a stray file).
    on_disk = {
        p.relative_to(VENDOR_DIR).as_posix()
        for p in (VENDOR_DIR / entry["name"]).rglob("*")
        if p.is_file()
    }
    assert on_disk == listed


def test_the_script_check_agrees():
    spec = importlib.util.spec_from_file_location(
        "vendor_static", settings.BASE_DIR / "scripts" / "vendor_static.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    assert module.check(MANIFEST) == []
    assert {lib.name for lib in module.LIBRARIES} == set(EXPECTED)


def render(source: str, **context) -> str:
    return Template("{% load vendor %}" + source).render(Context(context))


def test_tag_renders_a_script_with_the_request_nonce(rf: RequestFactory):
    request = rf.get("/")
    request.csp_nonce = "n0nc3"
    html = render('{% vendor_js "htmx" %}', request=request)
    htmx = next(e for e in MANIFEST["libraries"] if e["name"] == "htmx")
    assert html == (
        f'<script src="/static/vendor/htmx/{htmx["version"]}/htmx.min.js" nonce="n0nc3" defer></script>'
    )
    html = render('{% vendor_js "echarts" defer=False %}', request=request)
    assert html.endswith('nonce="n0nc3"></script>') and "echarts.min.js" in html
    assert render('{% vendor_url "alpine" %}').endswith("/cdn.min.js")


def test_tag_nonce_matches_the_csp_header(rf: RequestFactory):
    from csp.middleware import CSPMiddleware

    def view(request):
        return HttpResponse(render('{% vendor_js "alpine" %}', request=request))

    response = CSPMiddleware(view)(rf.get("/"))
    nonce = re.search(r'nonce="([^"]+)"', response.content.decode()).group(1)
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]


def test_tag_without_a_request_has_no_nonce():
    assert "nonce" not in render('{% vendor_js "sortable" %}')


def test_unknown_library_is_an_error():
    with pytest.raises(TemplateSyntaxError, match="unknown vendored library"):
        render('{% vendor_js "jquery" %}')
