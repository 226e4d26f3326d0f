"""Demo data of the value part (``seed(workspace=, users=)``), called by ``demo.py``."""
