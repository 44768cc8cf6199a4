"""Many callers at once: the helper every race test uses."""

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def run_together(callers: int, call: Callable[[], T], timeout: float = 60.0) -> list[T]:
    """Start ``callers`` threads at one barrier, each running ``call``; their results.

    A caller that raised re-raises here, so a race test never passes on missing answers.
    """
    barrier = threading.Barrier(callers)
    results: list[T] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            result = call()
        except BaseException as exc:
            with lock:
                errors.append(exc)
            return
        with lock:
            results.append(result)

    threads = [threading.Thread(target=run) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    if errors:
        raise errors[0]
    assert len(results) == callers, "some callers did not finish in time"
    return results
