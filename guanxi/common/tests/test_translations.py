"""Every user-visible string is translated into zh-Hans and zh-Hant, and the committed
catalogs are up to date with the source (the rule of the house; docs/translations.md)."""

from __future__ import annotations

import gettext
import importlib.util
import sys
import textwrap
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError


def _load_script():
    path = settings.BASE_DIR / "scripts" / "messages.py"
    spec = importlib.util.spec_from_file_location("guanxi_messages_script", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


messages = _load_script()
_missing_tools = messages.missing_gettext_tools()
needs_gettext = pytest.mark.skipif(
    bool(_missing_tools),
    reason=(
        f"GNU gettext is not installed (no {', '.join(_missing_tools)}): cannot extract "
        "messages; apt-get install gettext"
    ),
)


@pytest.fixture(scope="module")
def fresh_pot(tmp_path_factory) -> Path:
    return messages.fresh_template(tmp_path_factory.mktemp("messages"))


@needs_gettext
def test_catalogs_are_complete_and_up_to_date(fresh_pot):
    problems = messages.catalog_problems(fresh_pot)
    assert not problems, (
        f"{len(problems)} translation problem(s); run `python scripts/messages.py extract`, "
        "translate, then `python scripts/messages.py check`:\n  " + "\n  ".join(problems)
    )


@needs_gettext
def test_extraction_sees_python_and_templates_but_not_tests(fresh_pot):
    msgids = {e.msgid for e in polib.pofile(str(fresh_pot))}
    assert "Not found." in msgids  # guanxi/common/errors.py
    assert "Open the result" in msgids  # templates/components/progress.html
    assert not any("secret internal detail" in m for m in msgids)
    occurrences = {o[0] for e in polib.pofile(str(fresh_pot)) for o in e.occurrences}
    assert not any("/tests/" in o or o.startswith(("static/vendor", ".venv")) for o in occurrences)


# --- the checker and the compiler themselves (no gettext needed) -------------------------

POT = """\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

#: a.py
msgid "Hello"
msgstr ""

#: a.py
#, python-format
msgid "%(count)s rows"
msgstr ""

#: b.html
msgid "New"
msgstr ""

#: c.py
msgid "Only in the source"
msgstr ""
"""


def _po(plural_forms: str, body: str) -> str:
    return textwrap.dedent(
        f"""\
        msgid ""
        msgstr ""
        "Content-Type: text/plain; charset=UTF-8\\n"
        "Plural-Forms: {plural_forms}\\n"

        """
    ) + textwrap.dedent(body)


def test_catalog_problems_lists_each_kind_of_problem(tmp_path):
    pot = tmp_path / "django.pot"
    pot.write_text(POT, encoding="utf-8")
    locale = tmp_path / "locale"
    good = """\
        msgid "Hello"
        msgstr "你好"

        #, python-format
        msgid "%(count)s rows"
        msgstr "%(count)s 行"

        msgid "New"
        msgstr "新建"

        msgid "Only in the source"
        msgstr "只在源码里"
        """
    hans = """\
        msgid "Hello"
        msgstr ""

        #, python-format
        msgid "%(count)s rows"
        msgstr "%(rows)s 行"

        #, fuzzy
        msgid "New"
        msgstr "新"
        """
    for name, text in {
        "zh_Hans": _po("nplurals=1; plural=0;", hans),
        "zh_Hant": _po("nplurals=1; plural=0;", good),
        "en": _po("nplurals=2; plural=(n != 1);", 'msgid "Hello"\nmsgstr ""\n'),
    }.items():
        path = locale / name / "LC_MESSAGES" / "django.po"
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8")

    problems = messages.catalog_problems(pot, locale)
    joined = "\n".join(problems)
    assert "zh_Hans: untranslated: 'Hello' (a.py)" in problems
    assert "zh_Hans: fuzzy: 'New' (b.html)" in problems
    assert "zh_Hans: not extracted yet (run extract): 'Only in the source' (c.py)" in problems
    assert "zh_Hans: placeholders differ from the msgid: '%(count)s rows'" in joined
    assert "zh_Hant" not in joined
    # en may leave msgstr empty, but must still carry every msgid.
    assert "en: untranslated" not in joined
    assert "en: not extracted yet (run extract): 'New' (b.html)" in problems


def test_catalog_problems_reports_a_missing_catalog(tmp_path):
    pot = tmp_path / "django.pot"
    pot.write_text(POT, encoding="utf-8")
    problems = messages.catalog_problems(pot, tmp_path / "locale")
    assert len(problems) == 3 and all("missing" in p for p in problems)


def test_compilemessages_py_builds_mo_files_without_gettext(tmp_path, settings):
    po_path = tmp_path / "zh_Hans" / "LC_MESSAGES" / "django.po"
    po_path.parent.mkdir(parents=True)
    po_path.write_text(
        _po(
            "nplurals=1; plural=0;",
            """\
            msgid "Hello"
            msgstr "你好"

            #, fuzzy
            msgid "New"
            msgstr "新"

            msgid "%(n)s row"
            msgid_plural "%(n)s rows"
            msgstr[0] "%(n)s 行"
            """,
        ),
        encoding="utf-8",
    )
    settings.LOCALE_PATHS = [tmp_path]
    with pytest.raises(CommandError):
        call_command("compilemessages_py", "--check", verbosity=0)
    call_command("compilemessages_py", verbosity=0)
    call_command("compilemessages_py", "--check", verbosity=0)

    with open(po_path.with_suffix(".mo"), "rb") as fh:
        catalog = gettext.GNUTranslations(fh)
    assert catalog.gettext("Hello") == "你好"
    assert catalog.gettext("New") == "New"  # fuzzy entries are left out, as msgfmt does
    assert catalog.ngettext("%(n)s row", "%(n)s rows", 5) == "%(n)s 行"


def test_compilemessages_py_leaves_installed_packages_alone():
    from guanxi.common.management.commands.compilemessages_py import catalog_dirs

    dirs = catalog_dirs()
    assert settings.BASE_DIR / "locale" in dirs
    assert not any("site-packages" in d.parts or ".venv" in d.parts for d in dirs)


# Names xgettext extracts from Python (its defaults plus Django's makemessages keywords).
EXTRACTED_NAMES = {
    "_",
    "gettext",
    "ngettext",
    "gettext_lazy",
    "ngettext_lazy",
    "pgettext",
    "npgettext",
    "pgettext_lazy",
    "npgettext_lazy",
    "gettext_noop",
}


def test_translation_functions_keep_names_the_extractor_knows():
    """``from django.utils.translation import gettext as _t`` hides every ``_t("…")`` from
    makemessages: the strings never reach the catalogs and the check above cannot see them."""
    import re

    alias = re.compile(r"from django\.utils\.translation import[^\n]*?\b(\w+) as (\w+)")
    offenders = []
    for path in sorted((settings.BASE_DIR / "guanxi").rglob("*.py")):
        if "tests" in path.parts:  # not extracted anyway
            continue
        for match in alias.finditer(path.read_text(encoding="utf-8")):
            if match.group(2) not in EXTRACTED_NAMES:
                offenders.append(f"{path.relative_to(settings.BASE_DIR)}: {match.group(0)}")
    assert not offenders, "\n".join(offenders)
