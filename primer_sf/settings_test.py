"""Test settings: the real settings, made fast and deterministic."""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "x" * 48)
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "9xcTFSjGeb_Wwfi-3fT8zdNgaUw4WeaQAMSJ76vjs7g=")
os.environ.setdefault("SALESFORCE_CLIENT_ID", "test-client-id")
os.environ.setdefault("SALESFORCE_CLIENT_SECRET", "test-client-secret")
os.environ.setdefault("SALESFORCE_LOGIN_URL", "https://login.salesforce.com")
os.environ.setdefault("SALESFORCE_SANDBOX_LOGIN_URL", "https://test.salesforce.com")
os.environ.setdefault("SALESFORCE_ALLOWED_INSTANCE_HOSTS", ".salesforce.com,.force.com,127.0.0.1")
# The emulator listens on http://127.0.0.1 (the only place plain http may carry a token).
os.environ.setdefault("SALESFORCE_INSECURE_LOOPBACK", "true")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
# Tests never talk to a broker: the ORM one is configured and tasks run inline (sync=True).
os.environ.pop("REDIS_URL", None)

from primer_sf.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
Q_CLUSTER = {**Q_CLUSTER, "sync": True}  # noqa: F405
SECURE_SSL_REDIRECT = False  # the test client speaks plain http
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
