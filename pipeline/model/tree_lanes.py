"""Trees worked in fixed lanes by a few threads, so that each lane's sum has the same bits
whoever computes it (``leadscore.model.attribution``)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import lightgbm as lgb

# Trees are summed in this many interleaved lanes (at most this many threads help).
LANES = 2


def _run_in_lanes(
    booster: lgb.Booster,
    n_trees: int,
    explain: Callable[[int, int, lgb.Booster], None],
    threads: int,
    helpers_after: Future | None,
) -> None:
    """Call ``explain(tree, lane, booster)`` for every tree, lane ``tree % LANES``.

    A lane is worked by one thread at a time, in tree order, so its sum does not depend on
    which thread computed what. A thread takes the free lane that is furthest behind, so the
    lanes stay level and a thread that joins late finds half of the rest waiting.
    """
    lock = threading.Lock()
    following = list(range(LANES))  # next tree of each lane
    busy = [False] * LANES

    def claim() -> tuple[int, int] | None:
        with lock:
            free = [i for i in range(LANES) if not busy[i] and following[i] < n_trees]
            if not free:
                return None
            lane = min(free, key=lambda i: following[i])
            busy[lane] = True
            following[lane] += LANES
            return following[lane] - LANES, lane

    def work(own: lgb.Booster) -> None:
        while (job := claim()) is not None:
            try:
                explain(*job, own)
            finally:
                with lock:
                    busy[job[1]] = False

    helpers = min(threads, LANES) - 1
    if helpers <= 0:
        work(booster)
        return
    # One booster per thread: a call's start_iteration is state on the booster itself, so
    # two threads sharing one would answer for each other's trees.
    text = booster.model_to_string()
    go = threading.Event()
    if helpers_after is None:
        go.set()
    else:
        helpers_after.add_done_callback(lambda _f: go.set())

    def helper() -> None:
        go.wait()
        work(lgb.Booster(model_str=text))

    with ThreadPoolExecutor(max_workers=helpers) as pool:
        waiting = [pool.submit(helper) for _ in range(helpers)]
        try:
            work(booster)
        finally:
            go.set()  # nothing left to claim: waiting helpers return at once
        for w in waiting:
            w.result()
