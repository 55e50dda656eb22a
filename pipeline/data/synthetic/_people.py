"""Who the leads are: when they arrive, their companies, titles and departments, and the latent
fit and intent that drive everything after."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.data.synthetic._draw import (
    _categorical,
    _join,
    _pick,
    _take,
)
from leadscore.data.synthetic._state import _read, _write
from leadscore.data.synthetic._vocab import (
    _C,
    _CO_HEADS,
    _CO_TAILS,
    _COUNTRIES,
    _CTRY_P,
    _CTRY_TARGET,
    _DEPT_FIT,
    _DIR,
    _DISP,
    _EMAIL_FIT,
    _FREE,
    _HEAD_V,
    _IND,
    _IND_FIT,
    _IND_LOGEMP,
    _IND_NAMES,
    _IND_P,
    _IND_RPE,
    _MAL,
    _MGR,
    _MISS,
    _OUTBOUND,
    _SOURCES,
    _SRC_INTENT,
    _SRC_P,
    _TAIL_N,
    _TAIL_OFF,
    _TAIL_V,
    _TITLE_DEPT,
    _TITLE_N,
    _TITLE_OFF,
    _TLD_N,
    _TLD_OFF,
    _TLD_V,
    _VP,
    DAY_S,
)


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
