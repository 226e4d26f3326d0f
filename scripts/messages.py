#!/usr/bin/env python3
"""Translation catalogs of guanxi: zh_Hans, zh_Hant and en, one catalog under locale/.

    python scripts/messages.py extract   # refresh locale/*/LC_MESSAGES/django.po from the source
    python scripts/messages.py check     # list what is missing, untranslated or fuzzy
    python scripts/messages.py compile   # .po -> .mo with polib (same as `guanxi compilemessages_py`)

``extract`` and ``check`` need GNU gettext's xgettext/msgmerge (Debian: ``apt-get install
gettext``); ``compile`` and running the site do not. See docs/translations.md.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "locale"
LOCALES = ("zh_Hans", "zh_Hant", "en")
# Every msgid must have a reviewed translation here; en falls back to the msgid itself.
STRICT_LOCALES = ("zh_Hans", "zh_Hant")
DOMAIN = "django"
# Not scanned for messages: environments, data, vendored code, tests, tooling.
IGNORE = (".venv", "var", "static/vendor", "node_modules", "tests", "bench", "scripts", "docs")
GETTEXT_TOOLS = ("xgettext", "msgmerge", "msguniq", "msgattrib")
SETTINGS = "config.settings.test"


def missing_gettext_tools() -> list[str]:
    return [tool for tool in GETTEXT_TOOLS if shutil.which(tool) is None]


def makemessages_args(locales: tuple[str, ...] = LOCALES) -> list[str]:
    args = ["makemessages", "--domain", DOMAIN, "--add-location", "file"]
    for locale in locales:
        args += ["--locale", locale]
    for pattern in IGNORE:
        args += ["--ignore", pattern]
    return args


def _run_manage(args: list[str], *, cwd: Path, quiet: bool = False) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("MESSAGES_SETTINGS", SETTINGS)}
    result = subprocess.run(
        [sys.executable, str(cwd / "manage.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=quiet,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        detail = (result.stderr or "") if quiet else ""
        raise SystemExit(f"manage.py {args[0]} failed ({result.returncode})\n{detail}")


def extract() -> None:
    """Refresh the committed catalogs: new msgids added (empty), changed ones fuzzy."""
    missing = missing_gettext_tools()
    if missing:
        raise SystemExit(f"GNU gettext is missing ({', '.join(missing)}): apt-get install gettext")
    _run_manage(makemessages_args(), cwd=ROOT)


def _ignored(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(rel, p) for p in IGNORE)


def _copy_sources(dest: Path) -> None:
    """The files makemessages reads (python, templates, text), without the ignored ones."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = set()
        rel_dir = Path(directory).relative_to(ROOT).as_posix()
        for name in names:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            path = Path(directory) / name
            unwanted_dir = name.startswith(".") or name in ("__pycache__", "locale")
            not_source = path.is_file() and path.suffix not in (".py", ".html", ".txt")
            if unwanted_dir or not_source or _ignored(rel):
                skipped.add(name)
        return skipped

    shutil.copytree(ROOT, dest, ignore=ignore)


def fresh_template(workdir: Path) -> Path:
    """Extract the current source's messages into a POT file under ``workdir``, leaving
    the committed catalogs alone."""
    src = workdir / "src"
    _copy_sources(src)
    _run_manage([*makemessages_args(("en",)), "--keep-pot"], cwd=src, quiet=True)
    return src / "locale" / f"{DOMAIN}.pot"


_NAMED = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
_POSITIONAL = re.compile(r"%(?!\()[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
_BRACE = re.compile(r"(?<!\{)\{(\w*)[^{}]*\}(?!\})")


def _placeholders(text: str, flags: list[str]) -> tuple[list[str], int]:
    if "python-brace-format" in flags:
        return sorted(_BRACE.findall(text)), 0
    if "python-format" in flags:
        clean = text.replace("%%", "")
        return sorted(_NAMED.findall(clean)), len(_POSITIONAL.findall(clean))
    return [], 0


def _translations(entry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[k] for k in sorted(entry.msgstr_plural)] or [""]
    return [entry.msgstr]


def _where(entry) -> str:
    return f" ({entry.occurrences[0][0]})" if entry.occurrences else ""


def catalog_problems(pot_path: Path, locale_dir: Path = LOCALE_DIR) -> list[str]:
    """Everything wrong with the committed catalogs against a fresh POT: missing files or
    msgids, untranslated or fuzzy entries (zh_Hans, zh_Hant), broken placeholders."""
    import polib

    pot = polib.pofile(str(pot_path))
    wanted = {(e.msgctxt, e.msgid): e for e in pot if not e.obsolete and e.msgid}
    problems: list[str] = []
    for locale in LOCALES:
        po_path = locale_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
        rel = (
            po_path.relative_to(locale_dir.parent)
            if locale_dir.parent in po_path.parents
            else po_path
        )
        if not po_path.exists():
            problems.append(f"{rel}: missing; run `python scripts/messages.py extract`")
            continue
        po = polib.pofile(str(po_path))
        plural_forms = po.metadata.get("Plural-Forms", "")
        if "INTEGER" in plural_forms or "nplurals" not in plural_forms:
            problems.append(f"{rel}: the header has no valid Plural-Forms ({plural_forms!r})")
        entries = {(e.msgctxt, e.msgid): e for e in po if not e.obsolete}
        strict = locale in STRICT_LOCALES
        for key, source in wanted.items():
            label = repr(key[1]) if key[0] is None else f"{key[0]}|{key[1]!r}"
            entry = entries.get(key)
            if entry is None:
                problems.append(
                    f"{locale}: not extracted yet (run extract): {label}{_where(source)}"
                )
                continue
            fuzzy = "fuzzy" in entry.flags
            texts = _translations(entry)
            if strict and fuzzy:
                problems.append(f"{locale}: fuzzy: {label}{_where(source)}")
            elif strict and not all(texts):
                problems.append(f"{locale}: untranslated: {label}{_where(source)}")
            if fuzzy:
                continue
            names, positional = _placeholders(entry.msgid, entry.flags)
            if entry.msgid_plural:
                plural_names, plural_positional = _placeholders(entry.msgid_plural, entry.flags)
                names, positional = (
                    sorted(set(names) | set(plural_names)),
                    max(positional, plural_positional),
                )
            for text in filter(None, texts):
                t_names, t_positional = _placeholders(text, entry.flags)
                if not set(t_names) <= set(names) or (positional and t_positional != positional):
                    problems.append(
                        f"{locale}: placeholders differ from the msgid: {label} -> {text!r}"
                    )
    return problems


def check() -> list[str]:
    missing = missing_gettext_tools()
    if missing:
        raise SystemExit(f"GNU gettext is missing ({', '.join(missing)}): apt-get install gettext")
    with tempfile.TemporaryDirectory(prefix="guanxi-messages-") as tmp:
        return catalog_problems(fresh_template(Path(tmp)))


def compile_all() -> None:
    _run_manage(["compilemessages_py"], cwd=ROOT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("extract", "check", "compile"))
    args = parser.parse_args(argv)
    if args.action == "extract":
        extract()
    elif args.action == "compile":
        compile_all()
    else:
        problems = check()
        print("\n".join(problems) if problems else "catalogs are complete and up to date")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
