"""Demo data of the leads part (``seed(workspace=, users=, rng=)``), called by ``demo.py``."""
