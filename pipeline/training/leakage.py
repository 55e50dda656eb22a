"""The leakage guard: features that know the outcome are found before any model is fitted.

A field edited after the sale (a status set by sales, a won reason, a quality grade given
after the call) teaches a model the answer. Three rules: the first two are judged the way
the backtest is (each fold learns from its training rows and is judged on its test rows:
out of time in events mode and for dated or ordered flat files; held-out folds of a flat
file without order), with the figures pooled over the folds; the third reads the name.

- **Alone too good.** Each feature's values are put into cells: a categorical's levels; a
  number's quantile bins of its values other than 0 (edges from the column itself, which
  knows no label), a cell for 0 and one for missing. A cell's conversion rate is learnt on
  the fold's training rows (pulled towards the base rate by one row's weight; a cell not
  seen there gets the base rate), and the test rows are ranked by it. Pairs of rows are
  compared within a fold only (folds learn different base rates); the pooled ROC AUC above
  ``training.leakage.max_single_auc`` (0.95) flags the feature. Learnt rates catch a number
  whose middle values convert as well as one that rises.
- **Filled almost only for converted leads.** A cell *marks* conversions when at least
  ``purity`` (95%) of its training rows belong to leads that converted (on any of their
  rows: a lead's snapshots before its conversion window are labelled 0) and it holds at
  least ``min_rows`` (30) of them. Besides each level or bin, "filled" is a cell too: every
  value but missing (and 0, for a number), so a field filled now and then, always for a
  win, marks its wins even when each value is rare. The share of the converted leads' test
  rows that fall in marking cells at or above ``max_marked_share`` (a quarter) flags the
  feature. A small pure level (a referrer that sends few leads, nearly all of which
  convert) marks a small share and is not flagged; a field most wins carry and few losses
  do is. With a base rate at or above ``purity`` every large cell would mark, so the rule
  is then not applied.

- **Export-time field.** A lead field named like one sales edit after contact (a lead
  status, a rating, tags, the last activity, the owner, a stage, a lost reason:
  ``EXPORT_TIME_NAMES``, or ``training.leakage.export_time_names``) holds its value as of
  the export, after the outcome. It is flagged unless the field history changes it (the
  spec's ``history_fields``): then each row reads the value as it was. No figure tells
  these fields from honest ones (a rating given after the call ranks leads no better than
  the time they spent on the site): their name does.

Flagged features are left out of the table and the spec before the tournament, unless
``training.allow_features`` names them. Everything here is counting per cell (``bincount``
once per feature, over groups of rows alike in their folds): no model is fitted.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore.config import BUILTIN_NAMES, Config, LeakageConfig, name_key
from leadscore.errors import DataError
from leadscore.features.spec import MISSING, FeatureSpec
from leadscore.training.folds import Plan
from leadscore.training.sampling import SHARE

#: Quantile bins per numeric feature (fewer when values repeat).
BINS = 20
#: Values a number's bin edges are taken from (a seeded sample beyond this).
EDGE_SAMPLE = 100_000
#: Prior weight, in rows, pulling a cell's learnt rate towards the training base rate.
PRIOR_ROWS = 1.0

#: Names of the lead fields sales edit after contact in every CRM, with the standard field
#: each stands for. Compared as ``name_key`` does (case, spaces, "_" and "-" aside); "*"
#: is any run of characters. Left out on purpose: Do Not Call / Do Not Email (the lead's
#: own opt-out), lead source and job title (known at creation; their later edits are what
#: a field history is for), lead score (a marketing tool's sum, not a sales edit).
EXPORT_TIME_NAMES: tuple[str, ...] = (
    # Status: Salesforce Lead.Status, HubSpot hs_lead_status, Zoho Lead_Status, Dynamics
    # statuscode ("Status Reason").
    "status",
    "lead status",
    "hs lead status",
    "status reason",
    "status code",
    # Rating: Salesforce Lead.Rating (Hot / Warm / Cold), Dynamics leadqualitycode (shown
    # as "Rating"), "Lead Quality" in exports that name it so.
    "rating",
    "lead rating",
    "lead quality",
    "lead quality code",
    # Tags and labels sales put on the record (Zoho Tag, Pipedrive lead labels).
    "tag",
    "tags",
    "lead tags",
    "lead labels",
    # The latest activity, calls and emails included: Salesforce LastActivityDate, HubSpot
    # "Last Activity Date" (notes_last_updated) and hs_last_sales_activity_*, Zoho
    # Last_Activity_Time; "Last Notable Activity" too.
    "last*activity*",
    "hs last sales activity*",
    "next activity*",
    # HubSpot's notes_last_contacted, notes_last_updated, notes_next_activity_date,
    # num_contacted_notes ("Number of Sales Activities"), num_notes.
    "notes*",
    "num contacted notes",
    "num notes",
    "number of sales activities",
    "last contact*",
    "times contacted",
    "number of times contacted",
    "contacted",
    # Record edits and views by sales: Salesforce LastModifiedDate, LastViewedDate,
    # LastReferencedDate, LastTransferDate (owner changed); Zoho Modified_Time.
    "last modified*",
    "modified time",
    "modified by",
    "last viewed*",
    "last referenced*",
    "last transfer*",
    # The owner, reassigned on qualification and conversion: Salesforce OwnerId, HubSpot
    # hubspot_owner_id ("Contact owner"), Dynamics ownerid.
    "owner",
    "owner id",
    "owner name",
    "lead owner*",
    "contact owner*",
    "hubspot owner*",
    "hs all owner ids",
    # The current stage: HubSpot lifecyclestage and its hs_lifecyclestage_*_date, Dynamics
    # salesstage / salesstagecode / stepname, Salesforce Opportunity StageName.
    "stage",
    "lead stage",
    "lifecycle stage*",
    "hs lifecyclestage*",
    "sales stage*",
    "deal stage",
    "stage name",
    "pipeline stage",
    "step name",
    "next step",
    # A call's or lead's disposition, set by the rep after the call.
    "*disposition*",
    # Why a lead was lost or disqualified, or won (HubSpot hs_lead_disqualification_reason,
    # Salesforce Opportunity loss reasons).
    "*lost*reason*",
    "*loss*reason*",
    "reason*lost*",
    "*disqualif*",
    "*unqualif*",
    "*won*reason*",
    # The conversion itself: Salesforce IsConverted, ConvertedDate, Converted*Id; a close date.
    "converted*",
    "is converted",
    "close date",
    "closed date",
    "date closed",
)

COLUMNS = [
    "feature",
    "single_auc",
    "marked_share",
    "marked_cells",
    "export_time",
    "rule",
    "flagged",
    "kept",
]
EXPORT_TIME_RULE = "named like a field sales edits after contact, and no field_history for it"


def name_patterns(entries: Iterable[str]) -> tuple[str, ...]:
    """``training.leakage.export_time_names`` as patterns to compare: ``builtin`` expanded
    to ``EXPORT_TIME_NAMES``, each as ``name_key`` writes it, in order, once each."""
    out: list[str] = []
    for e in entries:
        out += EXPORT_TIME_NAMES if e == BUILTIN_NAMES else [e]
    return tuple(dict.fromkeys(name_key(p) for p in out))


def export_time_pattern(name: str, patterns: tuple[str, ...]) -> str | None:
    """The first of ``patterns`` (from ``name_patterns``) the whole of ``name`` matches."""
    key = name_key(name).replace("*", "")
    return next((p for p in patterns if fnmatch.fnmatchcase(key, p)), None)


def lead_field(feature: str, spec: FeatureSpec) -> str | None:
    """The lead field a feature holds as it is (a flat file's column, an explicit or extra
    lead column, or its ``_missing`` flag); None for one built from events, stages,
    accounts or parsed from a field (seniority from the job title), which the rule leaves be."""
    if spec.kind == "flat":
        return feature
    kept = (*spec.categorical, *spec.numeric, *spec.extra_numeric, *spec.extra_categorical)
    if feature in kept:
        return feature
    base = feature.removesuffix("_missing")
    if base != feature and base in ("job_title", *spec.categorical, *spec.numeric):
        return base
    return None


def export_time(feature: str, spec: FeatureSpec, patterns: tuple[str, ...]) -> bool:
    """Whether ``feature`` holds a lead field named like one sales edit after contact whose
    value the field history does not give as it was."""
    field = lead_field(feature, spec)
    return (
        field is not None
        and field not in spec.history_fields
        and export_time_pattern(field, patterns) is not None
    )


@dataclass(frozen=True)
class Cells:
    """One feature's rows as cells: ``code`` per row (0..n-1), and per cell its name and
    whether it holds filled values."""

    code: np.ndarray
    names: list[str]
    filled: np.ndarray


def feature_cells(values: pd.Series, categorical: bool, seed: int = 0) -> Cells:
    """A feature's cells: a categorical's levels (missing and the level ``missing`` are one
    cell), or a number's quantile bins of its values other than 0, a cell for 0 and one for
    missing. Every cell is filled but missing (and 0, for a number)."""
    if categorical:
        if isinstance(values.dtype, pd.CategoricalDtype):  # the table's own codes: no strings
            code, levels = values.cat.codes.to_numpy(np.int64), values.cat.categories
        else:
            code, levels = pd.factorize(values.astype("string"), sort=True)
        names = [str(n) for n in levels]
        if MISSING not in names:
            names.append(MISSING)
        code = np.where(code < 0, names.index(MISSING), code).astype(np.int64)
        return Cells(code, names, np.array([n != MISSING for n in names]))
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
    present = x[~np.isnan(x) & (x != 0)]
    if len(present) > EDGE_SAMPLE:
        present = np.random.default_rng(seed).choice(present, EDGE_SAMPLE, replace=False)
    edges = (
        np.unique(np.quantile(present, np.linspace(0, 1, BINS + 1)[1:-1]))
        if len(present)
        else np.array([])
    )
    bins = len(edges) + 1
    code = np.searchsorted(edges, np.nan_to_num(x), side="right")
    code = np.where(x == 0, bins, np.where(np.isnan(x), bins + 1, code))
    bounds = [-np.inf, *edges, np.inf]
    names = [f"[{bounds[i]:g}, {bounds[i + 1]:g})" for i in range(bins)] + ["0", MISSING]
    return Cells(code.astype(np.int64), names, np.arange(bins + 2) < bins)


def concordance(score: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> tuple[float, float]:
    """Of the (converted, not converted) pairs of rows, ranked by their cell's ``score``:
    how many the ranking orders right (ties count half), and how many there are. Their
    ratio is the ROC AUC; summing both over folds pools the folds without comparing rows of
    different folds (whose scores were learnt on different rows)."""
    value, at = np.unique(score, return_inverse=True)
    pos_v = np.bincount(at, weights=pos, minlength=len(value))
    neg_v = np.bincount(at, weights=neg, minlength=len(value))
    below = np.cumsum(neg_v) - neg_v
    return float((pos_v * (below + 0.5 * neg_v)).sum()), float(pos.sum() * neg.sum())


@dataclass(frozen=True)
class Groups:
    """The table's rows in groups that every fold learns from or judges whole (the rows
    alike in which folds they train and test), so a feature's cells are counted once per
    group and each fold sums the groups it uses."""

    of_row: np.ndarray  # each row's group
    train: np.ndarray  # folds x groups: the fold learns from the group
    test: np.ndarray  # folds x groups: the fold judges the group
    y: np.ndarray  # each row's label
    won: np.ndarray  # whether each row's lead converted, on any of its rows
    # How many rows each stands for: one over its share when non-converted rows were sampled
    # before the table was built (``sampling.SHARE``), else 1.
    weight: np.ndarray | None = None

    @property
    def size(self) -> int:
        return self.train.shape[1]


def row_groups(
    plan: Plan, y: np.ndarray, won: np.ndarray, weight: np.ndarray | None = None
) -> Groups:
    """``plan``'s folds as groups of rows (``y``: each row's label, ``won``: whether its
    lead converted on any row, ``weight``: how many rows each stands for)."""
    bits = np.zeros(len(y), dtype=np.int64)
    for i, f in enumerate(plan.folds):
        bits |= f.train.astype(np.int64) << (2 * i)
        bits |= f.test.astype(np.int64) << (2 * i + 1)
    pattern, of_row = np.unique(bits, return_inverse=True)
    shifts = 2 * np.arange(len(plan.folds))[:, None]
    train = ((pattern[None, :] >> shifts) & 1).astype(bool)
    test = ((pattern[None, :] >> (shifts + 1)) & 1).astype(bool)
    return Groups(of_row.ravel(), train, test, y, won, weight)


def check_feature(
    cells: Cells, groups: Groups, settings: LeakageConfig
) -> tuple[float, float, list[str]]:
    """One feature's pooled single-feature AUC, the share of judged rows of converted leads
    that sit in marking cells, and those cells' names (``filled`` for the filled cell)."""
    k, g = len(cells.names), groups.size
    at = cells.code * g + groups.of_row

    def count(weights: np.ndarray | None) -> np.ndarray:  # cells x groups
        return np.bincount(at, weights=weights, minlength=k * g).reshape(k, g)

    # Conversions are never sampled, so only the row and lead counts take the weights.
    weight = groups.weight
    rows = count(weight).astype("float64")
    pos = count(groups.y)
    won = count(groups.won if weight is None else groups.won * weight)
    right = pairs = marked = judged = 0.0
    marking: set[str] = set()
    for train, test in zip(groups.train, groups.test, strict=True):
        n, w, wn = rows[:, train].sum(1), pos[:, train].sum(1), won[:, train].sum(1)
        base = float(w.sum() / max(n.sum(), 1.0))
        score = (w + PRIOR_ROWS * base) / (n + PRIOR_ROWS)
        r, p = concordance(score, pos[:, test].sum(1), (rows - pos)[:, test].sum(1))
        right, pairs = right + r, pairs + p
        judged_won = won[:, test].sum(1)
        judged += float(judged_won.sum())
        if wn.sum() >= settings.purity * n.sum():  # most rows' leads convert: all would mark
            continue
        own = (n >= settings.min_rows) & (wn >= settings.purity * n)
        marks = own
        nf, wf = float(n[cells.filled].sum()), float(wn[cells.filled].sum())
        if nf >= settings.min_rows and wf >= settings.purity * nf:
            marks = own | cells.filled
            marking.add("filled")
        marked += float(judged_won[marks].sum())
        marking.update(cells.names[i] for i in np.flatnonzero(own))
    auc = right / pairs if pairs > 0 else float("nan")
    share = marked / judged if judged > 0 else float("nan")
    return auc, share, sorted(marking)


def _rule(auc: float, share: float, settings: LeakageConfig, named: bool = False) -> str:
    """Why a feature is flagged, in one phrase; empty when it is not (``named``: the
    export-time rule holds)."""
    why = []
    if settings.max_single_auc is not None and auc > settings.max_single_auc:
        why.append(f"alone ranks the held-out rows with ROC AUC {auc:.3f}")
    if settings.max_marked_share is not None and share >= settings.max_marked_share:
        why.append(
            f"filled almost only for converted leads: {share:.0%} of the converted leads' "
            f"held-out rows hold a value on which {settings.purity:.0%}+ converted"
        )
    if named:
        why.append(EXPORT_TIME_RULE)
    return "; ".join(why)


@dataclass(frozen=True)
class LeakageCheck:
    """What the guard measured (one row per feature, ``COLUMNS``) and decided."""

    table: pd.DataFrame
    rows: str  # which rows judged the features, in words
    unknown_allowed: tuple[str, ...] = ()

    @property
    def left_out(self) -> list[str]:
        return list(self.table.loc[self.table["flagged"] & ~self.table["kept"], "feature"])

    @property
    def kept(self) -> list[str]:
        return list(self.table.loc[self.table["flagged"] & self.table["kept"], "feature"])

    def lines(self) -> list[str]:
        """One line per flagged feature, then unknown allowed names, for the terminal."""
        out = []
        for r in self.table[self.table["flagged"]].itertuples():
            what = "kept (training.allow_features)" if r.kept else "left out"
            out.append(f"leakage guard: {r.feature} {what}: {r.rule}")
        if self.unknown_allowed:
            out.append(
                "leakage guard: training.allow_features names no feature of this table: "
                + ", ".join(self.unknown_allowed)
            )
        return out


def check_leakage(
    table: pd.DataFrame,
    spec: FeatureSpec,
    plan: Plan,
    settings: LeakageConfig,
    allow: list[str] | tuple[str, ...] = (),
    seed: int = 0,
) -> LeakageCheck:
    """Every feature of ``spec`` in ``table`` measured on ``plan``'s folds, flagged by the
    rules above and kept when ``allow`` names it."""
    y = table["label"].to_numpy(dtype="float64")
    # A lead's snapshots before its conversion window are labelled 0: "filled for converted
    # leads" asks whether the lead converted, on any of its rows.
    won = table.groupby("lead_id", sort=False)["label"].transform("max").to_numpy("float64")
    weight = 1.0 / table[SHARE].to_numpy("float64") if SHARE in table else None
    groups = row_groups(plan, y, won, weight)
    features = [c for c in spec.feature_columns if c in table.columns]
    patterns = name_patterns(settings.export_time_names)
    rows = []
    for c in features:
        cells = feature_cells(table[c], c in spec.categories, seed)
        auc, share, cells_marking = check_feature(cells, groups, settings)
        named = export_time(c, spec, patterns)
        rule = _rule(auc, share, settings, named)
        rows.append(
            {
                "feature": c,
                "single_auc": auc,
                "marked_share": share,
                "marked_cells": "; ".join(cells_marking),
                "export_time": named,
                "rule": rule,
                "flagged": bool(rule),
                "kept": bool(rule) and c in allow,
            }
        )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame = frame.sort_values(
        "single_auc", ascending=False, kind="stable", na_position="last", ignore_index=True
    )
    how = "out-of-time test rows" if plan.out_of_time else "held-out folds (not out of time)"
    unknown = tuple(a for a in allow if a not in features)
    return LeakageCheck(frame, f"each backtest fold's {how}", unknown)


def leave_out(
    table: pd.DataFrame, spec: FeatureSpec, names: list[str]
) -> tuple[pd.DataFrame, FeatureSpec]:
    """The table without ``names`` and the spec that no longer asks for them."""
    if not names:
        return table, spec
    spec = dataclasses.replace(spec, left_out=tuple(dict.fromkeys([*spec.left_out, *names])))
    return table.drop(columns=names), spec


def guard(
    table: pd.DataFrame, spec: FeatureSpec, plan: Plan, cfg: Config, say: Callable[[str], None]
) -> tuple[pd.DataFrame, FeatureSpec, LeakageCheck]:
    """The check on a training table, said one line per flagged feature, and the table and
    spec without the features it leaves out."""
    t = cfg.training
    check = check_leakage(table, spec, plan, t.leakage, t.allow_features, cfg.model.seed)
    for line in check.lines():
        say(f"  {line}")
    left = check.left_out
    if left and len(left) == len(spec.feature_columns):
        raise DataError(
            f"training: the leakage guard flags all {len(left)} features ({len(table):,} rows); "
            "name the ones to keep in training.allow_features"
        )
    table, spec = leave_out(table, spec, left)
    return table, spec, check
