"""What the stand-alone benchmark scripts share: Django set up on the benchmark's own
database (created with the right collation on PostgreSQL, migrated), and percentiles.

The scripts run as ``.venv/bin/python bench/<name>.py``, so they import this as ``harness``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(database_url: str, *, cache_table: bool = True) -> None:
    """Point Django at ``database_url`` (a ``sqlite:///`` path or a ``postgres://`` URL),
    create the database if it is missing, and migrate it."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    if database_url.startswith("postgres"):
        subprocess.run(
            [sys.executable, "scripts/pg_test_db.py", "--url", database_url, "ensure"],
            cwd=ROOT,
            env=os.environ,
            check=True,
        )
    else:
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if cache_table:
        call_command("createcachetable", verbosity=0)


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0–1) of ``values``, interpolated between the two nearest ranks."""
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
