"""Reasons: per-lead SHAP contributions grouped onto things a person knows, phrased for sales.

LightGBM's own SHAP values (``pred_contrib``) split each lead's raw score into one part per
feature plus a base value. Features that describe one thing (the 7/30/90-day counts, recency
and decayed count of pricing-page views) are summed into one group, and each group is phrased
with its sign and the lead's actual value: "+ viewed the pricing page 3 times in the last
7 days", "- unsubscribed", "+ company of 200-500 employees". A flat model's groups are the
file's own columns, phrased from their values ("+ company size 456 employees").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.features.spec import MISSING, OTHER, FeatureSpec, slug

# How an event type reads in a sentence ("<verb> 3 times in the last 7 days").
EVENT_VERBS = {
    "email_open": "opened an email",
    "email_click": "clicked an email",
    "page_view": "viewed a web page",
    "pricing_page_view": "viewed the pricing page",
    "content_download": "downloaded content",
    "webinar_attended": "attended a webinar",
    "form_submit": "submitted a form",
    "demo_request": "requested a demo",
    "free_signup": "signed up for the free plan",
    "event_attended": "attended an event",
    "social_engagement": "engaged on social media",
    "unsubscribe": "unsubscribed",
    "email_bounce": "had an email bounce",
    "other": "had other activity",
}

ACTIVITY = "overall activity"
LEAD_AGE = "lead age"
STAGE = "funnel stage"
COLLEAGUES = "colleagues"
# What the lead did (behaviour): its events, overall activity, age and where it has got to in
# the funnel. Every other group is who the lead is (fit).
ENGAGEMENT_GROUPS = (ACTIVITY, LEAD_AGE, STAGE)
# Stage names sales writes in capitals (marketing-, sales-accepted, sales-, product-qualified).
STAGE_ACRONYMS = ("mql", "sal", "sql", "pql")


def feature_groups(spec: FeatureSpec) -> dict[str, str]:
    """Feature column -> the group it is explained under."""
    groups: dict[str, str] = {}
    if spec.kind == "flat":
        return {c: c for c in spec.feature_columns}
    for t in spec.event_buckets:
        s = slug(t)
        for c in spec.engagement_columns():
            if c.startswith(f"{s}_") and c[len(s) + 1 :].split("_")[0] in {
                *(f"{w}d" for w in spec.windows_days),
                "total",
                "days",
                "decayed",
            }:
                groups[c] = f"event:{s}"
    for c in spec.engagement_columns():
        groups.setdefault(c, LEAD_AGE if c == "days_since_created" else ACTIVITY)
    for c in spec.explicit_columns():
        base = c.removesuffix("_missing").removesuffix("_band")
        base = {"annual_revenue": "revenue", "revenue": "revenue", "job_title": "seniority"}.get(
            base, base
        )
        groups[c] = base
    for c in spec.stage_columns():
        groups[c] = STAGE
    for c in spec.account_columns():
        groups[c] = COLLEAGUES
    return groups


def side(group: str) -> str:
    """ "engagement" for a group about what the lead did, "fit" for one about who it is."""
    return "engagement" if group.startswith("event:") or group in ENGAGEMENT_GROUPS else "fit"


def group_contributions(contrib: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """Per-row contributions summed by group (columns = groups; ``bias`` dropped)."""
    groups = feature_groups(spec)
    names = sorted(set(groups.values()))
    index = {g: i for i, g in enumerate(names)}
    cols = [c for c in contrib.columns if c != "bias"]
    m = np.zeros((len(cols), len(names)))
    for j, c in enumerate(cols):
        m[j, index[groups[c]]] = 1.0
    return pd.DataFrame(contrib[cols].to_numpy() @ m, columns=names, index=contrib.index)


def _number(x: float | None, missing: str = "missing") -> str:
    """A value as a person writes it: "0.25", "456", "38,985,000" (never "3.9e+07"); above
    1,000 to seven significant digits, what a float32 feature holds (no "496,593,984")."""
    if x is None or not np.isfinite(x):
        return missing
    return f"{float(f'{x:.7g}'):,.0f}" if abs(x) >= 1000 else f"{x:,.4g}"


def _numbers(col: pd.Series, missing: str = "missing") -> pd.Series:
    from leadscore.features.explicit import by_distinct

    # Formatting is per value, so it runs once per distinct value, not once per lead.
    return by_distinct(col.astype("float64"), lambda u: u.map(lambda x: _number(x, missing)))


def _noun(noun: str, many: str | None) -> str:
    return many or noun + "s"


def count_words(n: int, noun: str, many: str | None = None) -> str:
    """A count with its noun in agreement: "1 day", "30 days" (``many``: an irregular plural)."""
    return f"{_number(n)} {noun if n == 1 else _noun(noun, many)}"


def counted(n: pd.Series, noun: str, many: str | None = None) -> pd.Series:
    """Per row, ``n`` rounded to a whole number with its noun in agreement ("1 activity",
    "3 activities"); a missing count reads "?" with the plural. Every sentence that puts a
    number before a noun goes through here or ``count_words``."""
    k = n.astype("float64").round()
    words = np.where(k == 1, f" {noun}", f" {_noun(noun, many)}")
    return _numbers(k, "?").astype("string") + pd.Series(words, index=n.index)


def _event_phrase(features: pd.DataFrame, s: str, spec: FeatureSpec) -> pd.Series:
    verb = EVENT_VERBS.get(s, f"had {s.replace('_', ' ')} activity")
    out = pd.Series(f"never {verb}", index=features.index, dtype="object")
    total = features[f"{s}_total"].astype("float64")
    since = features[f"{s}_days_since"].astype("float64")
    done = total > 0
    ago = counted(since, "day")
    out = out.where(~done, verb + " " + counted(total, "time") + ", last " + ago + " ago")
    # The shortest window with activity makes the most concrete sentence.
    for w in sorted(spec.windows_days, reverse=True):
        n = features[f"{s}_{w}d"].astype("float64")
        within = f" in the last {count_words(w, 'day')}"
        out = out.where(~(n > 0), verb + " " + counted(n, "time") + within)
    if s == "unsubscribe":
        out = out.where(~done, "unsubscribed")
    return out


def _band_phrase(features: pd.DataFrame, column: str, unknown: str, template: str) -> pd.Series:
    """A size band in words ("company of 200-500 employees"), or ``unknown`` when missing."""
    idx = features.index
    band = (
        features[column].astype("string") if column in features else pd.Series("missing", index=idx)
    )
    before, after = template.split("{}")
    return pd.Series(
        np.where(band == "missing", unknown, before + band.fillna("?") + after), index=idx
    )


def _explicit_phrase(features: pd.DataFrame, group: str) -> pd.Series:
    idx = features.index
    if group == "seniority":
        v = (
            features["seniority"]
            .astype("string")
            .str.replace("_", "-")
            .replace({"c-level": "C-level", "vp": "VP"})
        )
        return ("seniority: " + v.fillna("unknown")).astype("object")
    if group == "employees":
        return _band_phrase(
            features, "employees_band", "company size unknown", "company of {} employees"
        )
    if group == "revenue":
        return _band_phrase(features, "revenue_band", "revenue unknown", "annual revenue {}")
    if group == "email_domain":
        labels = {
            "business": "business email address",
            "free": "free email address (gmail, yahoo...)",
            "disposable": "disposable email address",
            "invalid": "malformed email address",
            "missing": "no email address",
        }
        domain = features["email_domain"].astype("string")
        # A flat file's email_domain holds the domain itself, not its class.
        said = "email domain: " + domain.fillna("missing")
        return domain.map(labels).fillna(said).astype("object")
    if group == "job_function":
        return (
            "job function: "
            + features["job_function"].astype("string").str.replace("_", " / ").fillna("unknown")
        ).astype("object")
    if group in features.columns:
        return _value_phrase(features[group], group)
    return pd.Series(group.replace("_", " "), index=idx, dtype="object")


def _is_number(col: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(col) and not isinstance(col.dtype, pd.CategoricalDtype)


def _value_phrase(col: pd.Series, name: str) -> pd.Series:
    label = name.replace("_", " ")
    if not _is_number(col):
        return (label + ": " + col.astype("string").fillna("missing")).astype("object")
    return (label + " " + _numbers(col)).astype("object")


# Flat-file columns whose numbers read as a company's size or revenue, as the events mode's
# bands do: the column, the sentence before the number, and the words when it is missing.
FLAT_SIZES = {
    "employees": ("company size ", "company size unknown"),
    "annual_revenue": ("annual revenue ", "revenue unknown"),
    "revenue": ("annual revenue ", "revenue unknown"),
}


def _flat_phrase(features: pd.DataFrame, column: str) -> pd.Series:
    """The sentence for one column of a flat file (a flat model's every group is one column).

    Flat features are the file's own columns: no ``employees_band`` or ``revenue_band``, so a
    company's size and revenue read from their numbers ("company size 456 employees")."""
    col = features[column]
    if column in FLAT_SIZES and _is_number(col):
        before, unknown = FLAT_SIZES[column]
        n = col.astype("float64")
        value = counted(n, "employee") if column == "employees" else _numbers(n).astype("string")
        return (before + value).where(n.notna(), unknown).astype("object")
    if column in ("seniority", "email_domain"):
        return _explicit_phrase(features, column)
    return _value_phrase(col, column)


def _activity_phrase(features: pd.DataFrame, spec: FeatureSpec) -> pd.Series:
    w = spec.windows_days[1] if len(spec.windows_days) > 1 else spec.windows_days[0]
    n = features[f"events_{w}d"].astype("float64")
    days = features[f"active_days_{w}d"].astype("float64")
    within = f" in the last {count_words(w, 'day')}"
    text = (
        counted(n, "activity", "activities") + within + " (" + counted(days, "distinct day") + ")"
    )
    return text.where(n > 0, "no activity" + within).astype("object")


def stage_name(stage: pd.Series) -> pd.Series:
    """A stage as the data names it, in words: "closed_won" -> "closed won"; the funnel's
    acronyms in capitals ("sql" -> "SQL"), as sales writes them."""
    words = stage.str.replace("_", " ")
    return words.str.upper().where(stage.isin(STAGE_ACRONYMS), words)


def _stage_phrase(features: pd.DataFrame) -> pd.Series:
    """ "in stage SQL for 12 days", "in another stage for 3 days" (a stage the model was not
    trained on), or "no funnel stage yet"."""
    stage = features["current_stage"].astype("string")
    days = counted(features["days_in_stage"].astype("float64"), "day")
    where = ("in stage " + stage_name(stage)).where(stage != OTHER, "in another stage")
    text = where + " for " + days
    return text.where(stage.notna() & (stage != MISSING), "no funnel stage yet").astype("object")


def _colleagues_phrase(features: pd.DataFrame, w: int) -> pd.Series:
    """ "2 of 3 colleagues active in the last 30 days (12 events)", or "no colleagues
    open at the account"."""
    n = features["account_open_leads"].astype("float64")
    active = features[f"account_active_leads_{w}d"].astype("float64")
    events = features[f"account_events_{w}d"].astype("float64")
    of = active.round().astype("Int64").astype("string").fillna("?") + " of "
    within = f" active in the last {count_words(w, 'day')} ("
    text = of + counted(n, "colleague") + within + counted(events, "event") + ")"
    text = text.where(n > 0, "no colleagues open at the account")
    return text.where(n.notna(), "no account").astype("object")


def phrases(features: pd.DataFrame, group: str, spec: FeatureSpec) -> pd.Series:
    """The sentence for one group, for every row (vectorised over rows)."""
    if spec.kind == "flat":
        return _flat_phrase(features, group)
    if group.startswith("event:"):
        return _event_phrase(features, group[len("event:") :], spec)
    if group == ACTIVITY:
        return _activity_phrase(features, spec)
    if group == STAGE:
        return _stage_phrase(features)
    if group == COLLEAGUES:
        return _colleagues_phrase(features, spec.account_window)
    if group == LEAD_AGE:
        age = counted(features["days_since_created"].astype("float64"), "day")
        return ("lead created " + age + " ago").astype("object")
    return _explicit_phrase(features, group)


def phrase_columns(group: str, spec: FeatureSpec, columns: pd.Index) -> list[str]:
    """The feature columns a group's sentence reads (so only those are sliced per group)."""
    if spec.kind == "flat":
        wanted = [group]
    elif group.startswith("event:"):
        s = group[len("event:") :]
        wanted = [f"{s}_total", f"{s}_days_since", *(f"{s}_{w}d" for w in spec.windows_days)]
    elif group == ACTIVITY:
        wanted = [*(f"events_{w}d" for w in spec.windows_days)]
        wanted += [f"active_days_{w}d" for w in spec.windows_days]
    elif group == LEAD_AGE:
        wanted = ["days_since_created"]
    elif group == STAGE:
        wanted = ["current_stage", "days_in_stage"]
    elif group == COLLEAGUES:
        wanted = spec.account_columns()
    else:
        wanted = [group, f"{group}_band", "employees_band", "revenue_band"]
        wanted += ["seniority", "email_domain", "job_function"]
    return [c for c in dict.fromkeys(wanted) if c in columns]


def _largest(size: np.ndarray, k: int) -> np.ndarray:
    """Per row, the columns of the ``k`` largest values, largest first, ties to the lower
    column: ``np.argsort(-size, axis=1, kind="stable")[:, :k]``, by ``k`` passes of argmax
    (which takes the first of equal values) instead of a sort of every row."""
    if k > 8 or np.isnan(size).any():
        return np.argsort(-size, axis=1, kind="stable")[:, :k]
    left = size.copy()
    rows = np.arange(len(size))
    order = np.empty((len(size), k), dtype=np.int64)
    for j in range(k):
        order[:, j] = np.argmax(left, axis=1)
        left[rows, order[:, j]] = -np.inf
    return order


def _as_said(columns: pd.DataFrame, group: str) -> pd.DataFrame:
    """A group's columns as its sentence reads them: days in whole numbers (the sentences
    round them), the rest as they are."""
    if group.startswith("event:"):
        days = [f"{group[len('event:') :]}_days_since"]
    else:
        days = {STAGE: ["days_in_stage"], LEAD_AGE: ["days_since_created"]}.get(group, [])
    days = [c for c in days if c in columns.columns]
    if not days:
        return columns
    return columns.assign(**{c: columns[c].astype("float64").round() for c in days})


def _distinct_rows(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """One row position per distinct row of ``frame`` (missing values equal), and each row's
    index among them."""
    key = np.zeros(len(frame), dtype=np.int64)
    size = 1
    for c in frame.columns:
        codes, uniques = pd.factorize(frame[c], use_na_sentinel=False)
        if size * (len(uniques) + 1) >= 1 << 62:  # renumber before the key outgrows 63 bits
            _, key = np.unique(key, return_inverse=True)
            size = int(key.max()) + 1 if len(key) else 1
        key = key * (len(uniques) + 1) + codes
        size *= len(uniques) + 1
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def top_reasons(
    features: pd.DataFrame, contrib: pd.DataFrame, spec: FeatureSpec, k: int = 3
) -> pd.Series:
    """The ``k`` groups that moved each lead's score most, signed and phrased, joined by "; "."""
    return top_reasons_grouped(features, group_contributions(contrib, spec), spec, k)


def top_reasons_grouped(
    features: pd.DataFrame, grouped: pd.DataFrame, spec: FeatureSpec, k: int = 3
) -> pd.Series:
    """``top_reasons`` from contributions already summed by group (``bias`` ignored)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    grouped = grouped.drop(columns="bias", errors="ignore")
    names = list(grouped.columns)
    values = grouped.to_numpy()
    k = min(k, len(names))
    order = _largest(np.abs(values), k)
    shown = np.zeros(values.shape, dtype=bool)
    shown[np.arange(len(values))[:, None], order] = True
    # Phrase only the groups that appear in some row's top k (usually a handful), each only
    # for the rows that show it, and once per distinct set of what its sentence says; each
    # row's sentence for a group is a code into ``said``, the sentences made.
    code = np.zeros((len(features), len(names)), dtype=np.int64)
    said: list[str | None] = []
    feats = features.reset_index(drop=True)
    for g in np.unique(order):
        need = shown[:, g]
        cols = phrase_columns(names[g], spec, feats.columns)
        distinct = _as_said(feats.loc[need, cols], names[g])
        first, inverse = _distinct_rows(distinct)
        code[need, g] = len(said) + inverse
        said += list(phrases(distinct.iloc[first], names[g], spec).to_numpy(dtype=object))
    rows = np.arange(len(features))[:, None]
    # Every sentence with either sign, then taken and joined by Arrow's kernels: one pass in
    # C++ per part, no Python string per lead.
    signed = pa.array(
        [None if t is None else "+ " + t for t in said]
        + [None if t is None else "- " + t for t in said],
        pa.string(),
    )
    picked = code[rows, order] + len(said) * ~(values[rows, order] >= 0)
    parts = [pc.take(signed, picked[:, j]) for j in range(k)]
    joined = pc.binary_join_element_wise(*parts, "; ") if k else pa.array([""] * len(features))
    return pd.Series(pd.arrays.ArrowStringArray(joined), index=features.index)


def global_importance(contrib: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """Mean |SHAP| per group, and which side (fit or engagement) the group belongs to."""
    grouped = group_contributions(contrib, spec)
    imp = grouped.abs().mean().sort_values(ascending=False)
    out = pd.DataFrame({"group": imp.index, "mean_abs_contribution": imp.to_numpy()})
    out["side"] = out["group"].map(side)
    out["label"] = out["group"].map(
        lambda g: EVENT_VERBS.get(g[6:], g[6:]) if g.startswith("event:") else g.replace("_", " ")
    )
    return out
