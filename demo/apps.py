"""The demo app: ``manage.py demo`` and its story. It sits above connections, ingestion and
audiences (it drives them as the site and the worker do) and runs the emulator; no app imports it.
"""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "demo"
    verbose_name = "Demo"
