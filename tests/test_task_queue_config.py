"""django-q2 is configured explicitly and picks its broker from the environment."""

import json
import subprocess
import sys

SNIPPET = """
import json, django
django.setup()
from django.conf import settings
from django_q.brokers import get_broker
print(json.dumps({"conf": settings.Q_CLUSTER, "broker": type(get_broker()).__name__}))
"""


def _load(**env) -> dict:
    base = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "primer_sf.settings",
        "DEBUG": "true",
    }
    result = subprocess.run(
        [sys.executable, "-c", SNIPPET],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_redis_it_uses_the_orm_broker():
    loaded = _load()
    assert loaded["conf"]["orm"] == "default"
    assert "redis" not in loaded["conf"]
    assert loaded["broker"] == "ORM"


def test_with_redis_url_it_uses_redis():
    loaded = _load(REDIS_URL="redis://127.0.0.1:6379/3")
    assert loaded["conf"]["redis"] == "redis://127.0.0.1:6379/3"
    assert "orm" not in loaded["conf"]
    assert loaded["broker"] == "Redis"


def test_the_cluster_settings_are_explicit_and_safe():
    conf = _load()["conf"]
    assert conf["timeout"] < conf["retry"]
    assert 1 <= conf["max_attempts"] <= 3
    assert conf["catch_up"] is False
    assert conf["save_limit"] > 0


QUEUE_SNIPPET = """
import json, django
django.setup()
from django_q.brokers import get_broker
from django_q.conf import Conf
print(json.dumps({"queue": get_broker().list_key, "workers": Conf.WORKERS}))
"""


def _queue(**env) -> dict:
    base = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "primer_sf.settings",
        "DEBUG": "true",
    }
    result = subprocess.run(
        [sys.executable, "-c", QUEUE_SNIPPET],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_qcluster_per_queue_serves_the_loads_queue_with_its_own_workers():
    loads = {"INGESTION_LOADS_QUEUE": "primer_sf_loads", "Q_WORKERS": "4", "Q_LOADS_WORKERS": "1"}
    assert _queue(**loads) == {"queue": "primer_sf", "workers": 4}
    assert _queue(**loads, Q_CLUSTER_NAME="primer_sf_loads") == {
        "queue": "primer_sf_loads",
        "workers": 1,
    }
