"""Demo data of the forecast part (``seed(workspace=, users=, rng=)``), called by ``demo.py``."""
