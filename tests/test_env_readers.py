"""Settings readers: an empty value (``NAME=`` in a copied .env) counts as unset."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from primer_sf.env import env, envbool, envchoice, envint, envlist, envsecret


def test_empty_values_fall_back_to_the_default(monkeypatch):
    for name in ("A", "B", "C"):
        monkeypatch.setenv(name, "")
    assert env("A", "fallback") == "fallback"
    assert envlist("B", "x,y") == ["x", "y"]
    assert envsecret("C", "secret") == "secret"
    assert envbool("A", True) is True
    assert envint("A", 7) == 7


def test_secrets_can_come_from_a_file(monkeypatch, tmp_path):
    path = tmp_path / "secret"
    path.write_text("from-file\n")
    monkeypatch.setenv("TOKEN_FILE", str(path))
    assert envsecret("TOKEN") == "from-file"


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_a_boolean_that_is_not_true_or_false_is_refused(monkeypatch, value):
    monkeypatch.setenv("FLAG", value)
    with pytest.raises(ImproperlyConfigured, match="true or false"):
        envbool("FLAG", False)


def test_a_choice_accepts_its_words_in_any_case_and_refuses_others(monkeypatch):
    monkeypatch.setenv("MODE", "REST")
    assert envchoice("MODE", ("auto", "rest"), "auto") == "rest"
    monkeypatch.setenv("MODE", "")
    assert envchoice("MODE", ("auto", "rest"), "auto") == "auto"
    monkeypatch.setenv("MODE", "bulk")
    with pytest.raises(ImproperlyConfigured, match="one of auto, rest, not 'bulk'"):
        envchoice("MODE", ("auto", "rest"), "auto")
