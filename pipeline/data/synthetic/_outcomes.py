"""How windows end: won or lost (non-linear in fit and engagement), the last events before a
close, and deal amounts."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from leadscore.data.synthetic._draw import (
    _count,
    _sigmoid,
)
from leadscore.data.synthetic._state import _read, _write
from leadscore.data.synthetic._vocab import (
    _UNK,
    DAY_S,
)


def _outcomes(rng: np.random.Generator, s: SimpleNamespace) -> None:
    """Closed deals (won or lost), early disqualifications; window activity stops at close."""
    ws, n, has_win, horizon, e_t, e_idx = _read(s, "ws n has_win horizon e_t e_idx")
    e_code, free, senior_mid, big_junior, unsub, bounce = _read(
        s, "e_code free senior_mid big_junior unsub bounce"
    )
    fit, intent, disp, mal, sen, created = _read(s, "fit intent disp mal sen created")
    e_win = s.e_win
    close = ws + np.clip(14.0 + rng.gamma(2.5, 18.0, n), 14.0, 112.0)
    cand = has_win & (close <= horizon)
    recent = (e_t <= close[e_idx]) & (e_t >= close[e_idx] - 56.0)  # the 8 weeks before closing
    r_idx, r_code = e_idx[recent], e_code[recent]
    del recent
    c_demo = _count(r_idx, r_code, n, "demo_request")
    c_price = _count(r_idx, r_code, n, "pricing_page_view")
    c_learn = _count(r_idx, r_code, n, "webinar_attended", "content_download")
    c_form = _count(r_idx, r_code, n, "form_submit")
    c_signup = _count(r_idx, r_code, n, "free_signup")
    del r_idx, r_code
    dp = 1.2 * (c_demo >= 1) + 0.8 * (c_price >= 3) + 0.4 * (c_learn >= 2) + 0.3 * (c_form >= 1)

    def eng_of(dp: np.ndarray) -> np.ndarray:  # how much engagement weighs by the lead's kind
        eng_term = np.where(
            free,
            0.25 * dp + 2.0 * (c_signup >= 1),
            np.where(senior_mid, 1.7, 0.5) * dp + 0.3 * (c_signup >= 1),
        )
        return np.where(big_junior, 0.3 * eng_term, eng_term)

    neg_term = -1.3 * (unsub <= close) - 1.6 * (bounce <= close)
    z_win = -1.8 + 0.6 * fit + eng_of(dp) + neg_term + _shifts(s, close)
    closes = cand & (rng.random(n) < _sigmoid(0.0 + 0.5 * intent + 0.5 * (c_demo >= 1)))
    won = closes & (rng.random(n) < _sigmoid(z_win))

    # sales disqualifies some junk leads early on (closed lost, no amount)
    junk = disp | mal | (sen == _UNK)
    dq_t = created + 1.0 + rng.gamma(2.0, 10.0, n)
    dq = ~closes & (dq_t <= horizon) & (rng.random(n) < _sigmoid(-4.3 - 0.9 * fit + 1.0 * junk))
    dq &= ~(has_win & (ws < dq_t))
    closed_at = np.where(closes, close, np.where(dq, dq_t, np.inf))
    has_out = np.isfinite(closed_at)

    # buying-window activity stops once the deal is closed
    drop = e_win & (e_t > closed_at[e_idx])
    e_idx, e_t, e_code = e_idx[~drop], e_t[~drop], e_code[~drop]
    del e_win, drop
    _write(s, close=close, closed_at=closed_at, closes=closes, e_code=e_code, e_idx=e_idx)
    _write(s, e_t=e_t, has_out=has_out, won=won)


def _revenue_growth(s: SimpleNamespace) -> np.ndarray:
    """Each lead's company revenue as a multiple of its company's at the start: under drift
    ``d`` it grows by a factor of ten to the power ``d`` across the history, so later leads
    carry revenues beyond any earlier range."""
    return 10.0 ** (s.drift * s.created / s.horizon)


def _shifts(s: SimpleNamespace, close: np.ndarray) -> np.ndarray | float:
    """What the shapes add to the log-odds of a win (no random draws: a seed means the same
    leads and events with or without them).

    - drift ``d``: 0.8 per tenfold revenue (which grows with time, see ``_revenue_growth``)
      and a trend of 1.2 ``d`` across the history that no column explains; at ``d`` = 1 the
      log-odds climb by about 2 from the first closes to the last.
    - interaction ``k``: plus or minus 1.2 ``k`` by whether the lead's industry and lead
      source fall in the same half of their lists (an exclusive or: no sum of per-column
      effects can express it, trees can).
    """
    d, k = s.drift, s.interaction
    z: np.ndarray | float = 0.0
    if d:
        log_rev = np.log10(s.co_rev[s.co] * _revenue_growth(s))
        z = (
            z
            + 0.8 * (log_rev - np.median(np.log10(s.co_rev)))
            + 1.2 * d * (close / s.horizon - 0.5)
        )
    if k:
        same = (s.ind % 2 == 0) == (s.src % 2 == 0)
        z = z + 1.2 * k * np.where(same, 1.0, -1.0)
    return z


def _final_events(rng: np.random.Generator, s: SimpleNamespace) -> None:
    """About 1% exact duplicates, whole seconds, time order."""
    e_idx, e_t, e_code, created_s, span_s = _read(s, "e_idx e_t e_code created_s span_s")
    # ~1% exact duplicates (double-logged events)
    dup = rng.integers(0, len(e_idx), rng.binomial(len(e_idx), 0.01)) if len(e_idx) else []
    e_idx = np.concatenate([e_idx, e_idx[dup]])
    e_t = np.concatenate([e_t, e_t[dup]])
    e_code = np.concatenate([e_code, e_code[dup]])
    e_sec = np.floor(e_t * DAY_S).astype(np.int64)
    e_sec = np.clip(e_sec, created_s[e_idx], span_s)  # guard float rounding at the edges
    del e_t
    order = np.argsort(e_sec, kind="stable")
    e_sec, e_idx, e_code = e_sec[order], e_idx[order], e_code[order]
    del order

    _write(s, e_code=e_code, e_idx=e_idx, e_sec=e_sec)


def _amounts(rng: np.random.Generator, s: SimpleNamespace) -> None:
    """Deal amounts for won deals and some lost ones."""
    co_rev, co, emp, n, ind, won = _read(s, "co_rev co emp n ind won")
    closes = s.closes
    true_rev = co_rev[co] * _revenue_growth(s) if s.drift else co_rev[co]
    amount = np.round(
        5000.0 * (emp / 100) ** 0.35 * rng.lognormal(0, 0.5, n) * np.where(ind == 0, 1.3, 1.0), -2
    )
    amount = np.where(won | (closes & (rng.random(n) < 0.55)), amount, np.nan)

    _write(s, amount=amount, true_rev=true_rev)
