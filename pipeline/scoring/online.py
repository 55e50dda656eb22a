"""One lead scored the moment it acts: a request's leads (their fields, events and stages, or
only their ids, looked up in a data folder indexed once) turned into the contract tables,
checked by the validator and scored by the nightly batch's own functions
(``batch.scoring_features``, ``batch.score_frame``), so a lead scored now equals its batch
score at the same moment.

Tiers by share or capacity are a night's ranks, which one lead does not have: a lead scored
on its own takes the tier whose lowest probability it reaches, on the latest kept night when
there is one, else on the latest period the model was tested on (``Reference.tier_floors``).
A lead tied with a tier's lowest probability joins that tier.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from leadscore.config import TierConfig
from leadscore.data.contract import OPTIONAL, REQUIRED, Tables
from leadscore.data.validate import validate_tables
from leadscore.errors import LeadscoreError
from leadscore.features.spec import FeatureSpec
from leadscore.features.table import build_features, explicit_features
from leadscore.model.reference import tier_floors
from leadscore.model.registered import LeadScoreModel
from leadscore.model.tiers import assign_tiers, to_score
from leadscore.scoring.batch import check_columns, score_frame, scoring_features
from leadscore.scoring.history import nightly_files
from leadscore.scoring.sinks import SEGMENT
from leadscore.timestamps import to_utc

#: What one answer holds per lead (the batch's columns that need no other lead or night).
ANSWER_COLUMNS = [
    "lead_id",
    "as_of",
    "probability",
    "score",
    "tier",
    "fit_grade",
    "baseline_score",
    "baseline_tier",
    "top_reasons",
    "model_version",
]


class RequestError(LeadscoreError):
    """A request that cannot be scored, in one line; ``status`` the HTTP status it earns."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Request:
    as_of: pd.Timestamp
    leads: list[dict]


def parse_request(body: object, now: pd.Timestamp) -> Request:
    """``{"as_of"?, "leads": [{"lead_id", ...}, ...]}`` checked; ``as_of`` defaults to ``now``."""
    if not isinstance(body, dict):
        raise RequestError("the body must be a JSON object with a list of leads", 400)
    leads = body.get("leads")
    if not isinstance(leads, list) or not leads:
        raise RequestError('the body needs "leads": a non-empty list of lead objects', 400)
    for i, lead in enumerate(leads):
        if not isinstance(lead, dict):
            raise RequestError(f"leads[{i}] is not an object", 400)
        lead_id = lead.get("lead_id")
        if lead_id is None or str(lead_id).strip() == "":
            raise RequestError(f"leads[{i}] has no lead_id", 400)
        if "field_history" in lead:
            raise RequestError(
                f"leads[{i}].field_history: a request cannot send field history; with "
                "--data the folder's is read, and fields sent are the values in force",
                400,
            )
        for key in ("events", "stages"):
            rows = lead.get(key, [])
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise RequestError(f"leads[{i}].{key} must be a list of objects", 400)
    ids = [str(lead["lead_id"]) for lead in leads]
    if len(set(ids)) < len(ids):
        raise RequestError("a lead_id is sent twice in one request", 400)
    raw = body.get("as_of")
    if raw is None:
        return Request(now, leads)
    try:
        return Request(to_utc(str(raw)), leads)
    except (ValueError, TypeError):
        raise RequestError(f"as_of: {raw!r} is not a readable timestamp") from None


class Folder:
    """A data folder's clean tables, indexed once: a lead's row, events, stages and field
    history are slices found by binary search, so a look-up never scans the history."""

    def __init__(self, tables: Tables) -> None:
        self.leads = tables.leads.reset_index(drop=True)
        self._at = pd.Index(self.leads["lead_id"].astype("string"))
        self.events, self._event_starts = self._sorted(tables.events)
        self.stages, self._stage_starts = (
            self._sorted(tables.stages) if tables.stages is not None else (None, None)
        )
        self.field_history, self._change_starts = (
            self._sorted(tables.field_history) if tables.field_history is not None else (None, None)
        )
        self.accounts = (
            self.leads.groupby("account", sort=False).indices
            if "account" in self.leads.columns
            else {}
        )
        self._explicit: tuple[FeatureSpec, pd.DataFrame] | None = None

    def explicit(self, positions: list[int], spec: FeatureSpec) -> pd.DataFrame:
        """``explicit_features`` of the leads at ``positions``: rows of one table built for
        the whole folder, once per spec (a lead's explicit features read its own row only,
        and building them for one lead costs most of a call)."""
        if self._explicit is None or self._explicit[0] is not spec:
            self._explicit = (spec, explicit_features(self.leads, spec))
        return self._explicit[1].iloc[positions]

    def lookup(self, leads: list[dict], accounts: bool) -> list[int] | None:
        """The rows to score a request by, when every lead is sent by id alone (with
        ``accounts``, their colleagues' rows too); None when a lead is sent with data."""
        if not all(set(lead) == {"lead_id"} for lead in leads):
            return None
        ids = [str(lead["lead_id"]) for lead in leads]
        at = [self.position(i) for i in ids]
        if min(at) < 0:
            raise RequestError(f"lead {ids[at.index(min(at))]} is not in the data folder", 404)
        return self.colleagues(at) if accounts else at

    def _sorted(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        code = self._at.get_indexer(frame["lead_id"].astype("string"))
        order = np.argsort(code, kind="stable")
        starts = np.searchsorted(code[order], np.arange(len(self.leads) + 1))
        return frame.iloc[order].reset_index(drop=True), starts

    def position(self, lead_id: str) -> int:
        """The lead's row, or -1 when the folder does not hold it."""
        return int(self._at.get_indexer([lead_id])[0])

    def colleagues(self, positions: list[int]) -> list[int]:
        """Every lead of the same accounts (the leads themselves included)."""
        if not self.accounts:
            return positions
        accounts = self.leads["account"].iloc[positions].dropna().unique()
        extra = [int(i) for a in accounts for i in self.accounts.get(a, ())]
        return sorted(set(positions) | set(extra))

    def rows(self, positions: list[int]) -> Tables:
        """The leads at ``positions`` with their events, stages and field history."""

        def take(frame: pd.DataFrame | None, starts: np.ndarray | None) -> pd.DataFrame | None:
            if frame is None or starts is None:
                return None
            parts = [np.arange(starts[i], starts[i + 1]) for i in positions]
            return frame.iloc[np.concatenate(parts) if parts else []]

        events = take(self.events, self._event_starts)
        assert events is not None
        return Tables(
            self.leads.iloc[positions],
            events,
            self.leads.iloc[:0][["lead_id"]],
            take(self.stages, self._stage_starts),
            take(self.field_history, self._change_starts),
        )


def _renamed(row: dict, mapping: dict[str, str]) -> dict:
    # The config's mapping is {contract name: the source's name}.
    back = {src: dst for dst, src in mapping.items()}
    return {back.get(k, k): v for k, v in row.items()}


def _raw(rows: list[dict], table: str) -> pd.DataFrame:
    columns = [*REQUIRED[table], *OPTIONAL.get(table, {})]
    frame = pd.DataFrame(rows)
    for c in columns:
        if c not in frame.columns:
            frame[c] = pd.Series([None] * len(frame), dtype=object)
    return frame.astype(object).where(frame.notna(), None)


def _iso(frame: pd.DataFrame) -> pd.DataFrame:
    """Clean rows back as the text a request sends (zoned times as ISO 8601)."""
    out = frame.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.DatetimeTZDtype):
            out[c] = out[c].map(lambda t: None if pd.isna(t) else t.isoformat())
    return out.astype(object).where(out.notna(), None)


def request_tables(
    request: Request,
    columns: dict[str, dict[str, str]],
    folder: Folder | None,
    accounts: bool,
) -> tuple[Tables, list[str]]:
    """The contract tables of a request's leads, checked by the validator, and their ids.

    A lead the folder holds takes its row, events, stages and field history from it; fields
    sent with it replace the folder's (and the folder's history of those fields: a value
    sent is the one in force), and events and stages sent are added. A request cannot send
    field history. With ``accounts``, the
    folder's other leads of the same accounts come along (colleagues' activity is a
    feature); they are not scored. Any row the validator would drop is a ``RequestError``.
    """
    at = folder.lookup(request.leads, accounts) if folder is not None else None
    if at is not None:  # ids alone: the folder's rows, already checked
        return folder.rows(at), [str(lead["lead_id"]) for lead in request.leads]
    lead_rows, event_rows, stage_rows, known, ids = [], [], [], [], []
    sent: list[tuple[str, str]] = []  # (lead_id, field) pairs a request sets
    for lead in request.leads:
        lead_id = str(lead["lead_id"])
        fields = {k: v for k, v in lead.items() if k not in ("events", "stages")}
        fields = _renamed(fields, columns.get("leads", {})) | {"lead_id": lead_id}
        sent += [(lead_id, k) for k, v in fields.items() if k != "lead_id" and v is not None]
        at = folder.position(lead_id) if folder is not None else -1
        if at >= 0:
            known.append(at)
            stored = _iso(folder.leads.iloc[[at]]).iloc[0].to_dict()
            fields = stored | {k: v for k, v in fields.items() if v is not None}
        elif folder is not None and set(fields) == {"lead_id"}:
            raise RequestError(f"lead {lead_id} is not in the data folder", 404)
        lead_rows.append(fields)
        for e in lead.get("events", []):
            event_rows.append(_renamed(e, columns.get("events", {})) | {"lead_id": lead_id})
        for s in lead.get("stages", []):
            stage_rows.append(_renamed(s, columns.get("stages", {})) | {"lead_id": lead_id})
        ids.append(lead_id)
    stored = folder.rows(folder.colleagues(known) if accounts else known) if known else None
    context = []
    if stored is not None:  # colleagues: checked with the leads, not scored
        others = stored.leads[~stored.leads["lead_id"].astype("string").isin(ids)]
        context = [r for _, r in _iso(others).iterrows()]
    raw = {
        "leads": _raw([*lead_rows, *[r.to_dict() for r in context]], "leads"),
        "events": _raw(event_rows, "events"),
        "outcomes": _raw([], "outcomes"),
        "stages": _raw(stage_rows, "stages"),
    }
    report = validate_tables(raw)
    dropped = [p for p in report.problems if p.fatal or "(dropped" in p.message]
    if report.tables is None or dropped:
        raise RequestError(dropped[0].line() if dropped else "the request cannot be read")
    if len(report.rejects):
        r = report.rejects.iloc[0]
        raise RequestError(f"lead {r['lead_id']}: {r['reason']}")
    clean = report.tables
    if stored is None:
        return clean, ids
    events = pd.concat([stored.events, clean.events], ignore_index=True)
    stages = clean.stages
    if stored.stages is not None:
        stages = pd.concat([stored.stages, clean.stages], ignore_index=True)
    return Tables(clean.leads, events, clean.outcomes, stages, _unsent(stored, sent)), ids


def _unsent(stored: Tables, sent: list[tuple[str, str]]) -> pd.DataFrame | None:
    """The folder's field history without the changes of fields a request sets."""
    history = stored.field_history
    if history is None or not sent:
        return history
    pairs = pd.MultiIndex.from_tuples(sent)
    mine = pd.MultiIndex.from_arrays(
        [history["lead_id"].astype(str).to_numpy(), history["field"].astype(str).to_numpy()]
    )
    return history[~mine.isin(pairs)].reset_index(drop=True)


def online_tiers(p: np.ndarray, tiers: TierConfig, floors: dict[str, float]) -> np.ndarray:
    """Tiers of leads scored on their own: fixed cut-offs read the score; tiers cut on a
    night's ranks start at ``floors`` (each tier's lowest probability on a reference night),
    a lead tied with a floor joining that tier."""
    if not tiers.ranked:
        return assign_tiers(to_score(p), tiers)
    out = np.full(len(p), tiers.rest, dtype=object)
    for name in reversed(tiers.names()[:-1]):
        if name in floors:
            out[np.asarray(p) >= floors[name]] = name
    return out


def score_now(
    model: LeadScoreModel,
    tables: Tables,
    ids: list[str],
    as_of: pd.Timestamp,
    floors: dict,
    con: duckdb.DuckDBPyConnection | None = None,
    explicit: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The request's leads scored at ``as_of`` (``ANSWER_COLUMNS``, in request order);
    ``con``: a feature engine kept open between requests (opening one costs 10 ms);
    ``explicit``: the explicit features of ``tables.leads``, row for row, when known
    (``Folder.explicit``)."""
    scorer, settings = model.scorer, model.settings
    check_columns(tables.leads, scorer)
    created = tables.leads.set_index(tables.leads["lead_id"].astype("string"))["created_at"]
    late = [i for i in ids if created.get(i, pd.NaT) > as_of]
    if late:
        raise RequestError(f"lead {late[0]} was created after as_of {as_of.isoformat()}")
    snaps = pd.DataFrame(
        {
            "lead_id": pd.array(ids, dtype="string"),
            "as_of": pd.Series([as_of] * len(ids), dtype=created.dtype),
        }
    )
    if scorer.spec.stages and tables.stages is None:
        raise RequestError("stages: the model reads funnel stages; send a stages list")
    if con is None and explicit is None:
        feats = scoring_features(tables, snaps, scorer.spec)
    else:
        feats = build_features(
            tables.leads,
            tables.events,
            snaps,
            scorer.spec,
            con,
            stages=tables.stages,
            field_history=tables.field_history,
            explicit=explicit,
        )
    out = score_frame(
        feats, scorer, settings.baseline, settings.explain.top_reasons, model.version, 1
    )
    p = out["probability"].to_numpy()
    if SEGMENT in out:  # tiers cut within each segment start at that segment's floors
        by_segment = settings.reference.segment_tier_floors if settings.reference else {}
        out["tier"] = segment_tiers(p, out[SEGMENT].to_numpy(), settings.tiers, by_segment)
    else:
        out["tier"] = online_tiers(p, settings.tiers, floors)
    return out[ANSWER_COLUMNS]


def score_request(
    model: LeadScoreModel,
    request: Request,
    columns: dict[str, dict[str, str]],
    folder: Folder | None,
    floors: dict,
    con: duckdb.DuckDBPyConnection | None = None,
) -> pd.DataFrame:
    """A request scored (``score_now`` of its ``request_tables``); leads sent by id alone
    take the explicit features their folder built once (``Folder.explicit``)."""
    accounts = bool(model.scorer.spec.account_window)
    tables, ids = request_tables(request, columns, folder, accounts)
    at = folder.lookup(request.leads, accounts) if folder is not None else None
    explicit = folder.explicit(at, model.scorer.spec) if folder is not None and at else None
    return score_now(model, tables, ids, request.as_of, floors, con, explicit)


def segment_tiers(
    p: np.ndarray, segment: np.ndarray, tiers: TierConfig, floors: dict[str, dict[str, float]]
) -> np.ndarray:
    """``online_tiers`` of each segment's leads from that segment's ``floors`` (a segment
    without floors puts its leads in the last tier of ranked tiers)."""
    out = np.full(len(p), tiers.rest, dtype=object)
    for g in np.unique(segment):
        mine = segment == g
        out[mine] = online_tiers(np.asarray(p)[mine], tiers, floors.get(str(g), {}))
    return out


def answer(scores: pd.DataFrame) -> dict:
    """The JSON answer: ``{"scores": [...]}``, times as ISO 8601 UTC."""
    rows = scores.assign(as_of=scores["as_of"].map(lambda t: t.isoformat()))
    return {"scores": json.loads(rows.to_json(orient="records", double_precision=15))}


def read_floors(history: str | Path | None, model: LeadScoreModel) -> tuple[dict, str]:
    """Where online tiers start: the latest kept night's floors, else the model's own
    (``Reference.tier_floors``); and where they came from, in words."""
    if getattr(model.scorer, "tiers_by", "overall") == "segment":
        # A kept night does not say which segment each lead's tier was cut in.
        return {}, "the latest period the model was tested on, per segment"
    if history is not None and Path(history).is_dir():
        nights = nightly_files(history)
        if nights:
            night = pd.read_parquet(nights[-1], columns=["tier", "probability"])
            floors = tier_floors(night["probability"].to_numpy(), night["tier"].astype(str))
            return floors, f"the night {nights[-1].parent.name} kept"
    reference = model.settings.reference
    floors = dict(reference.tier_floors) if reference is not None else {}
    return floors, "the latest period the model was tested on"
