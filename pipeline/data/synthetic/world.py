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

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.data.contract import KNOWN_EVENT_TYPES
from leadscore.data.io import write_table

DAY_S = 86_400
EVENT_TYPES: tuple[str, ...] = KNOWN_EVENT_TYPES
_E = {name: np.int8(i) for i, name in enumerate(EVENT_TYPES)}
EVENT_DTYPE = pd.CategoricalDtype(list(EVENT_TYPES), ordered=False)

# --------------------------------------------------------------------------------------------
# Vocabularies (small; built once at import).
# --------------------------------------------------------------------------------------------

LEVELS = ("c_level", "vp", "director", "manager", "individual", "unknown")
_C, _VP, _DIR, _MGR, _IND, _UNK = range(6)

_DEPTS = (
    "Marketing", "Sales", "IT", "Engineering", "Operations", "Finance", "Human Resources",
    "Product", "Data", "Growth", "Customer Success", "Revenue Operations", "Procurement",
)  # fmt: skip
_DEPT_FIT = np.array(
    [0.25, 0.25, 0.1, 0.05, 0.1, -0.2, -0.3, 0.05, 0.1, 0.25, -0.1, 0.3, -0.2, 0.0]
)
_NO_DEPT = len(_DEPTS)
_D = {d: i for i, d in enumerate(_DEPTS)}

_C_TITLES = [
    ("CEO", None), ("CEO", None), ("Chief Executive Officer", None), ("CTO", "Engineering"),
    ("Chief Technology Officer", "Engineering"), ("CFO", "Finance"),
    ("Chief Financial Officer", "Finance"), ("CMO", "Marketing"),
    ("Chief Marketing Officer", "Marketing"), ("COO", "Operations"),
    ("Chief Operating Officer", "Operations"), ("CIO", "IT"), ("Chief Information Officer", "IT"),
    ("Chief Revenue Officer", "Sales"), ("CRO", "Sales"), ("Chief Data Officer", "Data"),
    ("Founder", None), ("Founder & CEO", None), ("Founder & CEO", None), ("Co-Founder", None),
    ("Co-founder & CTO", "Engineering"), ("CEO & Founder", None), ("Owner", None),
    ("President", None), ("Managing Director", None), ("Managing Partner", None),
]  # fmt: skip
_VP_TEMPLATES = (
    "VP of {d}", "VP of {d}", "VP, {d}", "VP {d}", "Vice President, {d}", "Vice President of {d}",
    "SVP {d}", "SVP, {d}", "EVP, {d}", "Senior Vice President, {d}",
)  # fmt: skip
_DIR_TEMPLATES = (
    "Director of {d}", "Director of {d}", "{d} Director", "Sr. Director, {d}",
    "Senior Director of {d}", "Head of {d}", "Head of {d}", "Global Head of {d}",
    "Director, {d}", "Associate Director, {d}",
)  # fmt: skip
_MGR_TEMPLATES = (
    "{d} Manager", "{d} Manager", "{d} Manager", "Senior {d} Manager", "Manager, {d}",
    "Sr. Manager, {d}", "Team Lead, {d}", "{d} Team Lead",
)  # fmt: skip
_IND_TITLES = [
    ("Software Engineer", "Engineering"), ("Software Engineer", "Engineering"),
    ("Software Engineer", "Engineering"), ("Senior Software Engineer", "Engineering"),
    ("Developer", "Engineering"), ("Engineer", "Engineering"), ("Data Analyst", "Data"),
    ("Data Scientist", "Data"), ("Analyst", None), ("Analyst", None),
    ("Business Analyst", "Operations"), ("Financial Analyst", "Finance"),
    ("Marketing Specialist", "Marketing"), ("Marketing Specialist", "Marketing"),
    ("Marketing Specialist", "Marketing"), ("Analyst", None), ("Consultant", None),
    ("Sales Representative", "Sales"), ("Account Executive", "Sales"),
    ("Marketing Coordinator", "Marketing"), ("Content Writer", "Marketing"),
    ("SEO Specialist", "Marketing"), ("Growth Marketer", "Growth"),
    ("Sales Representative", "Sales"), ("Sales Representative", "Sales"),
    ("Account Executive", "Sales"), ("SDR", "Sales"),
    ("Business Development Representative", "Sales"), ("Consultant", None),
    ("Consultant", None), ("Senior Consultant", None), ("Intern", None),
    ("Marketing Intern", "Marketing"), ("Student", None), ("Designer", "Product"),
    ("UX Designer", "Product"), ("Executive Assistant", None),
    ("Assistant to the CEO", None), ("Accountant", "Finance"), ("Recruiter", "Human Resources"),
    ("HR Generalist", "Human Resources"), ("Teacher", None), ("Nurse", None), ("Associate", None),
    ("System Administrator", "IT"), ("IT Specialist", "IT"),
    ("Support Engineer", "Customer Success"), ("Customer Success Associate", "Customer Success"),
    ("Buyer", "Procurement"), ("Operations Specialist", "Operations"), ("Freelancer", None),
    ("Researcher", None), ("RevOps Specialist", "Revenue Operations"),
]  # fmt: skip
_UNK_TITLES = ["-", "n/a", "", "N/A", "na", "none", "?", ".", "--", "test", "x", "asdf", "Other"]


def _title_vocab() -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Titles grouped by level: (titles, department per title, level offsets, level sizes)."""
    groups: list[list[tuple[str, str | None]]] = [
        _C_TITLES,
        [(t.format(d=d), d) for t in _VP_TEMPLATES for d in _DEPTS],
        [(t.format(d=d), d) for t in _DIR_TEMPLATES for d in _DEPTS],
        [(t.format(d=d), d) for t in _MGR_TEMPLATES for d in _DEPTS]
        + [("IT Manager", "IT"), ("Account Manager", "Sales"), ("Office Manager", None)] * 3,
        _IND_TITLES,
        [(t, None) for t in _UNK_TITLES],
    ]
    titles = [t for g in groups for t, _ in g]
    dept = np.array([_NO_DEPT if d is None else _D[d] for g in groups for _, d in g], np.int16)
    sizes = np.array([len(g) for g in groups], np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return titles, dept, offsets, sizes


_TITLES, _TITLE_DEPT, _TITLE_OFF, _TITLE_N = _title_vocab()
# Four renderings of every title: as typed, lower case, upper case, stray spaces.
_TITLE_FORMS = pa.array(
    _TITLES
    + [t.lower() for t in _TITLES]
    + [t.upper() for t in _TITLES]
    + [f" {t} " for t in _TITLES]
)
_TITLE_FORM_P = np.array([0.86, 0.09, 0.03, 0.02])

# name, fit, P(industry), mean log10(employees), revenue per employee (USD)
_INDUSTRIES = [
    ("Software", 0.6, 0.20, 1.9, 250e3),
    ("Financial Services", 0.45, 0.12, 2.3, 400e3),
    ("Healthcare", 0.2, 0.11, 2.4, 150e3),
    ("Manufacturing", 0.1, 0.12, 2.3, 220e3),
    ("Retail", -0.1, 0.09, 2.0, 180e3),
    ("Education", -0.5, 0.08, 2.4, 90e3),
    ("Government", -0.7, 0.05, 2.8, 120e3),
    ("Telecommunications", 0.3, 0.05, 2.6, 450e3),
    ("Media", 0.1, 0.08, 1.8, 200e3),
    ("Logistics", 0.0, 0.10, 2.1, 200e3),
]
_IND_NAMES = [r[0] for r in _INDUSTRIES]
_IND_FIT = np.array([r[1] for r in _INDUSTRIES])
_IND_P = np.array([r[2] for r in _INDUSTRIES]) / sum(r[2] for r in _INDUSTRIES)
_IND_LOGEMP = np.array([r[3] for r in _INDUSTRIES])
_IND_RPE = np.array([r[4] for r in _INDUSTRIES])


def _case_variants(name: str) -> list[str]:
    return [name, name.lower(), name.upper(), f" {name.lower()}", f"{name} "]


# canonical, target market?, P(country), variants (first is canonical), TLDs, name region
_COUNTRIES = [
    ("United States", True, 0.42, ["US", "USA", "usa", "United States of America", "U.S.", "united states"], [".com"], 0),
    ("United Kingdom", True, 0.10, ["UK", "GB", "Great Britain", "united kingdom", "England"], [".co.uk", ".com"], 0),
    ("Germany", True, 0.07, ["DE", "Deutschland", "germany", "GERMANY"], [".de", ".com"], 1),
    ("France", True, 0.05, ["FR", "france", "FRANCE"], [".fr", ".com"], 2),
    ("Canada", True, 0.05, ["CA", "canada", "CANADA"], [".ca", ".com"], 0),
    ("Netherlands", True, 0.03, ["NL", "The Netherlands", "Holland", "netherlands"], [".nl", ".com"], 1),
    ("Australia", True, 0.04, ["AU", "australia", "AUS"], [".com.au", ".com"], 0),
    ("India", False, 0.07, ["IN", "india", "INDIA"], [".in", ".co.in", ".com"], 3),
    ("Brazil", False, 0.035, ["BR", "Brasil", "brazil"], [".com.br", ".com"], 4),
    ("Nigeria", False, 0.02, ["NG", "nigeria"], [".ng", ".com.ng", ".com"], 5),
    ("Spain", False, 0.025, ["ES", "España", "spain"], [".es", ".com"], 4),
    ("Mexico", False, 0.02, ["MX", "México", "mexico"], [".com.mx", ".mx"], 4),
    ("Japan", False, 0.015, ["JP", "japan"], [".co.jp", ".jp"], 0),
    ("Singapore", False, 0.015, ["SG", "singapore"], [".sg", ".com.sg", ".com"], 0),
    ("South Africa", False, 0.015, ["ZA", "south africa"], [".co.za", ".com"], 0),
    ("Philippines", False, 0.015, ["PH", "philippines"], [".ph", ".com"], 0),
    ("Poland", False, 0.015, ["PL", "poland", "Polska"], [".pl", ".com"], 1),
    ("Russia", False, 0.01, ["RU", "Russian Federation", "russia"], [".ru"], 1),
]  # fmt: skip
_CTRY_TARGET = np.array([r[1] for r in _COUNTRIES])
_CTRY_P = np.array([r[2] for r in _COUNTRIES]) / sum(r[2] for r in _COUNTRIES)
_CTRY_REGION = np.array([r[5] for r in _COUNTRIES], np.int64)
_RU = [r[0] for r in _COUNTRIES].index("Russia")
_DE = [r[0] for r in _COUNTRIES].index("Germany")

_SOURCES = (
    "organic_search", "paid_search", "webinar", "referral", "trade_show",
    "content_syndication", "outbound", "partner",
)  # fmt: skip
_SRC_P = np.array([0.22, 0.18, 0.10, 0.07, 0.07, 0.14, 0.15, 0.07])
_SRC_INTENT = np.array([0.25, 0.1, 0.0, 0.6, -0.1, -0.45, -0.5, 0.35])
_OUTBOUND = _SOURCES.index("outbound")
# The event (and its probability) that comes with the lead's creation, by source.
_SRC_FIRST = (
    ("form_submit", 0.7), ("form_submit", 0.7), ("webinar_attended", 0.9), ("form_submit", 0.4),
    ("event_attended", 0.85), ("content_download", 0.95), ("form_submit", 0.0),
    ("form_submit", 0.3),
)  # fmt: skip

EMAIL_CLASSES = ("business", "free", "disposable", "malformed", "missing")
_BUS, _FREE, _DISP, _MAL, _MISS = range(5)
_EMAIL_FIT = np.array([0.3, -0.4, -1.8, -1.2, -0.5])
FREE_DOMAINS = (
    "gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com", "icloud.com", "gmx.de",
    "mail.ru", "yandex.ru", "proton.me", "googlemail.com", "web.de", "yahoo.co.uk", "orange.fr",
)  # fmt: skip
_FREE_P = np.array(
    [0.42, 0.12, 0.1, 0.1, 0.03, 0.06, 0.02, 0.01, 0.01, 0.03, 0.02, 0.02, 0.03, 0.03]
)


def _fd(*names: str) -> np.ndarray:
    return np.array([[FREE_DOMAINS.index(d)] for d in names])


DISPOSABLE_DOMAINS = (
    "mailinator.com", "10minutemail.com", "guerrillamail.com", "tempmail.com", "trashmail.com",
    "yopmail.com",
)  # fmt: skip

_FIRST = [
    # 0 anglo
    "james john robert michael william david richard joseph thomas chris daniel matthew anthony "
    "mark steven paul andrew joshua kevin brian mary patricia jennifer linda elizabeth barbara "
    "susan jessica sarah karen emily emma olivia sophie laura rachel amy megan hannah grace ken "
    "hiro wei mei li raj",
    # 1 german / dutch / polish / russian
    "lukas felix jonas leon max paul jan tim niklas finn anna lena laura julia sarah lea "
    "katharina sophie daan sem bram lotte sanne piotr anna marta ivan olga dmitri",
    # 2 french
    "jean pierre louis hugo lucas thomas nicolas julien antoine camille manon chloe lea marie "
    "sophie claire ines juliette",
    # 3 indian
    "aarav vivaan aditya arjun rahul rohit amit vikram priya ananya diya isha kavya neha pooja "
    "sneha deepak sanjay suresh",
    # 4 latin
    "joao pedro lucas gabriel rafael mateo diego carlos javier miguel ana maria julia beatriz "
    "camila lucia sofia valentina fernanda",
    # 5 nigerian
    "chinedu emeka oluwaseun tunde ibrahim musa ade chioma ngozi funke aisha amaka bola yetunde",
]
_LAST = [
    "smith johnson williams brown jones garcia miller davis wilson anderson taylor thomas moore "
    "martin jackson thompson white harris clark lewis walker hall allen young king wright scott "
    "green baker adams nelson hill campbell mitchell roberts carter phillips evans turner chen "
    "wang nguyen kim patel tanaka",
    "mueller schmidt schneider fischer weber meyer wagner becker schulz hoffmann koch richter "
    "klein wolf devries jansen bakker visser smit kowalski nowak wisniewski ivanov petrov smirnov",
    "martin bernard dubois thomas robert richard petit durand leroy moreau simon laurent lefebvre "
    "michel garcia david bertrand roux",
    "sharma verma gupta patel singh kumar reddy iyer nair mehta joshi das rao shah chopra malhotra "
    "agarwal bose",
    "silva santos oliveira souza lima pereira costa rodrigues almeida garcia martinez lopez "
    "gonzalez hernandez perez sanchez ramirez torres",
    "okafor adeyemi okonkwo bello balogun eze nwosu ogunleye abubakar adebayo obi afolabi",
]


def _grouped(words_by_group: list[str]) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    lists = [g.split() for g in words_by_group]
    sizes = np.array([len(g) for g in lists], np.int64)
    return (
        pa.array([w for g in lists for w in g]),
        np.concatenate([[0], np.cumsum(sizes)[:-1]]),
        sizes,
    )


_FIRST_V, _FIRST_OFF, _FIRST_N = _grouped(_FIRST)
_LAST_V, _LAST_OFF, _LAST_N = _grouped(_LAST)

_CO_HEADS = (
    "acme apex nova blue north south summit vertex bright cobalt iron silver golden swift "
    "pioneer atlas orbit quantum stellar cedar maple oak pine river lake harbor bay delta "
    "alpine crest peak prime core true clear bold rapid smart green red black white grand "
    "union global united metro urban coastal pacific atlantic northern western eastern zen "
    "echo lumen nimbus terra aqua sol luna astra vivid agile brightpath open next first "
    "keystone ridge stone copper falcon eagle hawk fox wolf bear lion tiger orca"
).split()
_CO_TAILS = [  # by industry, then generic (last)
    "soft labs systems cloud tech data ware io logic stack",
    "capital finance bank invest partners wealth pay lending trust",
    "health care medical clinic bio pharma life wellness",
    "industries manufacturing works steel machines components fabrication tools",
    "retail store shop goods market outlet brands",
    "academy learning university school education institute",
    "county city agency council state department",
    "telecom networks mobile connect comms wireless fiber",
    "media studios news publishing digital creative broadcast",
    "logistics freight shipping transport cargo supply fleet",
    "group corp co inc solutions global holdings ventures international",
]
_TAIL_V, _TAIL_OFF, _TAIL_N = _grouped(_CO_TAILS)
_HEAD_V = pa.array(_CO_HEADS)


def _country_vocab() -> tuple[pa.Array, np.ndarray, np.ndarray, pa.Array, np.ndarray, np.ndarray]:
    names = [[r[0], *r[3]] for r in _COUNTRIES]
    tlds = [r[4] for r in _COUNTRIES]
    n_sizes = np.array([len(v) for v in names], np.int64)
    t_sizes = np.array([len(v) for v in tlds], np.int64)
    return (
        pa.array([v for g in names for v in g]),
        np.concatenate([[0], np.cumsum(n_sizes)[:-1]]),
        n_sizes,
        pa.array([v for g in tlds for v in g]),
        np.concatenate([[0], np.cumsum(t_sizes)[:-1]]),
        t_sizes,
    )


_CTRY_V, _CTRY_OFF, _CTRY_N, _TLD_V, _TLD_OFF, _TLD_N = _country_vocab()
_IND_V = pa.array([v for name in _IND_NAMES for v in _case_variants(name)])
_IND_NV = len(_case_variants("x"))
_SRC_V = pa.array(
    [v for s in _SOURCES for v in (s, s.upper(), f"{s} ", s.replace("_", " ").title(), s.title())]
)
_SRC_NV = 5

# --------------------------------------------------------------------------------------------
# Small helpers.
# --------------------------------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _pick(
    rng: np.random.Generator, group: np.ndarray, off: np.ndarray, size: np.ndarray
) -> np.ndarray:
    """A uniform index into each row's group of a grouped vocabulary."""
    return off[group] + (rng.random(len(group)) * size[group]).astype(np.int64)


def _variant(
    rng: np.random.Generator, group: np.ndarray, off: np.ndarray, size: np.ndarray, p: float
) -> np.ndarray:
    """The canonical form (first of its group) with probability ``p``, else another variant."""
    u = rng.random(len(group))
    other = 1 + (rng.random(len(group)) * (size[group] - 1)).astype(np.int64)
    return off[group] + np.where((u < p) | (size[group] < 2), 0, other)


def _categorical(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One draw per row of an (n, k) matrix of non-negative weights."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * cum[:, -1]
    return (u[:, None] >= cum).sum(axis=1).astype(np.int8)


def _round_sig(x: np.ndarray, digits: int) -> np.ndarray:
    """``x`` (positive) rounded to ``digits`` significant digits."""
    scale = 10.0 ** (np.floor(np.log10(x)) - digits + 1)
    return np.round(x / scale) * scale


def _take(vocab: pa.Array, idx: np.ndarray) -> pa.Array:
    return vocab.take(pa.array(idx))


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _with_nulls(arr: pa.Array, missing: np.ndarray) -> pa.Array:
    return pc.if_else(pa.array(missing), pa.scalar(None, arr.type), arr)


def _str_series(arr: pa.Array | pa.ChunkedArray) -> pd.Series:
    return pd.Series(pd.array(arr, dtype="str"))


def _utc(seconds: np.ndarray, t0: pd.Timestamp) -> pd.Series:
    """Whole seconds after ``t0`` as a tz-aware UTC datetime column (ns resolution)."""
    ns = (seconds.astype(np.int64) + np.int64(t0.value // 1_000_000_000)) * np.int64(1_000_000_000)
    return pd.Series(pd.DatetimeIndex(ns.view("M8[ns]"), tz="UTC"))


def _horizon(start: str, end: str) -> tuple[pd.Timestamp, int]:
    """Start (UTC) and the horizon length in whole seconds; a bare ``end`` date is inclusive."""
    t0 = pd.Timestamp(start)
    t1 = pd.Timestamp(end)
    t0 = t0.tz_localize("UTC") if t0.tzinfo is None else t0.tz_convert("UTC")
    t1 = t1.tz_localize("UTC") if t1.tzinfo is None else t1.tz_convert("UTC")
    if t1 == t1.normalize() and len(str(end).strip()) <= 10:
        t1 = t1 + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
    span = int((t1 - t0.floor("s")) // pd.Timedelta(seconds=1))
    if span < 7 * DAY_S:
        raise ValueError(f"end ({end}) must be at least a week after start ({start})")
    return t0.floor("s"), span


class _Events:
    """Accumulates event components as (lead index, time in days, type code, in-window flag)."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, bool]] = []

    def add(
        self, idx: np.ndarray, t: np.ndarray, etype: np.ndarray | np.int8, window: bool
    ) -> None:
        if len(idx):
            codes = np.broadcast_to(np.asarray(etype, np.int8), idx.shape)
            self.parts.append((idx.astype(np.int32, copy=False), t, codes, window))

    def concat(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if not self.parts:
            return (np.empty(0, np.int32), np.empty(0), np.empty(0, np.int8), np.empty(0, bool))
        idx = np.concatenate([p[0] for p in self.parts])
        t = np.concatenate([p[1] for p in self.parts])
        codes = np.concatenate([p[2] for p in self.parts])
        win = np.concatenate([np.full(len(p[0]), p[3]) for p in self.parts])
        self.parts = []
        return idx, t, codes, win


def _rep(counts: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(counts), dtype=np.int32), counts)


# --------------------------------------------------------------------------------------------
# The world.
# --------------------------------------------------------------------------------------------


def generate_world(
    n_leads: int, seed: int = 0, start: str = "2024-01-01", end: str = "2025-12-31"
) -> dict[str, pd.DataFrame]:
    """Generate leads, events and outcomes for ``n_leads`` leads created in [start, end].

    The same (n_leads, seed, start, end) always gives identical tables.
    """
    if n_leads < 1:
        raise ValueError("n_leads must be at least 1")
    rng = np.random.default_rng(seed)
    t0, span_s = _horizon(start, end)
    horizon = span_s / DAY_S  # days; every time below is in days since t0
    n = int(n_leads)

    # ---- creation times: growing volume, fewer on weekends, business hours ------------------
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

    # ---- companies ----------------------------------------------------------------------------
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

    # ---- people: seniority, department, lead source, email class ---------------------------
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

    # ---- latent fit and intent -----------------------------------------------------------------
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

    # ---- buying window -------------------------------------------------------------------------
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

    # ---- email campaigns and negative signals -------------------------------------------------
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

    ev = _Events()

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

    e_idx, e_t, e_code, e_win = ev.concat()
    # window activity before sign-up is reflected after it; nothing after the horizon
    e_t = np.where(e_t < created[e_idx], 2 * created[e_idx] - e_t, e_t)
    keep = e_t <= horizon
    e_idx, e_t, e_code, e_win = e_idx[keep], e_t[keep], e_code[keep], e_win[keep]

    # ---- outcomes --------------------------------------------------------------------------------
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

    true_rev = co_rev[co]
    amount = np.round(
        5000.0 * (emp / 100) ** 0.35 * rng.lognormal(0, 0.5, n) * np.where(ind == 0, 1.3, 1.0), -2
    )
    amount = np.where(won | (closes & (rng.random(n) < 0.55)), amount, np.nan)

    # ---- observed lead attributes (noisy) ------------------------------------------------------
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
        }
    )

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
    return {"leads": leads, "events": events, "outcomes": outcomes}


def _count(idx: np.ndarray, codes: np.ndarray, n: int, *types: str) -> np.ndarray:
    """Events of the given types per lead."""
    return np.bincount(idx[np.isin(codes, [_E[t] for t in types])], minlength=n)


def _sessions(
    rng: np.random.Generator,
    ev: _Events,
    idx: np.ndarray,
    t_sess: np.ndarray,
    p_more: float,
    probs: tuple[float, float, float],
    window: bool,
) -> None:
    """Expand sessions into page events (page_view, pricing_page_view, content_download)."""
    pages = rng.geometric(1 - p_more, len(idx))
    start = np.cumsum(pages) - pages
    sess = np.repeat(np.arange(len(idx)), pages)
    step = np.arange(len(sess)) - np.repeat(start, pages)
    t = t_sess[sess] + step * rng.uniform(0.5, 3.0, len(sess)) / 1440
    kind = np.array([_E["page_view"], _E["pricing_page_view"], _E["content_download"]])
    codes = kind[rng.choice(3, size=len(sess), p=probs)]
    ev.add(idx[sess], t, codes, window)


def write_world(
    tables: dict[str, pd.DataFrame], out_dir: str | Path, fmt: str = "parquet"
) -> dict[str, Path]:
    """Write each table as ``<name>.parquet`` or ``<name>.csv`` (ISO 8601 UTC times), atomically."""
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"fmt must be 'parquet' or 'csv', not {fmt!r}")
    out = Path(out_dir)
    paths: dict[str, Path] = {}
    for name, frame in tables.items():
        paths[name] = write_table(frame, out / f"{name}.{fmt}")  # CSV gets ISO 8601 times
    return paths
