"""A hand-off list in a CRM's own import shape, so scores reach a rep's screen without a
hand-made column mapping:

- ``hubspot``: a contacts import CSV keyed by ``Record ID`` (or ``Email``), one column per
  custom property by its internal name; UTF-8 with a byte-order mark, which HubSpot's
  importer reads and spreadsheet tools need to show accents.
- ``salesforce``: a Data Loader / Bulk API 2.0 CSV keyed by ``Id``, custom fields by their
  API names (``__c``); UTF-8 without a byte-order mark (Bulk API 2.0 would read it as part
  of the first header).
- ``dynamics``: ``msdyn_predictivescore`` records as JSON lines, the table Dynamics 365
  Sales keeps scores from an outside model in (entity id and type, score, grade, trend,
  reasons, scored-on date).

Text longer than a field takes is cut to the field's documented limit, and the cuts are
counted per field so the run can say so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from leadscore.data.files import write_atomic

FORMATS = ("csv", "hubspot", "salesforce", "dynamics")

#: HubSpot: a single-line text property holds up to 65,536 characters.
HUBSPOT_TEXT = 65_536
HUBSPOT_KEYS = ("Record ID", "Email")
HUBSPOT_PROPERTIES = {
    "probability": "leadscore_probability",
    "score": "leadscore_score",
    "tier": "leadscore_tier",
    "reasons": "leadscore_reasons",
    "model_version": "leadscore_model_version",
}
#: Salesforce: a Text field holds up to 255 characters; a Long Text Area 32,768 by default.
SALESFORCE_TEXT = 255
SALESFORCE_LONG_TEXT = 32_768
SALESFORCE_FIELDS = {
    "probability": "Leadscore_Probability__c",
    "score": "Leadscore_Score__c",
    "tier": "Leadscore_Tier__c",
    "reasons": "Leadscore_Reasons__c",
    "model_version": "Leadscore_Model_Version__c",
}
#: msdyn_predictivescore's documented lengths and choices.
DYNAMICS_LIMITS = {"msdyn_entityid": 256, "msdyn_name": 128, "msdyn_scorereasons": 10_000}
DYNAMICS_GRADES = 4  # Grade A..D are choices 0..3
IMPROVING, STEADY, DECLINING, NOT_ENOUGH_INFO = 0, 1, 2, 3


@dataclass
class Shaped:
    """Rows in a CRM's shape, and how many values were cut to each field's limit."""

    rows: pd.DataFrame
    cut: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        if not any(self.cut.values()):
            return "no text cut to a field's limit"
        return "cut to the field's limit: " + ", ".join(
            f"{name} {n:,}" for name, n in self.cut.items() if n
        )


def _cut(values: pd.Series, limit: int, name: str, cut: dict[str, int]) -> pd.Series:
    text = values.astype("string")
    long = text.str.len() > limit
    cut[name] = int(long.fillna(False).sum())
    return text.where(~long.fillna(False), text.str.slice(0, limit))


def hubspot(
    rows: pd.DataFrame,
    key: str = "Record ID",
    properties: dict[str, str] | None = None,
    emails: pd.Series | None = None,
) -> Shaped:
    """A HubSpot contacts import: ``key`` (the lead id as ``Record ID``, or ``emails``, one
    per row, as ``Email``) and one column per leadscore property."""
    if key not in HUBSPOT_KEYS:
        raise ValueError(f"HubSpot key must be one of {', '.join(HUBSPOT_KEYS)}, not {key!r}")
    names = HUBSPOT_PROPERTIES | (properties or {})
    cut: dict[str, int] = {}
    ids = rows["lead_id"].astype(str) if key == "Record ID" else emails
    if ids is None:
        raise ValueError("a HubSpot import keyed by Email needs each lead's email")
    out = pd.DataFrame({key: np.asarray(ids)})
    out[names["probability"]] = rows["probability"].to_numpy()
    out[names["score"]] = rows["score"].to_numpy()
    for what in ("tier", "reasons", "model_version"):
        out[names[what]] = _cut(rows[what], HUBSPOT_TEXT, names[what], cut).to_numpy()
    return Shaped(out, cut)


def salesforce(
    rows: pd.DataFrame,
    fields: dict[str, str] | None = None,
    reasons_length: int = SALESFORCE_LONG_TEXT,
) -> Shaped:
    """A Data Loader / Bulk API 2.0 update file: ``Id`` and the leadscore fields."""
    names = SALESFORCE_FIELDS | (fields or {})
    cut: dict[str, int] = {}
    out = pd.DataFrame({"Id": rows["lead_id"].astype(str).to_numpy()})
    out[names["probability"]] = rows["probability"].to_numpy()
    out[names["score"]] = rows["score"].to_numpy()
    out[names["tier"]] = _cut(rows["tier"], SALESFORCE_TEXT, names["tier"], cut).to_numpy()
    out[names["reasons"]] = _cut(rows["reasons"], reasons_length, names["reasons"], cut).to_numpy()
    version = _cut(rows["model_version"], SALESFORCE_TEXT, names["model_version"], cut)
    out[names["model_version"]] = version.to_numpy()
    return Shaped(out, cut)


def trend(change: pd.Series | None, n: int) -> np.ndarray:
    """msdyn_scoretrend from the score's change since the previous night."""
    if change is None:
        return np.full(n, NOT_ENOUGH_INFO)
    c = pd.to_numeric(change, errors="coerce").to_numpy("float64")
    return np.select(
        [np.isnan(c), c > 0, c < 0], [NOT_ENOUGH_INFO, IMPROVING, DECLINING], default=STEADY
    )


def dynamics(rows: pd.DataFrame, tier_order: list[str], entity: str = "lead") -> Shaped:
    """``msdyn_predictivescore`` records: the best tier is Grade A, the fourth and below D."""
    cut: dict[str, int] = {}
    rank = {t: min(i, DYNAMICS_GRADES - 1) for i, t in enumerate(tier_order)}
    grade = rows["tier"].astype(str).map(rank).fillna(DYNAMICS_GRADES - 1).astype(int)
    ids = _cut(rows["lead_id"], DYNAMICS_LIMITS["msdyn_entityid"], "msdyn_entityid", cut)
    name = _cut(
        "leadscore " + rows["model_version"].astype(str),
        DYNAMICS_LIMITS["msdyn_name"],
        "msdyn_name",
        cut,
    )
    reasons = _cut(
        rows["reasons"], DYNAMICS_LIMITS["msdyn_scorereasons"], "msdyn_scorereasons", cut
    )
    change = rows["score_change"] if "score_change" in rows else None
    records = pd.DataFrame(
        {
            "msdyn_entityid": ids.astype(str).to_numpy(),
            "msdyn_entitytype": entity,
            "msdyn_name": name.astype(str).to_numpy(),
            "msdyn_score": np.round(rows["score"].to_numpy("float64")).astype("int64"),
            "msdyn_grade": grade.to_numpy("int64"),
            "msdyn_scoretrend": trend(change, len(rows)).astype("int64"),
            "msdyn_scorereasons": reasons.astype(str).to_numpy(),
            "msdyn_scoredon": rows["scored_at"].astype(str).to_numpy(),
        }
    )
    return Shaped(records, cut)


def from_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """A scores file's rows as the shapes read them (``reasons``, ``scored_at``)."""
    night = (
        pd.to_datetime(scores["as_of"], utc=True).dt.strftime("%Y-%m-%d")
        if "as_of" in scores
        else pd.Series("", index=scores.index)
    )
    out = scores.rename(columns={"top_reasons": "reasons"}).assign(scored_at=night)
    return out


def shape(
    rows: pd.DataFrame,
    fmt: str,
    crm_cfg,
    tier_order: list[str],
    emails: pd.Series | None = None,
) -> Shaped:
    """``rows`` (a hand-off list, or ``from_scores``) in ``fmt``'s shape, named by the
    config's ``crm:`` section."""
    if fmt == "hubspot":
        return hubspot(rows, crm_cfg.hubspot_key, crm_cfg.hubspot_properties, emails)
    if fmt == "salesforce":
        return salesforce(rows, crm_cfg.salesforce_fields, crm_cfg.salesforce_reasons_length)
    order = [*tier_order, *sorted(set(rows["tier"].astype(str)) - set(tier_order))]
    return dynamics(rows, order)


def suffix(fmt: str) -> str:
    """The file a shape is written to: ``.jsonl`` for dynamics, ``.csv`` otherwise."""
    return ".jsonl" if fmt == "dynamics" else ".csv"


def _csv(frame: pd.DataFrame, bom: bool) -> Callable[[Path], None]:
    encoding = "utf-8-sig" if bom else "utf-8"
    return lambda tmp: frame.to_csv(tmp, index=False, encoding=encoding)


def _jsonl(records: pd.DataFrame) -> Callable[[Path], None]:
    return lambda tmp: records.to_json(
        tmp, orient="records", lines=True, force_ascii=False, index=False
    )


def write_shaped(shaped: Shaped, fmt: str, out: str | Path) -> Path:
    """Write ``shaped`` atomically in ``fmt``'s file form (``.jsonl`` for dynamics)."""
    p = Path(out)
    if fmt == "dynamics":
        return write_atomic(p, _jsonl(shaped.rows))
    return write_atomic(p, _csv(shaped.rows, bom=fmt == "hubspot"))
