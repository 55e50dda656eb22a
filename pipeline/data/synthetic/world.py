"""Seeded, vectorised generator of a synthetic B2B lead-scoring world.

``generate_world`` returns the three contract tables (leads, events, outcomes). Behind them is a
latent model: every lead has a *fit* (seniority, company size, industry, country, email class,
department) and an *intent*; some leads enter a buying window, which drives a burst of
high-intent activity, and a window may close won or lost 2-16 weeks after it starts, with a win
probability that depends non-linearly on fit and recent engagement. The observed columns carry
the noise of a real CRM: free-text titles, spelling variants, missing values, bad emails and
duplicate events. Everything is numpy / pyarrow vectorised; no Python loop runs over leads or
events.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.data.synthetic._draw import (
    _categorical,
    _count,
    _Events,
    _horizon,
    _join,
    _pick,
    _rep,
    _round_sig,
    _sessions,
    _sigmoid,
    _str_series,
    _take,
    _utc,
    _variant,
    _with_nulls,
)
from leadscore.data.synthetic._vocab import (
    _BUS,
    _C,
    _CO_HEADS,
    _CO_TAILS,
    _COUNTRIES,
    _CTRY_N,
    _CTRY_OFF,
    _CTRY_P,
    _CTRY_REGION,
    _CTRY_TARGET,
    _CTRY_V,
    _DE,
    _DEPT_FIT,
    _DIR,
    _DISP,
    _E,
    _EMAIL_FIT,
    _FIRST_N,
    _FIRST_OFF,
    _FIRST_V,
    _FREE,
    _FREE_P,
    _HEAD_V,
    _IND,
    _IND_FIT,
    _IND_LOGEMP,
    _IND_NAMES,
    _IND_NV,
    _IND_P,
    _IND_RPE,
    _IND_V,
    _LAST_N,
    _LAST_OFF,
    _LAST_V,
    _MAL,
    _MGR,
    _MISS,
    _OUTBOUND,
    _RU,
    _SOURCES,
    _SRC_FIRST,
    _SRC_INTENT,
    _SRC_NV,
    _SRC_P,
    _SRC_V,
    _TAIL_N,
    _TAIL_OFF,
    _TAIL_V,
    _TITLE_DEPT,
    _TITLE_FORM_P,
    _TITLE_FORMS,
    _TITLE_N,
    _TITLE_OFF,
    _TITLES,
    _TLD_N,
    _TLD_OFF,
    _TLD_V,
    _UNK,
    _VP,
    DAY_S,
    DISPOSABLE_DOMAINS,
    EVENT_DTYPE,
    FREE_DOMAINS,
    _fd,
)

# The generator runs in steps over one namespace of per-lead arrays (``s``); each step reads
# what earlier steps made and adds its own. The order is fixed: every step draws from the
# one random generator, so a reordering would change every table.


def _read(s: SimpleNamespace, names: str) -> list:
    return [getattr(s, name) for name in names.split()]


def _write(s: SimpleNamespace, **arrays: object) -> None:
    vars(s).update(arrays)


def _creation_times(rng: np.random.Generator, s: SimpleNamespace) -> None:
    """When each lead was created: growing volume, fewer on weekends, business hours."""
    horizon, t0, n = _read(s, "horizon t0 n")
    n_days = int(np.ceil(horizon))
    day = np.arange(n_days)
    weekday = (t0.day_of_week + day) % 7
    w = (1.0 + 1.0 * day / n_days) * np.where(weekday >= 5, 0.35, 1.0)
    w *= 1.0 + 0.12 * np.cos(2 * np.pi * (day + t0.day_of_year - 15) / 365.25)  # winter peak
    cday = rng.choice(n_days, size=n, p=w / w.sum())
    tod = np.where(rng.random(n) < 0.85, rng.normal(15.0, 3.2, n) % 24, rng.random(n) * 24) / 24
    created = np.minimum(np.sort(cday + tod), horizon)
    created_s = np.floor(created * DAY_S).astype(np.int64)  # whole seconds
    created = created_s / DAY_S
    life = horizon - created

    _write(s, created=created, created_s=created_s, life=life, n_days=n_days)


def _companies(rng: np.random.Generator, s: SimpleNamespace) -> None:
    """Companies (industry, country, size, revenue, domain) and each lead's company."""
    n = s.n
    n_co = max(1, int(n * 0.55))
    co_ind = rng.choice(len(_IND_NAMES), size=n_co, p=_IND_P)
    co_ctry = rng.choice(len(_COUNTRIES), size=n_co, p=_CTRY_P)
    co_logemp = np.clip(rng.normal(_IND_LOGEMP[co_ind], 0.85), 0.0, 5.0)
    co_emp = np.clip(np.round(10.0**co_logemp), 1, 100_000)
    co_rev = co_emp * _IND_RPE[co_ind] * rng.lognormal(0.0, 0.5, n_co)
    co_pop = co_emp**0.25 * rng.lognormal(0.0, 0.5, n_co)
    tail_group = np.where(rng.random(n_co) < 0.6, co_ind, len(_CO_TAILS) - 1)
    co_base = _join(
        _take(_HEAD_V, rng.integers(0, len(_CO_HEADS), n_co)),
        _take(_TAIL_V, _pick(rng, tail_group, _TAIL_OFF, _TAIL_N)),
    )
    tld = _take(_TLD_V, _pick(rng, co_ctry, _TLD_OFF, _TLD_N))
    is_io = (co_ind == 0) & (rng.random(n_co) < 0.2)
    co_domain = _join(co_base, pc.if_else(pa.array(is_io), ".io", tld))

    co = rng.choice(n_co, size=n, p=co_pop / co_pop.sum()).astype(np.int32)
    ind, ctry, emp = co_ind[co], co_ctry[co], co_emp[co]
    logemp = np.log10(emp)

    _write(s, co=co, co_base=co_base, co_domain=co_domain, co_rev=co_rev)
    _write(s, ctry=ctry, emp=emp, ind=ind, logemp=logemp)


def _people(rng: np.random.Generator, s: SimpleNamespace) -> None:
    """Each lead's seniority, title, department, lead source and email class."""
    n, emp = _read(s, "n emp")
    sen_w = np.tile(np.array([0.06, 0.07, 0.13, 0.24, 0.42, 0.08]), (n, 1))
    sen_w[:, _C] *= np.where(emp < 20, 4.0, np.where(emp > 5000, 0.4, 1.0))
    sen_w[:, _VP] *= np.where(emp > 5000, 0.8, 1.0)
    sen = _categorical(rng, sen_w)
    title_i = _pick(rng, sen.astype(np.int64), _TITLE_OFF, _TITLE_N)
    dept = _TITLE_DEPT[title_i]
    src = rng.choice(len(_SOURCES), size=n, p=_SRC_P).astype(np.int8)

    em_w = np.tile(np.array([0.75, 0.15, 0.015, 0.02, 0.065]), (n, 1))
    em_w[:, _FREE] *= np.where(emp < 10, 2.5, 1.0) * np.where(sen == _IND, 1.5, 1.0)
    em_w[:, _FREE] *= np.where(src == _OUTBOUND, 0.3, 1.0)
    em_w[:, _DISP] *= np.where(sen >= _IND, 2.0, 1.0)
    em_w[:, _MAL] *= np.where(src == _OUTBOUND, 0.3, 1.0)
    ecls = _categorical(rng, em_w)
    free, disp, mal, nomail = ecls == _FREE, ecls == _DISP, ecls == _MAL, ecls == _MISS
    emailable = ~(mal | nomail)

    _write(s, dept=dept, disp=disp, ecls=ecls, emailable=emailable)
    _write(s, free=free, mal=mal, nomail=nomail, sen=sen)
    _write(s, src=src, title_i=title_i)


def _fit_and_intent(rng: np.random.Generator, s: SimpleNamespace) -> None:
    """The latent fit and intent behind every lead, and its general activity level."""
    sen, emp, logemp, ind, ctry, ecls = _read(s, "sen emp logemp ind ctry ecls")
    dept, n, src = _read(s, "dept n src")
    senior = sen <= _DIR
    big = emp >= 5000
    big_junior = big & (sen >= _MGR)
    mid = (emp >= 50) & (emp <= 5000)
    senior_mid = senior & mid
    size_fit = np.maximum(0.7 - 0.45 * (logemp - 2.9) ** 2, -1.5)
    sen_fit = np.array([0.6, 0.9, 0.8, 0.3, -0.5, -0.9])[sen]
    fit = (
        sen_fit
        + size_fit
        + _IND_FIT[ind]
        + np.where(_CTRY_TARGET[ctry], 0.2, -0.6)
        + _EMAIL_FIT[ecls]
        + _DEPT_FIT[dept]
        - 1.3 * big_junior
        - 0.6 * ((sen == _C) & (emp > 2000))
    )
    intent = 0.9 * rng.normal(size=n) + _SRC_INTENT[src] + 0.15 * fit
    eng = rng.gamma(1.2, 1 / 1.2, n) * np.exp(0.2 * intent)  # general activity level

    _write(s, big_junior=big_junior, eng=eng, fit=fit, intent=intent)
    _write(s, senior=senior, senior_mid=senior_mid)


def _buying_windows(rng: np.random.Generator, s: SimpleNamespace) -> None:
    """Who enters a buying window and when; research bursts that look alike but lead nowhere."""
    n, intent, fit, created, sen, big_junior = _read(s, "n intent fit created sen big_junior")
    free, ctry = _read(s, "free ctry")
    has_win = rng.random(n) < _sigmoid(-1.45 + 1.0 * intent + 0.3 * fit)
    hot = rng.random(n) < 0.3
    delay = np.where(hot, rng.exponential(3.0, n), rng.gamma(1.3, 110.0, n))
    ws = created + delay
    dur = 14.0 + rng.gamma(2.0, 14.0, n)
    we = ws + dur
    act = rng.lognormal(-0.45, 0.95, n)  # how much of the buying shows up online
    act[rng.random(n) < 0.15] *= 0.15  # sales-led deals leave little digital trace
    # research bursts: looking around without buying (students, juniors, competitors)
    research = ~has_win & (
        rng.random(n)
        < _sigmoid(
            -1.8
            + 0.7 * (sen >= _IND)
            + 0.9 * big_junior
            + 0.6 * free
            + 0.5 * ~_CTRY_TARGET[ctry]
            + 0.3 * intent
        )
    )
    rs = created + np.where(rng.random(n) < 0.3, rng.exponential(5.0, n), rng.gamma(1.3, 110.0, n))
    rdur = 7.0 + rng.gamma(2.0, 8.0, n)

    _write(s, act=act, dur=dur, has_win=has_win, rdur=rdur)
    _write(s, research=research, rs=rs, we=we, ws=ws)


def _campaigns_and_negatives(rng: np.random.Generator, s: SimpleNamespace) -> None:
    """Email campaign days, unsubscribes and bounces; a negative sign can cancel a window."""
    n_days, t0, horizon, n, emailable, intent = _read(s, "n_days t0 horizon n emailable intent")
    created, mal, disp, ecls, free, ws = _read(s, "created mal disp ecls free ws")
    has_win = s.has_win
    cdays = np.arange(-1, n_days + 1)
    cdays = cdays[np.isin((t0.day_of_week + cdays) % 7, (1, 3))]  # Tuesdays and Thursdays
    camp = cdays + (15.0 + rng.normal(0, 0.7, len(cdays))) / 24
    camp = camp[(camp >= 0) & (camp <= horizon)]
    camp = np.append(camp, np.inf)  # sentinel: "no later campaign"

    def next_camp(t: np.ndarray) -> np.ndarray:
        return camp[np.searchsorted(camp, t, side="left")]

    inf = np.full(n, np.inf)
    unsub = np.where(
        emailable & (rng.random(n) < _sigmoid(-2.2 - 0.6 * intent)),
        created + rng.gamma(1.2, 120.0, n),
        inf,
    )
    unsub[unsub > horizon] = np.inf
    hazard = np.select(
        [mal, disp, ecls == _BUS, free], [np.inf, 1 / 7.0, 0.15 / 365, 0.03 / 365], 0
    )
    raw_bounce = created + rng.exponential(1.0, n) / np.maximum(hazard, 1e-12)
    raw_bounce[mal] = created[mal]
    bounce_p = np.select([mal, disp], [0.95, 0.75], 1.0)
    bounce = np.where((hazard > 0) & (rng.random(n) < bounce_p), next_camp(raw_bounce), np.inf)
    bounce[bounce > horizon] = np.inf
    stop = np.minimum(np.minimum(unsub, bounce), horizon)  # no email engagement after this
    stop = np.where(emailable, stop, created)
    neg = np.minimum(unsub, bounce)
    cancel = (neg < ws) & (rng.random(n) < 0.8)
    has_win &= ~cancel & (ws <= horizon)
    _write(s, bounce=bounce, camp=camp, has_win=has_win, next_camp=next_camp)
    _write(s, stop=stop, unsub=unsub)


def _email_events(rng: np.random.Generator, s: SimpleNamespace) -> None:
    """Email opens and clicks, among the campaigns sent while the address was reachable."""
    camp, created, stop, ws, we, horizon = _read(s, "camp created stop ws we horizon")
    has_win, eng, act, ev = _read(s, "has_win eng act ev")
    # email opens / clicks: pick among the campaigns sent while the address was reachable
    lo = np.searchsorted(camp, created, side="left")
    hi = np.searchsorted(camp, stop, side="right")
    m = np.maximum(hi - lo, 0)
    w_lo = np.searchsorted(camp, np.maximum(created, ws - 21), side="left")
    w_hi = np.searchsorted(camp, np.minimum(np.minimum(we, stop), horizon), side="right")
    m_win = np.where(has_win, np.maximum(w_hi - w_lo, 0), 0)
    for code, rate, win_rate in (("email_open", 0.17, 0.5), ("email_click", 0.02, 0.2)):
        background = (lo, rng.poisson(m * rate * eng), False)
        in_window = (w_lo, rng.poisson(m_win * win_rate * act), True)
        for base, cnt, is_win in (background, in_window):
            idx = _rep(cnt)
            span = np.where(is_win, m_win, m)[idx]
            k = base[idx] + (rng.random(len(idx)) * span).astype(np.int64)
            late = rng.random(len(idx)) < 0.1
            t = camp[k] + np.where(
                late, rng.exponential(5.0, len(idx)), rng.exponential(0.25, len(idx))
            )
            keep = t <= stop[idx]
            ev.add(idx[keep], t[keep], _E[code], is_win)


def _web_sessions(rng: np.random.Generator, s: SimpleNamespace) -> None:
    """Web sessions: background interest, and the ramp-up around a buying window."""
    life, eng, created, ev, has_win, act = _read(s, "life eng created ev has_win act")
    intent, fit, ws, dur = _read(s, "intent fit ws dur")
    # background web sessions: decaying interest after sign-up plus a flat trickle
    tau, a_dec, a_flat = 45.0, 0.12, 0.024
    dec_mass = a_dec * tau * (1 - np.exp(-life / tau))
    flat_mass = a_flat * life
    n_sess = rng.poisson(eng * (dec_mass + flat_mass))
    idx = _rep(n_sess)
    u = rng.random(len(idx))
    is_dec = rng.random(len(idx)) < (dec_mass / np.maximum(dec_mass + flat_mass, 1e-12))[idx]
    t_dec = -tau * np.log1p(-u * (1 - np.exp(-life[idx] / tau)))
    t_sess = created[idx] + np.where(is_dec, t_dec, u * life[idx])
    _sessions(rng, ev, idx, t_sess, p_more=0.45, probs=(0.94, 0.04, 0.02), window=False)

    # buying-window sessions: ramp up ~3 weeks before the window, peak inside it
    n_ws = np.where(
        has_win, rng.poisson(4.5 * act * np.exp(0.5 * intent) * np.where(fit > 0.5, 1.3, 1.0)), 0
    )
    idx = _rep(n_ws)
    t_sess = ws[idx] - 21 + rng.gamma(3.0, (dur[idx] + 21) / 4)
    _sessions(rng, ev, idx, t_sess, p_more=0.6, probs=(0.55, 0.32, 0.13), window=True)


def _window_actions(rng: np.random.Generator, s: SimpleNamespace) -> None:
    """High-intent actions inside a buying window (demos, sign-ups, webinars, forms)."""
    intent, senior, fit, free, disp, has_win = _read(s, "intent senior fit free disp has_win")
    n, ev, ws, dur, emp, sen = _read(s, "n ev ws dur emp sen")
    act = s.act
    # high-intent actions inside the window
    p_demo = _sigmoid(-0.6 + 0.9 * intent + 0.5 * senior + 0.3 * fit - 1.6 * free - 1.0 * disp)
    n_demo = np.where(has_win & (rng.random(n) < p_demo), 1 + (rng.random(n) < 0.2), 0)
    idx = _rep(n_demo)
    ev.add(idx, ws[idx] + rng.gamma(1.5, 0.25 * dur[idx]), _E["demo_request"], True)
    p_signup = _sigmoid(-1.8 + 0.6 * intent + 2.0 * free + 0.7 * (emp < 50) + 0.4 * (sen == _IND))
    idx = np.flatnonzero(has_win & (rng.random(n) < p_signup)).astype(np.int32)
    ev.add(idx, ws[idx] + rng.random(len(idx)) * dur[idx], _E["free_signup"], True)
    idx = _rep(np.where(has_win, rng.poisson(0.5 * act * np.exp(0.3 * intent)), 0))
    ev.add(idx, ws[idx] - 14 + rng.random(len(idx)) * (dur[idx] + 14), _E["webinar_attended"], True)
    idx = _rep(np.where(has_win, rng.poisson(0.6 * act), 0))
    ev.add(idx, ws[idx] + rng.random(len(idx)) * dur[idx], _E["form_submit"], True)
    idx = _rep(np.where(has_win, rng.poisson(0.1, n), 0))
    ev.add(idx, ws[idx] + rng.random(len(idx)) * dur[idx], _E["event_attended"], True)


def _research_events(rng: np.random.Generator, s: SimpleNamespace) -> None:
    """Research bursts: activity like buying, from leads that will not buy."""
    research, act, rs, rdur, ev, free = _read(s, "research act rs rdur ev free")
    n = s.n
    # research bursts look like buying from the outside, but lead nowhere
    idx = _rep(np.where(research, rng.poisson(3.0 * act), 0))
    t_sess = rs[idx] - 7 + rng.gamma(2.0, (rdur[idx] + 7) / 3)
    _sessions(rng, ev, idx, t_sess, p_more=0.6, probs=(0.5, 0.35, 0.15), window=False)
    for code, rate in (("webinar_attended", 0.3), ("form_submit", 0.25)):
        idx = _rep(np.where(research, rng.poisson(rate * act), 0))
        ev.add(idx, rs[idx] + rng.random(len(idx)) * rdur[idx], _E[code], False)
    p_res = np.where(free, 0.3, 0.0)
    for code, p_ev in (("demo_request", 0.2), ("free_signup", p_res)):
        idx = np.flatnonzero(research & (rng.random(n) < p_ev)).astype(np.int32)
        ev.add(idx, rs[idx] + rng.random(len(idx)) * rdur[idx], _E[code], False)


def _background_events(rng: np.random.Generator, s: SimpleNamespace) -> None:
    """Sporadic events, the touch that created the lead, and the negative signals."""
    eng, life, ev, created, src, n = _read(s, "eng life ev created src n")
    unsub, bounce, next_camp = _read(s, "unsub bounce next_camp")
    # background sporadic events over the lead's life
    sporadic = {
        "social_engagement": 0.008,
        "webinar_attended": 0.002,
        "event_attended": 0.0012,
        "form_submit": 0.001,
        "free_signup": 0.0002,
    }
    for code, rate in sporadic.items():
        idx = _rep(rng.poisson(rate * eng * life))
        ev.add(idx, created[idx] + rng.random(len(idx)) * life[idx], _E[code], False)

    # the touch that created the lead
    first_code = np.array([_E[c] for c, _ in _SRC_FIRST], np.int8)[src]
    first_p = np.array([p for _, p in _SRC_FIRST])[src]
    idx = np.flatnonzero(rng.random(n) < first_p).astype(np.int32)
    at_once = rng.random(len(idx)) < 0.5
    t_first = created[idx] + np.where(at_once, 0.0, rng.exponential(2 / 1440, len(idx)))
    ev.add(idx, t_first, first_code[idx], False)

    # negative signals
    idx = np.flatnonzero(np.isfinite(unsub)).astype(np.int32)
    ev.add(idx, unsub[idx], _E["unsubscribe"], False)
    idx = np.flatnonzero(np.isfinite(bounce)).astype(np.int32)
    t_b = bounce[idx] + rng.exponential(2 / 1440, len(idx))
    again = rng.random(len(idx)) < 0.3
    t_b2 = next_camp(bounce[idx] + 0.5)[again] + rng.exponential(2 / 1440, int(again.sum()))
    ev.add(
        np.concatenate([idx, idx[again]]), np.concatenate([t_b, t_b2]), _E["email_bounce"], False
    )


def _event_arrays(rng: np.random.Generator, s: SimpleNamespace) -> None:
    """All events as arrays; window activity before sign-up is reflected after it."""
    ev, created, horizon = _read(s, "ev created horizon")
    e_idx, e_t, e_code, e_win = ev.concat()
    # window activity before sign-up is reflected after it; nothing after the horizon
    e_t = np.where(e_t < created[e_idx], 2 * created[e_idx] - e_t, e_t)
    keep = e_t <= horizon
    e_idx, e_t, e_code, e_win = e_idx[keep], e_t[keep], e_code[keep], e_win[keep]
    _write(s, e_code=e_code, e_idx=e_idx, e_t=e_t, e_win=e_win)


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
    eng_term = np.where(
        free,
        0.25 * dp + 2.0 * (c_signup >= 1),
        np.where(senior_mid, 1.7, 0.5) * dp + 0.3 * (c_signup >= 1),
    )
    eng_term = np.where(big_junior, 0.3 * eng_term, eng_term)
    neg_term = -1.3 * (unsub <= close) - 1.6 * (bounce <= close)
    z_win = -1.8 + 0.6 * fit + eng_term + neg_term
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
    true_rev = co_rev[co]
    amount = np.round(
        5000.0 * (emp / 100) ** 0.35 * rng.lognormal(0, 0.5, n) * np.where(ind == 0, 1.3, 1.0), -2
    )
    amount = np.where(won | (closes & (rng.random(n) < 0.55)), amount, np.nan)

    _write(s, amount=amount, true_rev=true_rev)


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


_STEPS = (
    _creation_times,
    _companies,
    _people,
    _fit_and_intent,
    _buying_windows,
    _campaigns_and_negatives,
    _email_events,
    _web_sessions,
    _window_actions,
    _research_events,
    _background_events,
    _event_arrays,
    _outcomes,
    _final_events,
    _amounts,
    _ids_titles_emails,
    _observed_leads,
    _tables,
    _stages,
)


def generate_world(
    n_leads: int, seed: int = 0, start: str = "2024-01-01", end: str = "2025-12-31"
) -> dict[str, pd.DataFrame]:
    """Generate leads, events, outcomes and funnel stages for ``n_leads`` leads created in
    [start, end].

    The same (n_leads, seed, start, end) always gives identical tables.
    """
    if n_leads < 1:
        raise ValueError("n_leads must be at least 1")
    rng = np.random.default_rng(seed)
    t0, span_s = _horizon(start, end)
    # Every time inside the steps is in days since t0.
    s = SimpleNamespace(t0=t0, span_s=span_s, horizon=span_s / DAY_S, n=int(n_leads), ev=_Events())
    for step in _STEPS:
        step(rng, s)
    return {"leads": s.leads, "events": s.events, "outcomes": s.outcomes, "stages": s.stages}
