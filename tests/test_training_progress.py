"""A training's progress notifications: rising, the first and the last of each phase at once, in between at
most one per TRAINING_PROGRESS_INTERVAL.  The engine reports every 0.05 s, and the training thread waits for each notification to go through
the event loop (3-5 ms each on a busy machine), so they are thinned out (a fake clock here, no waiting)."""

from __future__ import annotations

from server.service import TRAINING_PROGRESS_INTERVAL, _training_progress


def sent_percentages(reports: list[tuple[float, str, int, int]]) -> list[float]:
    """The percentages sent for ``(time, phase, done, total)`` reports."""
    now = [0.0]
    sent = []
    report = _training_progress(lambda percent, total, message: sent.append(percent), clock=lambda: now[0])
    for now[0], phase, done, total in reports:
        report(phase, done, total)
    return sent


def test_a_long_training_sends_progress_every_interval_and_at_the_start_and_end_of_each_phase():
    assert TRAINING_PROGRESS_INTERVAL == 0.5  # what the sends expected below assume
    counting = [(done / 1000, "counting", done * 1000, 1_000_000) for done in range(1001)]  # 1 s
    merging = [(1 + merges / 1000, "merging", merges, 2000) for merges in range(2001)]  # 2 s
    # Merging starts at 20% (merge 0 is no rise); its first merge is sent at once, then every 0.5 s.
    assert sent_percentages(counting + merging) == [0, 10, 20, 20.04, 40.04, 60.04, 80.04, 100]


def test_a_short_training_still_sends_the_end_of_each_phase():
    reports = [(0.0, "counting", 0, 100), (0.01, "counting", 100, 100), (0.02, "merging", 3, 10),
               (0.03, "merging", 10, 10)]
    assert sent_percentages(reports) == [0, 20, 44, 100]
