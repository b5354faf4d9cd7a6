"""Developer scripts (stdlib only): ``run_all.py`` is ``make run``."""
