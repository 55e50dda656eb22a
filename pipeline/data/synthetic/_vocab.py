"""The synthetic world's vocabularies: titles, industries, countries, sources, names, domains.

Small, built once at import; each comes with the weights the generator draws it with and
the spelling variants a CRM would hold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from leadscore.data.contract import KNOWN_EVENT_TYPES

DAY_S = 86_400
EVENT_TYPES: tuple[str, ...] = KNOWN_EVENT_TYPES
_E = {name: np.int8(i) for i, name in enumerate(EVENT_TYPES)}
EVENT_DTYPE = pd.CategoricalDtype(list(EVENT_TYPES), ordered=False)

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
