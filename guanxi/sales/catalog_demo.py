"""Demo data of the catalog part (``seed(workspace=, users=, rng=)``), called by ``demo.py``."""
