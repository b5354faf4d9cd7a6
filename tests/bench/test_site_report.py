"""The site-responsiveness part (bench/site_load.py): its statistics and its report section."""

from bench import report, site_load


def test_p95_is_the_95th_percentile_of_the_samples():
    stats = site_load._stats([i / 1000 for i in range(1, 101)])
    assert stats == {"n": 100, "p50_ms": 50, "p95_ms": 95, "max_ms": 100}


def test_the_report_has_a_site_section_with_every_phase():
    site = {
        "database": "sqlite", "list_rows": 120_000, "list_bytes": 22 * 2**20,
        "import_and_match_seconds": 41.0, "list_status": "ready", "matched_rows": 60_000,
        "valid_rows": 120_000, "evaluation_seconds": 20.5, "audience_status": "ready",
        "audience_size": 20_000, "load_average_at_start": 5.1, "load_average_at_end": 6.0,
        "error_count": 0,
        "requests": {"import+match sign-in": {"n": 30, "p50_ms": 500, "p95_ms": 900,
                                              "max_ms": 1200}},
    }  # fmt: skip
    text = report._site({"site": site})
    joined = "\n".join(text)
    assert "## Site responsiveness" in joined
    assert "imported and matched in 41.0 s" in joined
    assert "| import+match sign-in | 30 | 500 | 900 | 1200 |" in joined
    assert report._site({}) == []


def test_the_csv_is_about_170_bytes_a_row(tmp_path):
    size = site_load.csv_file(tmp_path / "l.csv", 1000)
    assert 150_000 < size < 200_000
