"""Searches take turns (search/turns.py): one at a time, a long one steps aside at its
checkpoints and then yields to the search that has the turn."""

from __future__ import annotations

import threading
import time

import pytest

from search import turns


def test_a_turn_is_exclusive_until_its_holder_reaches_a_checkpoint_past_its_slice():
    holding, release, order = threading.Event(), threading.Event(), []

    def first():
        with turns.turn():
            holding.set()
            release.wait(5)
            order.append("first done")

    def second():
        holding.wait(5)
        with turns.turn():
            order.append("second in turn")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    holding.wait(5)
    time.sleep(turns.SLICE * 2)  # past the slice, but no checkpoint: the turn stays taken
    release.set()
    for thread in threads:
        thread.join(10)
    assert order == ["first done", "second in turn"]


def test_a_long_search_steps_aside_at_a_checkpoint_and_the_next_one_runs():
    started, second_ran, order = threading.Event(), threading.Event(), []

    def long_search():
        with turns.turn():
            started.set()
            give_up_at = time.monotonic() + 10
            while not second_ran.is_set() and time.monotonic() < give_up_at:
                turns.checkpoint()  # steps aside once it has had its slice
                time.sleep(0.001)
            order.append("long done")

    def short_search():
        started.wait(5)
        with turns.turn():
            order.append("short done")
            second_ran.set()

    threads = [threading.Thread(target=long_search), threading.Thread(target=short_search)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert order == ["short done", "long done"]


def test_in_the_background_a_search_pauses_while_another_has_the_turn(monkeypatch):
    pauses = []
    monkeypatch.setattr(turns.time, "sleep", pauses.append)
    other_has_turn, done = threading.Event(), threading.Event()

    def other():
        with turns.turn():
            other_has_turn.set()
            done.wait(5)

    with turns.turn():
        turns._mine.since -= turns.SLICE * 2  # as if this search had had its slice
        turns.checkpoint()  # steps aside
        assert not turns._mine.holding
        turns.checkpoint()  # nobody has the turn: no pause
        assert pauses == []
        thread = threading.Thread(target=other)
        thread.start()
        assert other_has_turn.wait(5)
        turns.checkpoint()
        assert pauses == [turns.PAUSE]
        done.set()
        thread.join(5)
    assert not turns._turn.locked()


def test_a_search_inside_a_search_is_in_the_same_turn():
    with turns.turn():
        with turns.turn():
            assert turns._turn.locked()
        assert turns._turn.locked() and turns._mine.holding
    assert not turns._turn.locked()


def _wait_for(condition, seconds: float = 5.0) -> None:
    give_up_at = time.monotonic() + seconds
    while not condition() and time.monotonic() < give_up_at:
        time.sleep(0.001)
    assert condition()


def test_waiting_threads_get_the_lock_in_the_order_they_asked():
    lock, order = turns.FirstComeLock(), []
    lock.acquire()

    def waiter(name):
        lock.acquire()
        order.append(name)
        lock.release()

    threads = []
    for number in range(6):
        thread = threading.Thread(target=waiter, args=(number,))
        thread.start()
        _wait_for(lambda: lock.waiting() == number + 1)  # queued before the next one asks
        threads.append(thread)
    lock.release()
    for thread in threads:
        thread.join(10)
    assert order == list(range(6))
    assert not lock.locked() and lock.waiting() == 0


def test_a_thread_asking_as_the_lock_is_released_queues_behind_those_waiting():
    # With threading.Lock the releasing thread (which holds the GIL) usually takes it back first.
    lock, order = turns.FirstComeLock(), []
    lock.acquire()

    def waiter():
        lock.acquire()
        order.append("waited")
        time.sleep(0.01)
        lock.release()

    thread = threading.Thread(target=waiter)
    thread.start()
    _wait_for(lambda: lock.waiting() == 1)
    lock.release()
    lock.acquire()  # asks again at once: behind the waiter
    order.append("asked again")
    lock.release()
    thread.join(10)
    assert order == ["waited", "asked again"]


def test_releasing_a_lock_nobody_holds_is_an_error():
    with pytest.raises(RuntimeError):
        turns.FirstComeLock().release()
