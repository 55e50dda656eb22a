"""Explicit (firmographic) features: what a lead *is*, from the leads table alone.

Pure, row-wise vectorised pandas: each output row depends only on its own input row, so the
same functions run unchanged per partition in a distributed engine (Spark's mapInPandas).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

SENIORITY_LEVELS = ("c_level", "vp", "director", "manager", "individual", "unknown")
FUNCTIONS = (
    "marketing",
    "sales",
    "it_engineering",
    "finance",
    "operations",
    "executive",
    "other",
    "unknown",
)
EMAIL_CLASSES = ("business", "free", "disposable", "invalid", "missing")

# Order matters: the first pattern that matches wins ("VP, Director of ..." is a VP).
_SENIORITY_PATTERNS: list[tuple[str, str]] = [
    # Assistants to executives are not executives.
    ("individual", r"\b(?:assistant to|executive assistant|personal assistant|intern)\b"),
    (
        "c_level",
        r"\b(?:chief|ceo|cto|cfo|coo|cmo|cio|ciso|cro|cpo|founder|co-founder|cofounder|owner|(?<!vice )(?<!vice-)president|partner|managing director)\b",
    ),
    ("vp", r"\b(?:vp|svp|evp|avp|vice[\s-]+president)\b"),
    ("director", r"\b(?:director|head of|head,|dir\.?)\b|^head\b"),
    ("manager", r"\b(?:manager|mgr|team lead|lead,|supervisor|principal)\b|\blead\b"),
    (
        "individual",
        r"\b(?:engineer|developer|specialist|analyst|associate|representative|rep|coordinator|consultant|intern|assistant|administrator|designer|scientist|architect|executive|officer|accountant|agent|student|staff)\b",
    ),
]

_FUNCTION_PATTERNS: list[tuple[str, str]] = [
    ("marketing", r"\b(?:marketing|growth|brand|demand|content|seo|communications|cmo)\b"),
    ("sales", r"\b(?:sales|account|business development|bdr|sdr|revenue|cro)\b"),
    (
        "it_engineering",
        r"\b(?:it|engineering|engineer|developer|technology|cto|cio|ciso|data|software|security|devops|architect|infrastructure)\b",
    ),
    ("finance", r"\b(?:finance|financial|cfo|accountant|accounting|controller)\b"),
    (
        "operations",
        r"\b(?:operations|coo|supply|logistics|procurement|hr|people|human resources)\b",
    ),
    ("executive", r"\b(?:ceo|founder|co-founder|owner|president|managing director)\b"),
]

FREE_EMAIL_DOMAINS = frozenset(
    """gmail.com googlemail.com yahoo.com yahoo.co.uk yahoo.fr ymail.com hotmail.com hotmail.co.uk
    hotmail.fr live.com msn.com outlook.com aol.com icloud.com me.com mac.com gmx.de gmx.net gmx.com
    web.de mail.ru yandex.ru yandex.com proton.me protonmail.com zoho.com qq.com 163.com 126.com
    rediffmail.com libero.it orange.fr free.fr t-online.de laposte.net""".split()
)
DISPOSABLE_EMAIL_DOMAINS = frozenset(
    """mailinator.com 10minutemail.com guerrillamail.com guerrillamail.net tempmail.com temp-mail.org
    trashmail.com yopmail.com sharklasers.com getnada.com maildrop.cc dispostable.com throwawaymail.com
    fakeinbox.com mintemail.com mohmal.com emailondeck.com tempr.email""".split()
)

_EMAIL_RE = r"^[^@\s]+@([a-z0-9-]+\.)+[a-z]{2,}$"

# Common spellings of the same country, so "US", "usa" and "United States" are one value.
COUNTRY_ALIASES = {
    "us": "united states",
    "usa": "united states",
    "u.s.": "united states",
    "u.s.a.": "united states",
    "united states of america": "united states",
    "america": "united states",
    "uk": "united kingdom",
    "gb": "united kingdom",
    "great britain": "united kingdom",
    "england": "united kingdom",
    "u.k.": "united kingdom",
    "de": "germany",
    "deutschland": "germany",
    "fr": "france",
    "ca": "canada",
    "nl": "netherlands",
    "the netherlands": "netherlands",
    "holland": "netherlands",
    "au": "australia",
    "aus": "australia",
    "in": "india",
    "br": "brazil",
    "brasil": "brazil",
    "es": "spain",
    "it": "italy",
    "jp": "japan",
    "sg": "singapore",
    "ng": "nigeria",
    "mx": "mexico",
}

EMPLOYEE_BANDS = (0, 10, 50, 200, 500, 1000, 5000, 10000)
REVENUE_BANDS = (0, 1e6, 1e7, 5e7, 1e8, 5e8, 1e9)

_PLACEHOLDERS = {"", "-", "--", "n/a", "na", "none", "null", "nan", "unknown", "select", "?"}


def by_distinct(values: pd.Series, fn) -> pd.Series:
    """Apply a vectorised ``fn`` once per distinct value and spread the result back.

    CRM columns repeat a few values (titles, industries, countries) across millions of rows,
    so this turns the string work from per-row into per-distinct-value.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    base = pd.Series(list(uniques) + [None], dtype="object")
    mapped = fn(base).to_numpy(dtype=object)
    codes = np.where(codes < 0, len(uniques), codes)
    return pd.Series(mapped[codes], index=values.index, dtype="object")


def _normalise(values: pd.Series) -> pd.Series:
    s = values.astype("string").str.strip().str.lower().str.replace(r"\s+", " ", regex=True)
    return s.mask(s.isin(_PLACEHOLDERS))


def normalise_text(values: pd.Series) -> pd.Series:
    """Lower-case, trim and collapse spaces; placeholders ("n/a", "-", "select") become missing."""
    return by_distinct(values, _normalise).astype("string")


def _first_match(
    text: pd.Series, patterns: list[tuple[str, str]], no_match: str, missing: str
) -> pd.Series:
    out = pd.Series(no_match, index=text.index, dtype="object")
    done = pd.Series(False, index=text.index)
    filled = text.fillna("")
    for label, pattern in patterns:
        hit = filled.str.contains(pattern, regex=True, flags=re.IGNORECASE) & ~done
        out[hit.to_numpy()] = label
        done |= hit
    out[text.isna().to_numpy()] = missing
    return out


def seniority(job_title: pd.Series) -> pd.Series:
    """Seniority level parsed from a free-text job title (``unknown`` when it cannot be told)."""
    return by_distinct(
        job_title, lambda t: _first_match(_normalise(t), _SENIORITY_PATTERNS, "unknown", "unknown")
    )


def job_function(job_title: pd.Series) -> pd.Series:
    """Business function parsed from a job title."""
    return by_distinct(
        job_title, lambda t: _first_match(_normalise(t), _FUNCTION_PATTERNS, "other", "unknown")
    )


def email_domain_class(
    email: pd.Series,
    free: frozenset[str] | tuple[str, ...] | None = None,
    disposable: frozenset[str] | tuple[str, ...] | None = None,
) -> pd.Series:
    """business, free, disposable, invalid (malformed) or missing, from the address's domain
    (``free``, ``disposable``: the domain lists; None: the built-in ones)."""
    free = FREE_EMAIL_DOMAINS if free is None else frozenset(free)
    disposable = DISPOSABLE_EMAIL_DOMAINS if disposable is None else frozenset(disposable)
    e = email.astype("str").str.strip().str.lower() if len(email) else email.astype("string")
    e = e.where(email.notna())
    # Arrow's regex kernel (pandas' own .str.match walks the values in Python here).
    text = pa.array(e.astype("string").array)
    valid = pc.fill_null(pc.match_substring_regex(text, _EMAIL_RE), False).to_numpy(
        zero_copy_only=False
    )
    domain = e.str.replace(r"^.*@", "", regex=True)
    out = np.where(
        e.isna() | (e == ""),
        "missing",
        np.where(
            ~valid,
            "invalid",
            np.where(
                domain.isin(free).fillna(False),
                "free",
                np.where(domain.isin(disposable).fillna(False), "disposable", "business"),
            ),
        ),
    )
    return pd.Series(out, index=email.index, dtype="object")


def country(values: pd.Series) -> pd.Series:
    """Normalised country name (aliases such as "US" and "usa" folded together)."""
    return by_distinct(values, lambda v: _normalise(v).replace(COUNTRY_ALIASES)).astype("string")


def band(values: pd.Series, edges: tuple[float, ...], missing: str = "missing") -> pd.Series:
    """Label numbers by the band they fall in, e.g. "200-500" or "10000+"."""
    v = pd.to_numeric(values, errors="coerce").astype("float64")
    labels = [f"{_short(lo)}-{_short(hi)}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    labels.append(f"{_short(edges[-1])}+")
    idx = np.searchsorted(np.asarray(edges[1:]), v.to_numpy(), side="left")
    out = np.asarray(labels, dtype=object)[np.clip(idx, 0, len(labels) - 1)]
    out[np.isnan(v.to_numpy())] = missing
    return pd.Series(out, index=values.index, dtype="object")


def _short(x: float) -> str:
    for unit, div in (("bn", 1e9), ("m", 1e6)):
        if x >= div:
            return f"{x / div:g}{unit}"
    return f"{x:g}"


def categorical_value(values: pd.Series, column: str) -> pd.Series:
    """The normalised value of a categorical attribute (missing stays missing)."""
    return country(values) if column == "country" else normalise_text(values)


def explicit_values(
    leads: pd.DataFrame,
    categorical: list[str] | tuple[str, ...],
    numeric: list[str] | tuple[str, ...],
    extra_numeric: list[str] | tuple[str, ...] = (),
    extra_categorical: list[str] | tuple[str, ...] = (),
    domains: tuple[tuple[str, ...] | None, tuple[str, ...] | None] = (None, None),
) -> pd.DataFrame:
    """Explicit features before categories are fixed: one row per lead, keyed by ``lead_id``.

    Columns absent from ``leads`` come out as missing, so a CRM export without, say,
    ``annual_revenue`` still gets the same feature set.
    """
    n = len(leads)

    def col(name: str) -> pd.Series:
        return (
            leads[name]
            if name in leads.columns
            else pd.Series([pd.NA] * n, index=leads.index, dtype="object")
        )

    out = pd.DataFrame({"lead_id": leads["lead_id"].to_numpy()}, index=leads.index)
    out["seniority"] = seniority(col("job_title"))
    out["job_function"] = job_function(col("job_title"))
    out["email_domain"] = email_domain_class(col("email"), *domains)
    for name in categorical:
        out[name] = categorical_value(col(name), name)
    for name in numeric:
        out[name] = pd.to_numeric(col(name), errors="coerce").astype("float64")
    if "employees" in numeric:
        out["employees_band"] = band(out["employees"], EMPLOYEE_BANDS)
    if "annual_revenue" in numeric:
        out["revenue_band"] = band(out["annual_revenue"], REVENUE_BANDS)
    for name in extra_numeric:
        out[name] = pd.to_numeric(col(name), errors="coerce").astype("float64")
    for name in extra_categorical:
        out[name] = normalise_text(col(name))
    # Missing-value indicators: a blank field is itself a signal (a form left half-filled).
    for name in ("job_title", *categorical):
        out[f"{name}_missing"] = normalise_text(col(name)).isna().astype("float64")
    for name in numeric:
        out[f"{name}_missing"] = out[name].isna().astype("float64")
    return out.reset_index(drop=True)


def domain_lists(
    free: list[str], disposable: list[str], replace: bool
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The free and disposable domain lists: the built-in ones extended with ``free`` and
    ``disposable``, or those alone with ``replace``."""
    if replace:
        return tuple(sorted(set(free))), tuple(sorted(set(disposable)))
    return (
        tuple(sorted(FREE_EMAIL_DOMAINS | set(free))),
        tuple(sorted(DISPOSABLE_EMAIL_DOMAINS | set(disposable))),
    )
