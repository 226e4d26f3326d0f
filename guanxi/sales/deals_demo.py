"""Demo data of the deals part (``seed(workspace=, users=, rng=)``), called by ``demo.py``."""
