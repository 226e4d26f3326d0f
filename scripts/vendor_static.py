#!/usr/bin/env python3
"""Fetch the vendored front-end libraries from the npm registry into static/vendor/.

No Node build and no CDN: each library is one minified file taken from its npm package,
written to ``static/vendor/<name>/<version>/`` beside the package's licence, and listed
in ``static/vendor/manifest.json`` with its version and the sha256 of every file. The
files are committed; pages load them with ``{% load vendor %}{% vendor_js "htmx" %}``.

    python scripts/vendor_static.py            # fetch the versions in the manifest
                                               # (the newest of each major for new entries)
    python scripts/vendor_static.py --upgrade  # move to the newest release of each major
    python scripts/vendor_static.py --check    # offline: files match the manifest

Every tarball is checked against the registry's ``dist.integrity`` (sha512) before any
file is taken from it. Only the standard library is used, so it runs before ``uv sync``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import re
import shutil
import sys
import tarfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
ROOT = Path(__file__).resolve().parent.parent
VENDOR_DIR = ROOT / "static" / "vendor"
MANIFEST = VENDOR_DIR / "manifest.json"
TIMEOUT = 60
# Licence and notice files taken from a package's root, whatever their extension.
LICENSE_RE = re.compile(r"^(LICEN[CS]E|COPYING|NOTICE)([.-][\w.-]*)?$", re.IGNORECASE)
LICENSE_DIRS = ("licenses",)

# @alpinejs/csp's npm package carries no licence file; its package.json says MIT and the
# upstream repository's LICENSE.md is this text.
ALPINE_LICENSE = """\
# MIT License

Copyright © 2019-2021 Caleb Porzio and contributors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


@dataclass(frozen=True)
class Library:
    name: str  # what templates say: {% vendor_js "htmx" %}
    package: str  # the npm package
    major: int  # newest release of this major line
    # path inside the package -> file name under static/vendor/<name>/<version>/
    files: dict[str, str]
    # file names (values of ``files``) that pages load as scripts, in order
    js: tuple[str, ...] = ()
    license_fallback: str | None = None
    notes: str = ""


LIBRARIES: tuple[Library, ...] = (
    Library(
        "htmx",
        "htmx.org",
        2,
        {"dist/htmx.min.js": "htmx.min.js"},
        js=("htmx.min.js",),
    ),
    Library(
        "alpine",
        "@alpinejs/csp",
        3,
        {"dist/cdn.min.js": "cdn.min.js"},
        js=("cdn.min.js",),
        license_fallback=ALPINE_LICENSE,
        notes="The CSP-safe build of Alpine.js: no eval, register components with Alpine.data().",
    ),
    Library(
        "echarts",
        "echarts",
        5,
        {"dist/echarts.min.js": "echarts.min.js"},
        js=("echarts.min.js",),
    ),
    Library(
        "sortable",
        "sortablejs",
        1,
        {"Sortable.min.js": "Sortable.min.js"},
        js=("Sortable.min.js",),
    ),
)


# --- registry ------------------------------------------------------------------------------


def _get(url: str, *, accept: str = "application/json") -> bytes:
    request = urllib.request.Request(
        url, headers={"Accept": accept, "User-Agent": "guanxi-vendor-static/1"}
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        return response.read()


def _package_url(package: str) -> str:
    return f"{REGISTRY}/{urllib.parse.quote(package, safe='@')}"


def _version_key(version: str) -> tuple[int, int, int]:
    major, minor, patch = version.split(".")
    return int(major), int(minor), int(patch)


def newest_in_major(package: str, major: int) -> str:
    """The newest stable (no pre-release) version of ``package`` in its ``major`` line."""
    doc = json.loads(_get(_package_url(package), accept="application/vnd.npm.install-v1+json"))
    stable = [
        v
        for v in doc["versions"]
        if re.fullmatch(r"\d+\.\d+\.\d+", v) and _version_key(v)[0] == major
    ]
    if not stable:
        raise SystemExit(f"{package}: no stable {major}.x release on the registry")
    return max(stable, key=_version_key)


def version_metadata(package: str, version: str) -> dict:
    return json.loads(_get(f"{_package_url(package)}/{version}"))


def verify_integrity(data: bytes, integrity: str, what: str) -> None:
    """Check ``data`` against an SRI string ("sha512-<base64>"); only sha512 is accepted."""
    for item in integrity.split():
        algorithm, _, expected = item.partition("-")
        if algorithm == "sha512":
            actual = base64.b64encode(hashlib.sha512(data).digest()).decode()
            if actual != expected:
                raise SystemExit(f"{what}: sha512 integrity mismatch, refusing the tarball")
            return
    raise SystemExit(f"{what}: the registry gives no sha512 integrity ({integrity!r})")


# --- files ---------------------------------------------------------------------------------


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _members(tar: tarfile.TarFile) -> dict[str, tarfile.TarInfo]:
    """Regular files of an npm tarball by their path inside the package (the first
    directory, usually ``package/``, dropped)."""
    out = {}
    for member in tar.getmembers():
        if not member.isfile():
            continue
        parts = member.name.split("/", 1)
        if len(parts) == 2:
            out[parts[1]] = member
    return out


def fetch_library(lib: Library, version: str) -> dict:
    """Download, verify and write one library; returns its manifest entry."""
    meta = version_metadata(lib.package, version)
    dist = meta["dist"]
    what = f"{lib.package}@{version}"
    print(f"{lib.name}: {what} <- {dist['tarball']}")
    tarball = _get(dist["tarball"], accept="application/octet-stream")
    verify_integrity(tarball, dist.get("integrity", ""), what)

    wanted: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        members = _members(tar)
        for inner, out_name in lib.files.items():
            if inner not in members:
                raise SystemExit(f"{what}: {inner} is not in the package")
            wanted[out_name] = tar.extractfile(members[inner]).read()
        for inner, member in members.items():
            top = inner.split("/")[0]
            if ("/" not in inner and LICENSE_RE.match(inner)) or (
                top in LICENSE_DIRS and "/" in inner
            ):
                wanted[inner] = tar.extractfile(member).read()
    has_license = any(
        re.match(r"(LICEN[CS]E|COPYING)", name, re.IGNORECASE)
        for name in wanted
        if name not in lib.files.values()
    )
    if not has_license:
        if lib.license_fallback is None:
            raise SystemExit(f"{what}: the package has no licence file")
        wanted["LICENSE"] = (
            f"<!-- {what} ships no licence file; package.json declares "
            f"{meta.get('license')}. Text of the upstream repository's licence: -->\n\n"
            + lib.license_fallback
        ).encode()

    target = VENDOR_DIR / lib.name / version
    if target.exists():
        shutil.rmtree(target)
    for name, data in sorted(wanted.items()):
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    # One version per library: older ones go.
    for old in (VENDOR_DIR / lib.name).iterdir():
        if old.is_dir() and old.name != version:
            shutil.rmtree(old)

    return {
        "name": lib.name,
        "package": lib.package,
        "version": version,
        "license": meta.get("license", ""),
        "tarball": dist["tarball"],
        "integrity": dist["integrity"],
        **({"notes": lib.notes} if lib.notes else {}),
        "js": [f"{lib.name}/{version}/{name}" for name in lib.js],
        "files": [
            {"path": f"{lib.name}/{version}/{name}", "sha256": sha256(data)}
            for name, data in sorted(wanted.items())
        ],
    }


def load_manifest() -> dict:
    if MANIFEST.exists():
        return json.loads(MANIFEST.read_text(encoding="utf-8"))
    return {"libraries": []}


def check(manifest: dict) -> list[str]:
    """Problems with the files on disk against the manifest (empty when all is well)."""
    problems = []
    for entry in manifest.get("libraries", []):
        for item in entry["files"]:
            path = VENDOR_DIR / item["path"]
            if not path.is_file():
                problems.append(f"missing: static/vendor/{item['path']}")
            elif sha256(path.read_bytes()) != item["sha256"]:
                problems.append(f"sha256 differs: static/vendor/{item['path']}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--upgrade", action="store_true", help="take the newest release of each major"
    )
    mode.add_argument(
        "--check", action="store_true", help="verify files against the manifest, offline"
    )
    parser.add_argument("names", nargs="*", help="only these libraries (default: all)")
    args = parser.parse_args(argv)

    manifest = load_manifest()
    if args.check:
        problems = check(manifest)
        for problem in problems:
            print(problem, file=sys.stderr)
        print(
            "vendored files match the manifest" if not problems else f"{len(problems)} problem(s)"
        )
        return 1 if problems else 0

    known = {lib.name for lib in LIBRARIES}
    unknown = set(args.names) - known
    if unknown:
        parser.error(
            f"unknown libraries: {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})"
        )
    pinned = {entry["name"]: entry for entry in manifest.get("libraries", [])}
    entries = []
    for lib in LIBRARIES:
        current = pinned.get(lib.name)
        if args.names and lib.name not in args.names:
            if current:
                entries.append(current)
            continue
        if current and not args.upgrade and _version_key(current["version"])[0] == lib.major:
            version = current["version"]
        else:
            version = newest_in_major(lib.package, lib.major)
        entries.append(fetch_library(lib, version))

    VENDOR_DIR.mkdir(parents=True, exist_ok=True)
    for path in VENDOR_DIR.iterdir():
        if path.is_dir() and path.name not in known:
            print(
                f"note: static/vendor/{path.name}/ is not in the manifest; remove it or add it here"
            )
    manifest = {
        "comment": "Written by scripts/vendor_static.py; do not edit by hand.",
        "registry": REGISTRY,
        "libraries": entries,
    }
    MANIFEST.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    problems = check(manifest)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    for entry in entries:
        print(f"  {entry['name']:<9} {entry['package']}@{entry['version']} ({entry['license']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
