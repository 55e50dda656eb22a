"""What a CRM records of it all: ids, free-text titles and emails with their noise, the leads,
events and outcomes tables, and the funnel stage history."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.data.synthetic._draw import (
    _join,
    _pick,
    _round_sig,
    _str_series,
    _take,
    _utc,
    _variant,
    _with_nulls,
)
from leadscore.data.synthetic._state import _read, _write
from leadscore.data.synthetic._vocab import (
    _CTRY_N,
    _CTRY_OFF,
    _CTRY_REGION,
    _CTRY_V,
    _DE,
    _FIRST_N,
    _FIRST_OFF,
    _FIRST_V,
    _FREE_P,
    _IND_NV,
    _IND_V,
    _LAST_N,
    _LAST_OFF,
    _LAST_V,
    _RU,
    _SRC_NV,
    _SRC_V,
    _TITLE_FORM_P,
    _TITLE_FORMS,
    _TITLES,
    DAY_S,
    DISPOSABLE_DOMAINS,
    EVENT_DTYPE,
    FREE_DOMAINS,
    _fd,
)


def _ids_titles_emails(rng: np.random.Generator, s: SimpleNamespace) -> None:
    """Lead ids, free-text job titles and email addresses, with a CRM's noise."""
    n, title_i, ctry, free, ecls, co_domain = _read(s, "n title_i ctry free ecls co_domain")
    co, disp, co_base, mal, nomail = _read(s, "co disp co_base mal nomail")
    width = max(7, len(str(n)))
    lead_ids = _join(
        "L", pc.utf8_lpad(pc.cast(pa.array(np.arange(1, n + 1)), pa.string()), width, "0")
    )

    form = rng.choice(4, size=n, p=_TITLE_FORM_P)
    job_title = _with_nulls(
        _take(_TITLE_FORMS, form * len(_TITLES) + title_i), rng.random(n) < 0.03
    )

    region = _CTRY_REGION[ctry]
    first = _take(_FIRST_V, _pick(rng, region, _FIRST_OFF, _FIRST_N))
    last = _take(_LAST_V, _pick(rng, region, _LAST_OFF, _LAST_N))
    f1 = pc.utf8_slice_codeunits(first, 0, 1)
    l1 = pc.utf8_slice_codeunits(last, 0, 1)
    pat = rng.choice(6, size=n, p=[0.46, 0.22, 0.09, 0.07, 0.07, 0.09]).astype(np.int8)
    pat = np.where(free & (pat < 5) & (rng.random(n) < 0.4), 5, pat).astype(np.int8)
    digits = pc.cast(pa.array(rng.integers(1, 100, n)), pa.string())
    local = pc.choose(
        pa.array(pat),
        _join(first, ".", last),
        _join(f1, last),
        first,
        _join(first, "_", last),
        _join(first, l1),
        _join(first, ".", last, digits),
    )
    free_dom = rng.choice(len(FREE_DOMAINS), size=n, p=_FREE_P / _FREE_P.sum())
    local_free = rng.random(n) < np.select([ctry == _DE, ctry == _RU], [0.6, 0.7], 0.0)
    local_dom = np.where(ctry == _DE, _fd("gmx.de", "web.de"), _fd("mail.ru", "yandex.ru"))
    free_dom = np.where(local_free, local_dom[rng.integers(0, 2, n), np.arange(n)], free_dom)
    domain = pc.choose(
        pa.array(np.minimum(ecls, 2).astype(np.int8)),
        _take(co_domain, co),
        _take(pa.array(FREE_DOMAINS), free_dom),
        _take(pa.array(DISPOSABLE_DOMAINS), rng.integers(0, len(DISPOSABLE_DOMAINS), n)),
    )
    email = _join(pc.if_else(pa.array(disp), _join(first, digits), local), "@", domain)
    bad = pc.choose(
        pa.array(rng.integers(0, 5, n).astype(np.int8)),
        _join(local, "@"),
        pa.scalar("not-an-email"),
        pa.scalar("a@b"),
        _join(local, "@", _take(co_base, co)),
        _join(local, "@gmail,com"),
    )
    email = pc.if_else(pa.array(mal), bad, email)
    case = rng.random(n)
    email = pc.if_else(pa.array(case < 0.04), pc.utf8_capitalize(email), email)
    email = pc.if_else(pa.array(case > 0.99), pc.utf8_upper(email), email)
    email = _with_nulls(email, nomail)

    _write(s, email=email, job_title=job_title, lead_ids=lead_ids, width=width)


def _observed_leads(rng: np.random.Generator, s: SimpleNamespace) -> None:
    """The leads table as a CRM holds it: variants, missing and rounded values."""
    free, nomail, ind, n, ctry, src, co = _read(s, "free nomail ind n ctry src co")
    emp, true_rev, lead_ids, created_s, t0, email = _read(
        s, "emp true_rev lead_ids created_s t0 email"
    )
    job_title = s.job_title
    poor = free | nomail  # enrichment fails more often without a company domain
    industry = _with_nulls(
        _take(
            _IND_V, ind * _IND_NV + np.where(rng.random(n) < 0.85, 0, rng.integers(1, _IND_NV, n))
        ),
        rng.random(n) < np.where(poor, 0.15, 0.03),
    )
    country = _with_nulls(
        _take(_CTRY_V, _variant(rng, ctry, _CTRY_OFF, _CTRY_N, 0.8)), rng.random(n) < 0.03
    )
    source = _with_nulls(
        _take(
            _SRC_V, src * _SRC_NV + np.where(rng.random(n) < 0.97, 0, rng.integers(1, _SRC_NV, n))
        ),
        rng.random(n) < 0.02,
    )
    rep = rng.random(n)
    emp_obs = np.where(rep < 0.6, emp, _round_sig(emp, 1))
    emp_missing = rng.random(n) < np.where(poor, 0.3, 0.05)
    emp_obs[emp_missing] = np.nan
    rev_obs = np.maximum(_round_sig(true_rev, 3), 1000.0)
    rev_obs[rng.random(n) < np.where(emp_missing, 0.7, 0.06)] = np.nan

    leads = pd.DataFrame(
        {
            "lead_id": _str_series(lead_ids),
            "created_at": _utc(created_s, t0),
            "email": _str_series(email),
            "job_title": _str_series(job_title),
            "industry": _str_series(industry),
            "country": _str_series(country),
            "lead_source": _str_series(source),
            "employees": emp_obs.astype(np.float64),
            "annual_revenue": rev_obs.astype(np.float64),
            # The CRM's account: leads of one company share it (B2B buying groups).
            "account": _str_series(
                _join("A", pc.utf8_lpad(pc.cast(pa.array(co), pa.string()), len(str(n)), "0"))
            ),
        }
    )

    _write(s, leads=leads)


def _tables(rng: np.random.Generator, s: SimpleNamespace) -> None:
    """The events and outcomes tables."""
    e_idx, width, lead_ids, e_sec, t0, e_code = _read(s, "e_idx width lead_ids e_sec t0 e_code")
    has_out, closed_at, span_s, won, amount = _read(s, "has_out closed_at span_s won amount")
    if len(e_idx) * (width + 1) >= 2**31 - 1:
        lead_ids = lead_ids.cast(pa.large_string())
    events = pd.DataFrame(
        {
            "lead_id": _str_series(_take(lead_ids, e_idx)),
            "occurred_at": _utc(e_sec, t0),
            "event_type": pd.Categorical.from_codes(e_code, dtype=EVENT_DTYPE),
        }
    )

    o_idx = np.flatnonzero(has_out)
    o_idx = o_idx[np.argsort(closed_at[o_idx], kind="stable")]
    outcomes = pd.DataFrame(
        {
            "lead_id": _str_series(_take(lead_ids, o_idx)),
            "closed_at": _utc(np.minimum(np.floor(closed_at[o_idx] * DAY_S), span_s), t0),
            "won": won[o_idx].astype(bool),
            "amount": amount[o_idx].astype(np.float64),
        }
    )
    _write(s, events=events, outcomes=outcomes)


def _stages(rng: np.random.Generator, s: SimpleNamespace) -> None:
    """The funnel a CRM records: every lead enters ``lead`` when created, ``mql`` at its
    third form, download, webinar, sign-up or pricing-page view, ``sql`` shortly after its
    first demo request,
    and ``opportunity`` part-way through a buying window (most deals get one; the deal may
    still be open at the end). Drawn last, so the other tables do not change with it."""
    n, created_s, e_idx, e_sec, e_code = _read(s, "n created_s e_idx e_sec e_code")
    has_win, ws, close, closed_at, span_s = _read(s, "has_win ws close closed_at span_s")
    lead_ids, t0 = _read(s, "lead_ids t0")
    codes = {t: i for i, t in enumerate(EVENT_DTYPE.categories)}

    def nth_of(k: int, *types: str) -> np.ndarray:
        """Each lead's k-th event of ``types`` in seconds (-1: fewer); events are in time order."""
        pick = np.flatnonzero(np.isin(e_code, [codes[t] for t in types]))
        pick = pick[np.argsort(e_idx[pick], kind="stable")]  # by lead, in time order within
        lead = e_idx[pick]
        start = np.searchsorted(lead, lead, side="left")
        nth = pick[np.arange(len(pick)) - start == k - 1]
        out = np.full(n, -1, dtype=np.int64)
        out[e_idx[nth]] = e_sec[nth]
        return out

    # Marketing-qualified: the third form, download, webinar, sign-up or pricing-page view.
    mql = nth_of(
        3, "form_submit", "content_download", "webinar_attended", "free_signup", "pricing_page_view"
    )
    demo = nth_of(1, "demo_request")
    sql = np.where(demo >= 0, demo + np.floor(rng.exponential(1.5, n) * DAY_S), -1).astype(np.int64)
    opp_day = ws + rng.uniform(0.2, 0.6, n) * (close - ws)
    opp = has_win & (rng.random(n) < 0.85) & (opp_day < closed_at)
    opp_s = np.where(opp, np.floor(opp_day * DAY_S), -1).astype(np.int64)
    names, lead, sec = [], [], []
    for name, t in (("lead", created_s), ("mql", mql), ("sql", sql), ("opportunity", opp_s)):
        ok = (t >= created_s) & (t <= span_s)
        names.append(np.full(int(ok.sum()), name, dtype=object))
        lead.append(np.flatnonzero(ok))
        sec.append(t[ok])
    idx, sec, name = np.concatenate(lead), np.concatenate(sec), np.concatenate(names)
    order = np.lexsort((idx, sec))
    s.stages = pd.DataFrame(
        {
            "lead_id": _str_series(_take(lead_ids, idx[order])),
            "stage": pd.Series(name[order], dtype="string"),
            "entered_at": _utc(sec[order], t0),
        }
    )
