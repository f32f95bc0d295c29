"""The quota budget every provider call draws from: pacing, refusals, concurrency (pure).

Time is virtual (`tests/support/virtual_time.py`): a wait is a jump of the clock, so
"never more than the limit in any window" is checked over the whole log of draws.
"""

from __future__ import annotations

import threading
import time

from ghostwatch.providers.budget import SHARE, Budget, Window, gmail_user, graph_mailbox
from tests.support.virtual_time import VirtualTime


def _budget(clock: VirtualTime, limit: int = 100, seconds: float = 10.0) -> Budget:
    return Budget("test", (Window(limit, seconds),), clock=clock.now, sleep=clock.sleep)


def _busiest_window(draws: list[tuple[float, int]], seconds: float) -> int:
    return max(sum(u for t, u in draws if start <= t < start + seconds) for start, _ in draws)


def test_draws_beyond_the_limit_wait_for_the_window_instead_of_going_over() -> None:
    clock = VirtualTime()
    budget = _budget(clock)
    draws = []
    for _ in range(30):  # 300 units against 100 in any 10 s (90 aimed at)
        with budget.draw(10):
            draws.append((clock.now(), 10))
    assert _busiest_window(draws, 10.0) <= 100 * SHARE
    assert clock.slept >= 20.0  # three windows' worth takes at least two more windows
    assert budget.spent.units == 300
    assert budget.spent.waited == clock.slept


def test_a_draw_bigger_than_the_window_goes_alone_once_the_window_is_empty() -> None:
    clock = VirtualTime()
    budget = _budget(clock)
    with budget.draw(50):
        pass
    with budget.draw(500):  # could never fit: it waits for an empty window, then goes
        pass
    assert 10.0 <= clock.slept <= 10.1


def test_a_refusal_halves_the_budget_and_holds_every_caller_as_asked() -> None:
    clock = VirtualTime()
    budget = _budget(clock)
    budget.refused(7.0)
    started = clock.now()
    with budget.draw(1):
        pass
    assert clock.now() - started == 7.0
    draws = []
    for _ in range(20):
        with budget.draw(5):
            draws.append((clock.now(), 5))
    assert _busiest_window(draws[:9], 10.0) <= 100 * SHARE / 2 + 5
    assert budget.spent.throttled == 1


def test_the_budget_grows_back_after_a_window_without_refusals() -> None:
    clock = VirtualTime()
    budget = _budget(clock)
    budget.refused(0.0)
    for _ in range(40):
        with budget.draw(5):
            pass
    clock.sleep(10.0)
    started = clock.now()
    for _ in range(18):  # 90 units: a whole budget again, at once
        with budget.draw(5):
            pass
    assert clock.now() == started


def test_a_parent_budget_paces_every_child_together() -> None:
    clock = VirtualTime()
    project = _budget(clock, limit=100)
    users = [
        Budget(n, (Window(1000, 10.0),), parents=[project], clock=clock.now, sleep=clock.sleep)
        for n in ("a", "b")
    ]
    for _ in range(10):
        for user in users:
            with user.draw(10):
                pass
    assert project.spent.units == 200
    assert clock.slept >= 10.0  # the project's 100 in 10 s held both users back


def test_concurrent_slots_are_never_exceeded() -> None:
    budget = graph_mailbox("mailbox")  # 4 at once; real threads and the real clock
    busy, peak, lock = [0], [0], threading.Lock()

    def request(slots: int) -> None:
        with budget.draw(slots, slots=slots):
            with lock:
                busy[0] += min(slots, 4)
                peak[0] = max(peak[0], busy[0])
            time.sleep(0.01)
            with lock:
                busy[0] -= min(slots, 4)

    threads = [
        threading.Thread(target=request, args=(n % 3 + 1 if n % 5 else 20,)) for n in range(24)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] <= 4
    assert budget.spent.units == sum(n % 3 + 1 if n % 5 else 20 for n in range(24))


def test_gmail_paces_a_minute_of_units_over_the_minute() -> None:
    clock = VirtualTime()
    budget = gmail_user("me@example.com", clock=clock.now, sleep=clock.sleep)
    draws = []
    for _ in range(60):  # 30,000 units: two minutes' worth of threads.get batches
        with budget.draw(500):
            draws.append((clock.now(), 500))
    assert _busiest_window(draws, 60.0) <= 15_000 * SHARE
    assert _busiest_window(draws, 10.0) <= 2_500 * SHARE
    assert clock.slept >= 60.0


def test_a_budget_shared_with_replicas_aims_at_its_part_and_grows_back_when_alone() -> None:
    clock = VirtualTime()
    budget = _budget(clock)
    budget.share_with(4)  # one replica of four: 100 × 90% / 4 = 22.5 in any 10 s
    draws = []
    for _ in range(45):
        with budget.draw(1):
            draws.append((clock.now(), 1))
    assert _busiest_window(draws, 10.0) <= 100 * SHARE / 4
    assert clock.slept >= 10.0  # two of its windows' worth took more than one window
    budget.share_with(1)  # the others are gone: the whole limit again
    clock.sleep(10.0)
    started = clock.now()
    for _ in range(90):
        with budget.draw(1):
            pass
    assert clock.now() == started


def test_a_refused_share_grows_back_within_one_window_of_its_own_size() -> None:
    clock = VirtualTime()
    budget = _budget(clock, limit=1000)
    budget.share_with(10)  # 90 units in any 10 s
    budget.refused(0.0)  # 45
    for _ in range(18):  # 90 units spent without refusal: one full window of the part
        with budget.draw(5):
            pass
    clock.sleep(10.0)
    started = clock.now()
    for _ in range(18):  # the whole part again, at once
        with budget.draw(5):
            pass
    assert clock.now() == started
