"""Elapsed time and the estimate of the remainder shown beside every long run (#16 item 3)."""

from omicsgat.progress import Stopwatch, clock_text, eta_text


def test_clock_text():
    assert clock_text(0) == "0:00"
    assert clock_text(42.4) == "0:42"
    assert clock_text(70) == "1:10"
    assert clock_text(3725) == "1:02:05"


def test_eta_extrapolates_the_pace_so_far():
    assert eta_text(0.375, 42) == "elapsed 0:42, about 1:10 left"
    assert eta_text(0.5, 600) == "elapsed 10:00, about 10:00 left"


def test_eta_says_nothing_it_cannot_know():
    assert eta_text(0.0, 10) == "elapsed 0:10"  # no progress yet: no guess
    assert eta_text(0.5, 1) == "elapsed 0:01"  # too early to extrapolate
    assert eta_text(1.0, 30) == "elapsed 0:30"
    assert eta_text(float("nan"), 30) == "elapsed 0:30"


def test_stopwatch_uses_its_clock():
    now = [100.0]
    watch = Stopwatch(lambda: now[0])
    now[0] = 130.0
    assert watch.elapsed == 30.0
    assert watch.text(0.25) == "elapsed 0:30, about 1:30 left"


def test_terminal_bar_shows_elapsed_and_remaining(capsys):
    from omicsgat.cli._common import TerminalProgress

    bar = TerminalProgress(desc="prognosis")
    bar.watch.started -= 42
    bar(0.375, "fold 2/5")
    bar.close()
    err = capsys.readouterr().err
    assert "elapsed 0:42, about 1:10 left" in err and "fold 2/5" in err
