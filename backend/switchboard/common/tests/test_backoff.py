from switchboard.common.backoff import backoff_seconds


def test_doubles_from_the_base_up_to_the_cap():
    assert [backoff_seconds(step, base=1, cap=10) for step in range(6)] == [1, 2, 4, 8, 10, 10]


def test_retry_after_wins_when_longer_but_never_passes_the_cap():
    assert backoff_seconds(0, base=1, cap=300, retry_after=20) == 20
    assert backoff_seconds(0, base=1, cap=300, retry_after=900) == 300
    assert backoff_seconds(3, base=1, cap=300, retry_after=2) == 8


def test_jitter_stays_in_the_upper_half_of_the_wait():
    waits = {backoff_seconds(4, base=30, cap=1800, jitter=True) for _ in range(200)}
    assert all(240 <= wait <= 480 for wait in waits)
    assert len(waits) > 1  # spread out, not one fixed value
