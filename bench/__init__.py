"""The whole-pipeline benchmark (``python -m bench``, ``make bench``): see README.md here."""
