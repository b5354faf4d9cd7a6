"""A load's Bulk pages parsed partly in a helper process (ingestion/engine/helper_process.py,
readers.CsvPage.copy_lines): the same COPY lines as the worker makes alone, for any page,
whether the helper answers, fails a chunk, or dies."""

from __future__ import annotations

import csv
import io
import os
import signal
import sys
from collections import Counter
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingestion.engine import helper_process
from ingestion.engine.helper_process import HelperGone, HelperProcess, shared_helper
from ingestion.engine.readers import CsvPage, chunk_copy_lines, record_chunks, records_from_csv
from ingestion.engine.records import LineMaker, batches
from tests.ingestion.test_readers_property import PLAN, pages

MAKER = LineMaker(7, "Contact", 3, datetime(2026, 12, 2, tzinfo=UTC))


def _lines(page: str):
    return iter(io.StringIO(page, newline=""))


def _alone(page: str, size: int) -> list[tuple]:
    """The worker's COPY lines for the page without a helper, as comparable tuples."""
    made = MAKER.lines(batches(records_from_csv(_lines(page), PLAN), size))
    return [(b.read, b.deleted, b.rows, b.text) for b in made]


def _split(page: str, size: int) -> list[tuple]:
    made = CsvPage(_lines(page), PLAN).copy_lines(MAKER, size)
    return [(b.read, b.deleted, b.rows, b.text) for b in made]


cells = st.text(alphabet=st.sampled_from('ab"\n\r,;\x00é'), max_size=6)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.lists(cells, min_size=3, max_size=3), max_size=12),
    size=st.integers(1, 5),
    quoting=st.sampled_from([csv.QUOTE_ALL, csv.QUOTE_MINIMAL]),
)
def test_chunks_hold_whole_records_and_lose_nothing(rows, size, quoting):
    out = io.StringIO(newline="")
    csv.writer(out, quoting=quoting, lineterminator="\n").writerows(rows)
    body = out.getvalue()
    chunks = list(record_chunks(_lines(body), size))
    assert "".join(chunks) == body
    parsed = [list(csv.reader(io.StringIO(chunk, newline=""))) for chunk in chunks]
    assert [row for rows_of in parsed for row in rows_of] == list(
        csv.reader(io.StringIO(body, newline=""))
    )
    assert all(len(each) == size for each in parsed[:-1])
    assert not parsed or 0 < len(parsed[-1]) <= size


@settings(max_examples=150, deadline=None)
@given(page=pages(), size=st.integers(1, 4))
def test_a_page_split_with_the_helper_makes_the_lines_the_worker_makes_alone(page, size):
    try:
        expected = _alone(page, size)
    except Exception:  # a page the worker refuses: a bad value, no stamp
        # Refused too, by whichever batch is made first (an error of that batch's kind).
        with pytest.raises((ValueError, TypeError, AttributeError)):
            _split(page, size)
        return
    # The same batches (records in page order within each); the helper's may come later.
    assert Counter(_split(page, size)) == Counter(expected)


def _page(rows: int) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(["Id", "SystemModstamp", "Name"])
    for n in range(rows):
        writer.writerow([f"003{n:015d}", "2026-01-02T09:00:00.000Z", f"line one\nline {n}"])
    return out.getvalue()


def _sent_to_helper(monkeypatch):
    sent = []
    real_submit = HelperProcess.submit

    def submit(self, function, *args):
        sent.append(self._process.pid)
        return real_submit(self, function, *args)

    monkeypatch.setattr(HelperProcess, "submit", submit)
    return sent


def test_the_helper_makes_some_of_a_pages_batches(monkeypatch):
    sent = _sent_to_helper(monkeypatch)
    page = _page(40)
    assert Counter(_split(page, 4)) == Counter(_alone(page, 4))
    assert len(sent) >= 2  # from the third chunk on


def test_a_page_of_two_batches_or_fewer_starts_no_helper(monkeypatch):
    sent = _sent_to_helper(monkeypatch)
    started = []
    monkeypatch.setattr(helper_process, "HelperProcess", lambda: started.append(1))
    monkeypatch.setattr(helper_process, "_shared", None)
    page = _page(8)
    assert Counter(_split(page, 4)) == Counter(_alone(page, 4))
    assert sent == []
    assert started == []


def test_a_helper_killed_mid_page_leaves_its_chunks_to_the_worker(monkeypatch):
    helper = shared_helper()
    real_submit = HelperProcess.submit

    def submit_then_die(self, function, *args):
        future = real_submit(self, function, *args)
        os.kill(self._process.pid, signal.SIGKILL)
        return future

    monkeypatch.setattr(HelperProcess, "submit", submit_then_die)
    page = _page(30)
    assert Counter(_split(page, 4)) == Counter(_alone(page, 4))
    monkeypatch.setattr(HelperProcess, "submit", real_submit)
    helper._process.wait(timeout=10)
    assert shared_helper() is not helper  # the next page starts another
    assert shared_helper().alive


def test_a_chunk_the_helper_cannot_read_raises_the_readers_error_in_the_worker():
    page = _page(6) + '"003000000000000099","2026-01-02T09:00:00.000Z"\n'  # a field short
    with pytest.raises(ValueError, match="a row of 2 fields under a header of 3"):
        _split(page, 2)
    assert shared_helper().alive  # the helper answered with the error and goes on


def test_the_helper_runs_the_same_function_as_the_worker():
    header_and_rows = _page(5)
    answer = shared_helper().submit(chunk_copy_lines, PLAN, header_and_rows, MAKER, 2).result()
    assert answer == chunk_copy_lines(PLAN, header_and_rows, MAKER, 2)


class TwoPartError(Exception):
    """An error whose __init__ wants more than its message: it pickles, but does not unpickle."""

    def __init__(self, message, row):
        super().__init__(message)
        self.row = row


def fails_with_two_parts():
    raise TwoPartError("bad", 3)


def test_an_error_the_worker_could_not_unpickle_comes_back_as_helper_gone():
    helper = shared_helper()
    with pytest.raises(HelperGone, match="could not say what failed"):
        helper.submit(fails_with_two_parts).result(timeout=30)
    assert helper.alive  # its answers still flow
    assert helper.submit(chunk_copy_lines, PLAN, _page(3), MAKER, 2).result(timeout=30)


def test_arguments_that_do_not_pickle_are_left_to_the_caller():
    helper = shared_helper()
    with pytest.raises(HelperGone, match="not sent to the helper"):
        helper.submit(chunk_copy_lines, PLAN, _page(3), lambda: None, 2).result(timeout=1)
    assert helper._pending == {}
    assert helper.alive


def test_an_answer_this_process_cannot_read_fails_every_caller_instead_of_hanging(monkeypatch):
    helper = HelperProcess()
    monkeypatch.setattr(helper_process.pickle, "loads", _raise_memory_error)
    try:
        with pytest.raises(HelperGone):
            helper.submit(chunk_copy_lines, PLAN, _page(3), MAKER, 2).result(timeout=30)
        assert not helper.alive
    finally:
        monkeypatch.undo()
        helper.close()


def _raise_memory_error(data):
    raise MemoryError


def test_a_closed_helper_exits_and_fails_what_it_had_not_answered():
    helper = HelperProcess()
    helper.close()
    assert helper._process.returncode == 0
    with pytest.raises(HelperGone):
        helper.submit(chunk_copy_lines, PLAN, _page(2), MAKER, 2).result(timeout=10)


def test_an_idle_helper_exits_on_its_own(monkeypatch, tmp_path):
    # The child's idle limit, from its module: a copy with a short one.
    script = tmp_path / "short_idle.py"
    script.write_text(
        "import ingestion.engine.helper_process as h\nh.IDLE_SECONDS = 0.5\nh.serve()\n"
    )
    monkeypatch.setattr(
        helper_process.subprocess,
        "Popen",
        _popen_running(script, helper_process.subprocess.Popen),
    )
    helper = HelperProcess()
    assert helper._process.wait(timeout=30) == 0
    with pytest.raises(HelperGone):
        helper.submit(chunk_copy_lines, PLAN, _page(2), MAKER, 2).result(timeout=10)
    assert not helper.alive


def _popen_running(script, real_popen):
    def popen(argv, **kwargs):
        return real_popen([sys.executable, str(script)], **kwargs)

    return popen
