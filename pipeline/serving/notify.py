"""A call to sales when a lead crosses into the hand-off tier: a POST to a URL, at most once
per lead in ``recent_days``, retried a bounded number of times on a worker thread so a slow
or broken receiver never holds up scoring.

Who was called when is kept beside the score history (``<history>/notified.json``, written
atomically), so a restart does not call again.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd

from leadscore.data.files import write_atomic

ATTEMPTS = 3
TIMEOUT_SECONDS = 5.0


class Notifier:
    """Calls ``url`` for each crossing handed to ``crossed``; ``state``: the file of who was
    called when (None: kept in memory only)."""

    def __init__(
        self,
        url: str,
        state: Path | None,
        recent_days: int,
        backoff: float = 0.5,
        log=lambda line: print(f"leadscore serve: {line}", file=sys.stderr),
    ) -> None:
        self.url, self.state, self.recent_days = url, state, recent_days
        self.backoff, self.log = backoff, log
        self.sent: dict[str, pd.Timestamp] = self._read()
        self._lock = threading.Lock()
        self._queue: queue.Queue[dict | None] = queue.Queue()
        self._worker = threading.Thread(target=self._run, name="leadscore-notify", daemon=True)
        self._worker.start()

    def _read(self) -> dict[str, pd.Timestamp]:
        if self.state is None or not self.state.exists():
            return {}
        try:
            stored = json.loads(self.state.read_text(encoding="utf-8"))
            return {k: pd.Timestamp(v) for k, v in stored.items()}
        except (OSError, ValueError, TypeError):
            self.log(f"notify: {self.state} cannot be read; starting with no lead called")
            return {}

    def _keep(self) -> None:
        if self.state is None:
            return
        text = json.dumps({k: v.isoformat() for k, v in self.sent.items()})
        self.state.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.state, lambda tmp: tmp.write_text(text, encoding="utf-8"))

    def crossed(self, message: dict, now: pd.Timestamp) -> bool:
        """Queue ``message`` (a lead that entered the hand-off tier) unless that lead was
        called within ``recent_days`` of ``now``; whether it was queued."""
        lead = str(message["lead_id"])
        with self._lock:
            last = self.sent.get(lead)
            if last is not None and now - last < pd.Timedelta(days=self.recent_days):
                return False
            self.sent[lead] = now
            self._keep()
        self._queue.put(message)
        return True

    def _run(self) -> None:
        while (message := self._queue.get()) is not None:
            self._deliver(message)
            self._queue.task_done()

    def _deliver(self, message: dict) -> None:
        body = json.dumps(message).encode()
        for attempt in range(1, ATTEMPTS + 1):
            request = urllib.request.Request(
                self.url, data=body, headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
                    if answer.status < 300:
                        return
                    reason = f"status {answer.status}"
            except (urllib.error.URLError, OSError) as err:
                reason = str(getattr(err, "reason", err))
            self.log(f"notify: lead {message['lead_id']}: attempt {attempt} failed ({reason})")
            if attempt < ATTEMPTS:
                time.sleep(self.backoff * 2 ** (attempt - 1))
        self.log(f"notify: lead {message['lead_id']}: given up after {ATTEMPTS} attempts")

    def drain(self) -> None:
        """Wait until every queued call was delivered or given up (tests, shutdown)."""
        self._queue.join()

    def close(self) -> None:
        self.drain()
        self._queue.put(None)
        self._worker.join(timeout=TIMEOUT_SECONDS)
