"""Demo data of the orders part (``seed(workspace=, users=, rng=)``), called by ``demo.py``."""
