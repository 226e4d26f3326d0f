"""Demo data of the quotes part (``seed(workspace=, users=, rng=)``), called by ``demo.py``."""
