"""Stopping a long command cleanly: SIGTERM behaves like Ctrl-C, and a command whose work does not stop
within a grace period (Dagster defers interrupts to the end of the running step) terminates its child
processes (dbt) and exits. Writes are transactional, so what was not committed rolls back.

Used by every long-running command (materialize, demo, simulate, live, the benchmarks); no Dagster here.
"""

from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

EXIT_INTERRUPTED = 130


def _terminate_children() -> None:
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with dagster
        return
    children = psutil.Process().children(recursive=True)
    for child in children:
        try:
            child.terminate()
        except psutil.Error:
            pass
    psutil.wait_procs(children, timeout=3)


@contextmanager
def stop_on_signal(grace: float = 5.0, echo: Callable[[str], None] | None = None) -> Iterator[threading.Event]:
    """SIGTERM/SIGINT: raise KeyboardInterrupt in the main thread (so `finally` blocks and rollbacks run)
    and set the yielded event (for worker threads). A watcher thread, woken through the signal wakeup
    fd (which also works while Dagster has replaced the Python-level handlers), ends the process
    after `grace` seconds if the work has not stopped by then."""
    stopping = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stopping
        return
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    previous_wakeup = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    done = threading.Event()

    raised = threading.Event()

    def handler(signo, frame):
        stopping.set()
        if not raised.is_set():  # once: a second signal must not interrupt the clean-up
            raised.set()
            raise KeyboardInterrupt

    def watch():
        while not done.is_set():
            try:
                data = os.read(read_fd, 16)
            except OSError:
                return
            if done.is_set() or not data:
                return
            if not any(b in (signal.SIGTERM, signal.SIGINT) for b in data):
                continue
            stopping.set()
            if echo:
                echo(f"stopping (signal received); waiting up to {grace:.0f}s for the current step")
            if not done.wait(grace):
                if echo:
                    echo("still running: terminating child processes and exiting (uncommitted work rolls back)")
                _terminate_children()
                os._exit(EXIT_INTERRUPTED)
            return

    for s in previous:
        signal.signal(s, handler)
    watcher = threading.Thread(target=watch, name="tessera-stop-watcher", daemon=True)
    watcher.start()
    try:
        yield stopping
    finally:
        done.set()
        signal.set_wakeup_fd(previous_wakeup)
        for s, h in previous.items():
            signal.signal(s, h)
        os.write(write_fd, b"\0")  # wake the watcher so it returns
        watcher.join(timeout=1)
        os.close(read_fd)
        os.close(write_fd)
