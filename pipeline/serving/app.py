"""The HTTP face of online scoring: ``GET /health`` and ``POST /score``, a FastAPI app run by
uvicorn (both come with MLflow, whose own scoring server is also FastAPI; this one answers
raw leads, not the model's engineered columns).

Every failure is an answer: a bad request gets a 4xx with ``{"error": "<one line>"}``, an
unexpected one a 500 with the same shape, and the server goes on answering. The champion
alias is looked up again every ``check_seconds``, so ``models promote`` and ``models
rollback`` take effect without a restart, and a night newly kept in the history moves
where tiers start; each answer names the version that produced it.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from leadscore import tracking
from leadscore.errors import LeadscoreError
from leadscore.io.source import connect
from leadscore.model.registered import LeadScoreModel, load_registered
from leadscore.scoring.batch import ENGINE_MEMORY
from leadscore.scoring.history import nightly_files
from leadscore.scoring.online import (
    Folder,
    RequestError,
    answer,
    parse_request,
    read_floors,
    score_request,
)
from leadscore.serving.notify import Notifier

#: The largest request body read, in bytes (``--max-body-bytes``).
MAX_BODY = 1_000_000


@dataclass
class Service:
    """What the server scores with: the model (found again when its alias moves), the data
    folder's index, the column mapping, where tiers start, and the notifier."""

    model: LeadScoreModel
    uri: str
    name: str
    folder: Folder | None = None
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    history: Path | None = None
    notifier: Notifier | None = None
    check_seconds: float = 10.0
    floors: dict[str, float] = field(init=False)
    floors_from: str = field(init=False)
    previous: dict[str, str] = field(init=False)
    _checked: float = field(init=False, default=0.0)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _con: object = field(init=False, default=None)
    _night: Path | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._con = connect(memory_limit=ENGINE_MEMORY)  # kept open: 10 ms a request less
        self._use(self.model)
        self.previous = self._kept_tiers()

    def _use(self, model: LeadScoreModel) -> None:
        self.model = model
        if self.folder is not None:  # built now, not on the first call
            self.folder.explicit([], model.scorer.spec)
        self.floors, self.floors_from = read_floors(self.history, model)
        self._night = self._latest_night()
        self._checked = time.monotonic()

    def _latest_night(self) -> Path | None:
        if self.history is None or not self.history.is_dir():
            return None
        nights = nightly_files(self.history)
        return nights[-1] if nights else None

    def _kept_tiers(self) -> dict[str, str]:
        """Each lead's tier on the latest kept night: whether a score crosses the bar."""
        if self.history is None or not self.history.is_dir():
            return {}
        nights = nightly_files(self.history)
        if not nights:
            return {}
        night = pd.read_parquet(nights[-1], columns=["lead_id", "tier"])
        return dict(zip(night["lead_id"].astype(str), night["tier"].astype(str), strict=True))

    def current(self) -> LeadScoreModel:
        """The model to score with. Every ``check_seconds`` an alias is resolved again, and a
        night newly kept in the history moves where tiers start and each lead's tier."""
        if time.monotonic() - self._checked <= self.check_seconds:
            return self.model
        self._checked = time.monotonic()
        if "@" in self.uri:
            version = tracking.version_of(self.uri, self.name)
            if version != self.model.version:
                model = load_registered(f"models:/{version}")
                model.version, model.uri = version, self.uri
                self._use(model)
        if self._latest_night() != self._night:
            self._use(self.model)
            self.previous.update(self._kept_tiers())
        return self.model

    def score(self, body: object, now: pd.Timestamp) -> dict:
        request = parse_request(body, now)
        with self._lock:  # one scoring at a time: each uses the model's threads itself
            model = self.current()
            scores = score_request(
                model, request, self.columns, self.folder, self.floors, self._con
            )
            self._notify(scores, now)
        return answer(scores)

    def _notify(self, scores: pd.DataFrame, now: pd.Timestamp) -> None:
        bar = self.model.settings.tiers.names()[0]  # the hand-off's default bar: the top tier
        for row in scores.itertuples(index=False):  # the request's few leads
            before = self.previous.get(str(row.lead_id))
            self.previous[str(row.lead_id)] = str(row.tier)
            if self.notifier is None or row.tier != bar or before == bar:
                continue
            self.notifier.crossed(
                {
                    "lead_id": str(row.lead_id),
                    "as_of": row.as_of.isoformat(),
                    "tier": str(row.tier),
                    "previous_tier": before,
                    "score": float(row.score),
                    "top_reasons": str(row.top_reasons),
                },
                now,
            )


def create_app(service: Service, token: str | None = None, max_body: int = MAX_BODY) -> FastAPI:
    """The FastAPI app over ``service``; with ``token``, every request must carry
    ``Authorization: Bearer <token>``."""
    app = FastAPI(title="leadscore", docs_url=None, redoc_url=None, openapi_url=None)

    def error(status: int, line: str) -> JSONResponse:
        return JSONResponse({"error": line}, status_code=status)

    def refused(request: Request) -> JSONResponse | None:
        if token is None:
            return None
        sent = request.headers.get("authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return error(401, "a bearer token is required (Authorization: Bearer <token>)")
        return None

    @app.get("/health")
    async def health(request: Request) -> JSONResponse:
        if (no := refused(request)) is not None:
            return no
        return JSONResponse({"status": "ok", "model_version": service.model.version})

    @app.post("/score")
    async def score(request: Request) -> JSONResponse:
        if (no := refused(request)) is not None:
            return no
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body:
            return error(413, f"the body is over {max_body:,} bytes")
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > max_body:
                return error(413, f"the body is over {max_body:,} bytes")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as err:
            return error(400, f"the body is not JSON ({str(err).splitlines()[0]})")
        now = pd.Timestamp.now(tz="UTC")
        try:
            return JSONResponse(await run_in_threadpool(service.score, body, now))
        except RequestError as err:
            return error(err.status, str(err))
        except LeadscoreError as err:
            return error(422, str(err).splitlines()[0] if str(err) else type(err).__name__)
        except Exception as err:  # noqa: BLE001 - the server must go on answering
            first = str(err).splitlines()[0] if str(err) else ""
            return error(500, f"internal error: {type(err).__name__}: {first}")

    return app
