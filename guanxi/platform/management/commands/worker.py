"""``guanxi worker``: the background job worker (Huey's consumer with the project's settings).

Every option of ``run_huey`` passes through, e.g. ``guanxi worker -w 4 -k thread`` or
``guanxi worker --no-periodic`` on all but one machine, so periodic tasks (the stuck-job
sweeper among them) are enqueued once.
"""

import logging

from huey.contrib.djhuey.management.commands.run_huey import Command as RunHueyCommand


class Command(RunHueyCommand):
    help = (
        "Run the background job worker. Options are Huey's: -w WORKERS, -k thread|process, "
        "--no-periodic (on every worker machine but one), -f/--flush-locks, ..."
    )

    def handle(self, *args, **options):
        # The consumer gives the "huey" logger a handler of its own; without this, the
        # project's root console handler would print every line a second time.
        logging.getLogger("huey").propagate = False
        return super().handle(*args, **options)
