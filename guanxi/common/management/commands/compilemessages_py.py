"""``guanxi compilemessages_py``: compile the translation catalogs without GNU gettext.

Django's own ``compilemessages`` shells out to ``msgfmt``; this does the same with polib,
so a server needs nothing but the Python dependencies. Fuzzy and untranslated entries are
left out of the .mo file (as msgfmt does), so they show the English msgid.
"""

from __future__ import annotations

import os
import site
import sys
import tempfile
from pathlib import Path

import polib
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def catalog_dirs() -> list[Path]:
    """``LOCALE_PATHS`` and the ``locale`` folders of the project's own apps.

    Installed packages (Django, django-axes, ...) ship compiled catalogs of their own and
    are left alone, even when the virtualenv lives inside the project folder.
    """
    dirs = [Path(p) for p in settings.LOCALE_PATHS]
    base = Path(settings.BASE_DIR).resolve()
    installed = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, *site.getsitepackages())}
    for config in apps.get_app_configs():
        path = Path(config.path).resolve() / "locale"
        if (
            base in path.parents
            and not installed & set(path.parents)
            and "site-packages" not in path.parts
            and path.is_dir()
        ):
            dirs.append(path)
    seen: list[Path] = []
    for d in dirs:
        if d.resolve() not in seen:
            seen.append(d.resolve())
    return seen


class Command(BaseCommand):
    help = "Compile every .po translation catalog to .mo with polib (no gettext needed)."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--locale",
            "-l",
            action="append",
            default=[],
            help="only this locale (e.g. zh_Hans); repeat for several",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="write nothing; fail when a .mo is missing or older than its .po",
        )

    def handle(self, *args, locale, check, **options):
        stale: list[Path] = []
        compiled = 0
        for directory in catalog_dirs():
            for po_path in sorted(directory.glob("*/LC_MESSAGES/*.po")):
                if locale and po_path.parts[-3] not in locale:
                    continue
                mo_path = po_path.with_suffix(".mo")
                if check:
                    if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
                        stale.append(po_path)
                    continue
                try:
                    catalog = polib.pofile(str(po_path))
                except (OSError, ValueError) as exc:
                    raise CommandError(f"{po_path}: {exc}") from exc
                # Write beside it and rename, so a running server never reads half a file.
                fd, tmp = tempfile.mkstemp(dir=po_path.parent, suffix=".mo.tmp")
                os.close(fd)
                try:
                    catalog.save_as_mofile(tmp)
                    os.replace(tmp, mo_path)
                finally:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
                compiled += 1
                if options["verbosity"] >= 2:
                    self.stdout.write(
                        f"{po_path} -> {mo_path.name} "
                        f"({len(catalog.translated_entries())} translated)"
                    )
        if check:
            if stale:
                raise CommandError(
                    "catalogs not compiled: "
                    + ", ".join(str(p) for p in stale)
                    + "; run `guanxi compilemessages_py`"
                )
            self.stdout.write("compiled catalogs are up to date")
            return
        self.stdout.write(f"compiled {compiled} catalog(s)")
