"""A model field that keeps its text encrypted at rest (Fernet, key from settings)."""

import logging
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

logger = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _fernet_for(keys: str) -> MultiFernet:
    # The first key encrypts; every key decrypts, so keys can be rotated without downtime.
    return MultiFernet([Fernet(key.strip().encode()) for key in keys.split(",") if key.strip()])


def fernet() -> MultiFernet:
    """The MultiFernet for the configured FIELD_ENCRYPTION_KEY."""
    return _fernet_for(settings.FIELD_ENCRYPTION_KEY)


class EncryptedTextField(models.TextField):
    """Text encrypted with Fernet before it reaches the database.

    Empty values stay empty (nothing to hide, and "no token" must stay visible as such). A value
    that cannot be decrypted (the key was changed without rotation) reads back as empty, which
    the connection then reports as needing reauthorisation; the ciphertext is never logged.
    """

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return fernet().encrypt(value.encode()).decode()

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        try:
            return fernet().decrypt(value.encode()).decode()
        except InvalidToken:
            logger.error("Could not decrypt %s: was FIELD_ENCRYPTION_KEY changed?", self.name)
            return ""
