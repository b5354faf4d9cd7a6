"""``python -m bench --tls``: the emulated orgs serve HTTPS and everything of ours trusts them."""

import os

import requests

from bench.cli import build_parser, options_from
from bench.org import CA_BUNDLE, BenchOrg


def test_the_tls_option_reaches_every_org_of_the_run(tmp_path):
    args = build_parser().parse_args(["--quick", "--tls"])
    assert options_from(args, tmp_path).tls is True
    assert options_from(build_parser().parse_args(["--quick"]), tmp_path).tls is False


def test_a_tls_bench_org_serves_https_trusted_through_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(CA_BUNDLE, raising=False)
    org = BenchOrg(profile="tiny", log_dir=tmp_path, tls=True)
    assert org.emulator.base_url.startswith("https://127.0.0.1:")
    with org:
        assert os.environ[CA_BUNDLE] == str(org.emulator.cert_file)
        assert org.control.summary()["profile"] == "tiny"  # the control API, verified
        versions = requests.get(f"{org.emulator.base_url}/services/data/", timeout=10)
        assert versions.status_code == 200
        assert "--tls" in org.emulator.argv()
    assert CA_BUNDLE not in os.environ
