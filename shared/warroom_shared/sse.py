"""Server-Sent Events end when the process is told to stop.

uvicorn waits for open responses to finish before it shuts the app down, and an SSE stream
never finishes by itself."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

SignalHandler = Callable[[int, FrameType | None], object]


@contextlib.contextmanager
def streams_end_on_exit_signal(close: Callable[[], None]) -> Iterator[None]:
    """Chain SIGINT and SIGTERM so that they `close` the streams (clients reconnect elsewhere)
    and then do what they did. Only handlers that are Python callables
    (uvicorn's, Python's SIGINT) are chained; the previous ones are put back on exit."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals can only be handled in the main thread
        return
    loop = asyncio.get_running_loop()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig, handler in previous.items():
        if callable(handler):
            signal.signal(sig, _closing(loop, close, handler))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _closing(
    loop: asyncio.AbstractEventLoop, close: Callable[[], None], then: SignalHandler
) -> SignalHandler:
    def handler(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(close)
        then(signum, frame)

    return handler
