"""Batch prediction: every open lead at ``as_of`` scored, explained and written atomically.

Work is done in chunks of leads so memory stays flat as the input grows; each chunk goes
through the same feature code as training (``leadscore.features.table.build_features``), so a lead's
features at ``t`` are the same in the training table and in the nightly scores.

Accounting: ``in = scored + rejected``. "In" is every leads row that is, or may be, open at
``as_of``: rows the validator could not read are rejected with their reason (written to the
rejects file), valid leads created after ``as_of`` or already closed are not open and are
counted separately.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from leadscore.config import BaselineConfig
from leadscore.data.contract import Tables
from leadscore.data.files import write_atomic
from leadscore.data.load import check_event_drops, event_rule_lines, load_streaming, unreadable
from leadscore.data.validate import ValidationReport
from leadscore.errors import DataError, ModelError
from leadscore.features.prepared import SKIPPED, PreparedEvents, prepare_events
from leadscore.features.snapshots import open_leads
from leadscore.features.table import build_features, lead_account
from leadscore.io.scratch import scratch_file
from leadscore.io.source import EventSource, connect
from leadscore.model.baseline import score_baseline
from leadscore.model.kind import Scorer
from leadscore.model.reference import Reference, bin_counts
from leadscore.model.settings import ModelSettings
from leadscore.model.tiers import to_score
from leadscore.scoring.history import carry
from leadscore.scoring.reasons import feature_groups, top_reasons_grouped
from leadscore.scoring.sinks import SCORE_COLUMNS, SEGMENT, NightSink, ScoreSink, write_rejects

Say = Callable[[str], None]

# The feature engine's working memory per chunk; a chunk of 250k leads with 20M events
# needs about 1.3 GB, so this binds only on heavier histories (it then spills to disk).
ENGINE_MEMORY = "1500MB"
# Leads per chunk. Measured on 1M and 3M leads (other-crm shape): 200k peaks 0.2 GiB
# lower than 250k at 3M (2.73 against 2.95 GiB) at the same speed on 1M (A B A B).
CHUNK_LEADS = 200_000


@dataclass
class ScoreSummary:
    rows_in: int
    scored: int
    rejected: int
    not_open: int | None  # None: a flat file, where every row is scored
    out: Path
    rejects: Path | None
    seconds: float
    unseen_categories: dict[str, int]
    new_missing: dict[str, int]
    event_lines: list[str] = field(default_factory=list)
    #: The scored rows per bin of each reference feature (``model.reference.bin_counts``),
    #: for the monitor; None when the model has no reference.
    bin_counts: dict[str, np.ndarray] | None = None

    def line(self) -> str:
        rate = self.scored / self.seconds if self.seconds > 0 else float("nan")
        return (
            f"in {self.rows_in:,} = scored {self.scored:,} + rejected {self.rejected:,}"
            + (f" (not open at as_of: {self.not_open:,})" if self.not_open is not None else "")
            + f"; {self.seconds:.1f}s, {rate:,.0f} leads/s"
        )


def score_frame(
    features: pd.DataFrame,
    scorer: Scorer,
    baseline: BaselineConfig,
    top_k: int,
    version: str,
    threads: int = 2,
    helpers_after: Future | None = None,
) -> pd.DataFrame:
    """Score one chunk of feature rows: probability, score, the raw ``margin``, baseline and
    reasons; ``rank`` and ``tier`` are set on the whole night (``place``).

    ``helpers_after``: work running beside this call; SHAP starts on one thread and takes a
    second when it completes.
    """
    # Summed by reason group while gathered; their total (with the base) is the margin.
    grouped = scorer.contributions(features, threads, feature_groups(scorer.spec), helpers_after)
    p = check_probabilities(scorer.probability_from(grouped, features))
    base = score_baseline(features, baseline)
    out = pd.DataFrame(
        {
            # .array keeps Arrow strings and zoned times as they are (to_numpy would make a
            # Python object per lead).
            "lead_id": features["lead_id"].astype("string").array
            if "lead_id" in features
            else np.arange(len(features)).astype(str),
            "as_of": features["as_of"].array if "as_of" in features else pd.NaT,
            "probability": p,
            "score": to_score(p),
            # The raw score orders leads that calibration puts on one probability.
            "margin": grouped.sum(axis=1).to_numpy("float64"),
            "baseline_score": base["baseline_score"].to_numpy(),
            "baseline_tier": base["baseline_tier"].to_numpy().astype(str),
            # The points model's fit part as a grade (A-F): who the lead is, beside what it did.
            "fit_grade": base["fit_grade"].to_numpy().astype(str),
            "top_reasons": top_reasons_grouped(features, grouped, scorer.spec, top_k).array,
            "model_version": version,
        }
    )
    segments = getattr(scorer, "tier_segments", None)
    tier_segment = None if segments is None else segments(features)
    if tier_segment is not None:  # tiers cut within each segment's leads (``place``)
        out[SEGMENT] = tier_segment
    return out


def check_probabilities(p: np.ndarray) -> np.ndarray:
    """``p`` when every value is a probability; a one-line ``ModelError`` otherwise (a NaN or
    an infinity must never reach a sales list as a score)."""
    bad = ~np.isfinite(p) | (p < 0) | (p > 1)
    if bad.any():
        raise ModelError(
            f"the model gave {int(bad.sum()):,} of {len(p):,} leads a value that is not a "
            f"probability (e.g. {p[bad][0]!r}); nothing written"
        )
    return p


def drift_counts(features: pd.DataFrame, scorer: Scorer) -> tuple[dict[str, int], dict[str, int]]:
    """Values LightGBM would treat silently, counted so the run can report them.

    ``other``: values of a fitted category outside the levels the model kept (mapped to
    ``other``); ``new_missing``: missing values in columns that had none in training.
    """
    unseen: dict[str, int] = {}
    fitted = [*scorer.spec.categorical, *scorer.spec.extra_categorical]
    for name in fitted:
        levels = scorer.spec.categories.get(name, ())
        if "other" in levels and name in features:
            n = int((features[name] == "other").sum())
            if n:
                unseen[name] = n
    new_missing: dict[str, int] = {}
    for c in scorer.complete_columns_:
        if c in features:
            n = int(features[c].isna().sum())
            if n:
                new_missing[c] = n
    return unseen, new_missing


def check_columns(leads: pd.DataFrame, scorer: Scorer) -> None:
    """The leads table must hold every attribute the model was trained on."""
    missing = [c for c in scorer.spec.lead_columns if c not in leads.columns]
    if missing:
        raise DataError(
            f"leads: column(s) {', '.join(missing)} used by the model are not in the data folder "
            f"({len(leads)} rows); map them with columns: in the config"
        )


def check_stages(tables: Tables, scorer: Scorer) -> None:
    """A model that reads funnel stages needs the stages table."""
    if scorer.spec.stages and tables.stages is None:
        raise DataError(
            f"stages: the model uses the current funnel stage ({len(scorer.spec.stages)} stages: "
            f"{', '.join(scorer.spec.stages)}) but the data folder has no stages table "
            f"(stages.parquet or stages.csv; {len(tables.leads):,} leads)"
        )


def open_at(tables: Tables, scorer: Scorer, as_of: pd.Timestamp) -> pd.DataFrame:
    """The (lead_id, as_of) pairs to score, in lead_id order: every lead open at ``as_of``.
    One-line errors for a moment before all data and for attributes the model lacks."""
    first = tables.leads["created_at"].min()
    if pd.isna(first) or as_of < first:
        raise DataError(
            f"as_of {as_of:%Y-%m-%d} is before all data (the first lead was created {first:%Y-%m-%d}); nothing to score"
        )
    check_columns(tables.leads, scorer)
    check_stages(tables, scorer)
    return open_leads(tables.leads, tables.outcomes, [as_of])


def scoring_features(
    tables: Tables,
    snapshots: pd.DataFrame,
    spec,
    events: pd.DataFrame | EventSource | PreparedEvents | None = None,
) -> pd.DataFrame:
    """Features for (lead_id, as_of) pairs to score: the very function training uses.

    The engine's memory is capped (``ENGINE_MEMORY``), so a chunk of leads with unusually
    long histories spills to disk instead of raising the job's peak memory.
    """
    con = connect(memory_limit=ENGINE_MEMORY)
    try:
        return build_features(
            tables.leads,
            tables.events if events is None else events,
            snapshots,
            spec,
            con,
            stages=tables.stages,
            field_history=tables.field_history,
        )
    finally:
        con.close()


def score_folder(
    data_dir: str | Path,
    columns: dict[str, dict[str, str]],
    scorer: Scorer,
    settings: ModelSettings,
    version: str,
    as_of: pd.Timestamp,
    out: str | Path,
    *,
    say: Say = lambda _m: None,
    chunk_leads: int = CHUNK_LEADS,
    loaded: tuple[Tables, EventSource, ValidationReport] | None = None,
    max_drop_share: float | None = None,
    previous: pd.DataFrame | None = None,
    count_bins: bool = False,
) -> ScoreSummary:
    """Nightly scoring of a data folder: leads and outcomes validated in memory, events
    streamed from their file by the engine, so memory does not grow with event history.

    ``loaded``: the folder as ``load_streaming(..., count_events=False)`` returned it. The
    event file is read once, and its rows are counted by the validator's rules in that same
    scan (see ``leadscore.features.prepared``) and reported after the scores.
    """
    tables, source, report = loaded or load_streaming(
        data_dir, columns, say, count_events=False, max_drop_share=max_drop_share
    )
    summary = score_tables(
        tables,
        report.rejects,
        scorer,
        settings,
        version,
        as_of,
        out,
        say=say,
        events=source,
        chunk_leads=chunk_leads,
        max_drop_share=max_drop_share,
        previous=previous,
        count_bins=count_bins,
    )
    for line in summary.event_lines:
        say(f"  data: {line}")
    return summary


class _Progress:
    """A progress bar on a terminal, nothing otherwise (batch logs stay clean)."""

    def __init__(self, total: int) -> None:
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="lead", file=sys.stderr)

    def update(self, n: int) -> None:
        if self.bar:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar:
            self.bar.close()


def score_tables(
    tables: Tables,
    rejects: pd.DataFrame,
    scorer: Scorer,
    settings: ModelSettings,
    version: str,
    as_of: pd.Timestamp,
    out: str | Path,
    *,
    chunk_leads: int = CHUNK_LEADS,
    say: Say = lambda _m: None,
    events: pd.DataFrame | EventSource | None = None,
    max_drop_share: float | None = None,
    previous: pd.DataFrame | None = None,
    count_bins: bool = False,
) -> ScoreSummary:
    """Score every open lead at ``as_of`` into ``out`` (Parquet or CSV); rejects beside it.

    ``events`` overrides ``tables.events``, e.g. with an ``EventSource`` read from the file;
    ``previous`` is the history's previous night (``history.previous_night``), for
    ``score_change`` and ``tier_since`` (missing without a history); ``count_bins``: also
    count the rows per reference bin (``ScoreSummary.bin_counts``), for a history.

    It reads top to bottom as the night's steps (open leads, chunks, features, scores and
    reasons, the file, the counts), sharing the run's totals between them.
    """
    t0 = time.perf_counter()
    snaps = open_at(tables, scorer, as_of)
    not_open = len(tables.leads) - len(snaps)
    # Reading and checking the folder leaves Arrow's allocator holding the memory it freed
    # (0.8 of 1.8 GB at 3M leads); the engine and numpy, which come next, allocate
    # elsewhere, so it would only raise the job's peak.
    pa.default_memory_pool().release_unused()
    counts: dict[str, dict[str, int]] = {}
    if scorer.spec.account_window:
        # Colleagues are counted within a chunk: an account's leads go in one chunk.
        account = lead_account(tables.leads, snaps["lead_id"]).astype("string")
        snaps = snaps.iloc[np.argsort(account.fillna("").to_numpy(), kind="stable")]
        snaps = snaps.reset_index(drop=True)

    event_lines: list[str] = []

    def score_into(tmp: Path) -> None:
        # Each chunk's scores go to a scratch file as they are made, so memory does not grow
        # with the number of leads; ranks and tiers need the whole night, so they are set
        # in a second pass over that file, which writes the output.
        night = NightSink(scratch_file(Path(out)))
        try:
            with _read_once(events, tables, snaps, as_of, chunk_leads, max_drop_share) as (
                source,
                lines,
            ):
                counts["unseen"], counts["missing"], counts["bins"] = _score_chunks(
                    tables,
                    snaps,
                    scorer,
                    settings,
                    version,
                    source,
                    chunk_leads,
                    night.add,
                    settings.reference if count_bins else None,
                )
            event_lines.extend(lines)
            sink = ScoreSink(tmp, csv=Path(out).suffix == ".csv")
            for part in night.placed(settings.tiers):
                sink.add(carry(part, previous)[SCORE_COLUMNS])
            sink.close()
        finally:
            night.remove()
        counts["rows"] = {"scored": sink.rows}

    out_path = write_atomic(Path(out), score_into)
    unseen_total, missing_total = counts["unseen"], counts["missing"]
    rejects_path = write_rejects(rejects, out_path) if len(rejects) else None
    summary = ScoreSummary(
        rows_in=len(snaps) + len(rejects),
        scored=counts["rows"]["scored"],
        rejected=len(rejects),
        not_open=not_open,
        out=out_path,
        rejects=rejects_path,
        seconds=time.perf_counter() - t0,
        unseen_categories=unseen_total,
        new_missing=missing_total,
        event_lines=event_lines,
        bin_counts=counts["bins"] or None,
    )
    return summary


@contextmanager
def _read_once(
    events: pd.DataFrame | EventSource | None,
    tables: Tables,
    snaps: pd.DataFrame,
    as_of: pd.Timestamp,
    chunk_leads: int,
    max_drop_share: float | None = None,
) -> Iterator[tuple[pd.DataFrame | EventSource | PreparedEvents | None, list[str]]]:
    """An event file read once for every chunk, its rows counted by the validator's rules
    in the same scan (the lines to report); other events as they are, with no lines."""
    if not isinstance(events, EventSource):
        yield events, []
        return
    con = connect(memory_limit=ENGINE_MEMORY)
    try:
        try:
            prepared = prepare_events(
                events, tables.leads, snaps["lead_id"], as_of, chunk_leads, con
            )
        except duckdb.OutOfMemoryException as err:
            raise _engine_failed(len(snaps), err) from None
        except duckdb.Error as err:
            raise unreadable(events, err) from None
    finally:
        con.close()
    with prepared:
        rows = prepared.rows
        skipped = {reason: rows[reason] for reason in SKIPPED.values()}
        if max_drop_share is not None:  # before any chunk is scored
            check_event_drops(sum(rows.values()), skipped, max_drop_share)
        yield prepared, event_rule_lines(events, sum(rows.values()), skipped)


def chunk_bounds(
    snaps: pd.DataFrame, leads: pd.DataFrame, spec, chunk_leads: int
) -> list[tuple[int, int]]:
    """Row ranges of about ``chunk_leads`` leads; with account features, each cut moved to
    the next change of account, so colleagues are in one chunk (``snaps`` in account order)."""
    n = len(snaps)
    cuts = list(range(chunk_leads, n, chunk_leads))
    if spec.account_window and cuts:
        account = lead_account(leads, snaps["lead_id"]).astype("string").fillna("").to_numpy()
        change = np.flatnonzero(account[1:] != account[:-1]) + 1  # first row of each account
        at = np.searchsorted(change, cuts, side="left")
        cuts = sorted({int(change[i]) for i in at if i < len(change)})
    edges = [0, *cuts, n]
    return [(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


def _add(total: dict, counts: dict) -> None:
    for k, v in counts.items():
        total[k] = total[k] + v if k in total else v


def _score_chunks(
    tables: Tables,
    snaps: pd.DataFrame,
    scorer: Scorer,
    settings: ModelSettings,
    version: str,
    events: pd.DataFrame | EventSource | PreparedEvents | None,
    chunk_leads: int,
    sink: Callable[[pd.DataFrame], None],
    reference: Reference | None = None,
) -> tuple[dict[str, int], dict[str, int], dict[str, np.ndarray]]:
    """Scores of every open lead, chunk by chunk, handed to ``sink``; returns the
    silent-value counts of all chunks and their rows per bin of ``reference`` (empty
    without one).

    The next chunk's features are built (mostly inside the engine, which releases the GIL)
    while this chunk is explained and phrased (mostly single-threaded numpy/Arrow): on two
    cores that overlap keeps both busy.
    """
    baseline, top_k = settings.baseline, settings.explain.top_reasons
    unseen_total: dict[str, int] = {}
    missing_total: dict[str, int] = {}
    bins_total: dict[str, np.ndarray] = {}
    progress = _Progress(len(snaps))
    parts = [
        snaps.iloc[a:b] for a, b in chunk_bounds(snaps, tables.leads, scorer.spec, chunk_leads)
    ]
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = (
            pool.submit(scoring_features, tables, parts[0], scorer.spec, events) if parts else None
        )
        # Read the model for SHAP while the engine builds the first chunk.
        scorer.prepare(len(parts[0]) if parts else 0)
        for i, part in enumerate(parts):
            assert pending is not None
            try:
                feats = pending.result()
            except duckdb.Error as err:  # e.g. out of memory and of spill space
                raise _engine_failed(len(part), err) from None
            pending = (
                pool.submit(scoring_features, tables, parts[i + 1], scorer.spec, events)
                if i + 1 < len(parts)
                else None
            )
            unseen, missing = drift_counts(feats, scorer)
            _add(unseen_total, unseen)
            _add(missing_total, missing)
            if reference is not None:
                _add(bins_total, bin_counts(reference, feats))
            # SHAP takes a second thread once the next chunk's features are built.
            sink(score_frame(feats, scorer, baseline, top_k, version, 2, pending))
            del feats
            progress.update(len(part))
    progress.close()
    return unseen_total, missing_total, bins_total


def _engine_failed(leads: int, err: duckdb.Error) -> DataError:
    return DataError(
        f"events: the feature engine failed on {leads:,} leads "
        f"({str(err).splitlines()[0]}); nothing written"
    )
