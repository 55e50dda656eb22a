"""What the leads do: buying windows, campaigns and negative signs, email, web sessions, the
high-intent actions of a window, research and background noise, gathered as event arrays."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from leadscore.data.synthetic._draw import (
    _rep,
    _sessions,
    _sigmoid,
)
from leadscore.data.synthetic._state import _read, _write
from leadscore.data.synthetic._vocab import (
    _BUS,
    _CTRY_TARGET,
    _E,
    _IND,
    _SRC_FIRST,
)


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
