"""Flat mode: different ids are different leads; a repeated id is one lead seen twice."""

from __future__ import annotations

import pandas as pd

from leadscore.config import config_from_dict
from leadscore.training.flat import prepare_flat


def _lines(report) -> dict[tuple[str, str], int]:
    return {(r["rule"], r["column"]): r["count"] for r in report.lines}


def test_same_attributes_under_different_ids_stay_and_a_repeated_id_is_dropped():
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c", "a", "d"],
            "visits": [1, 1, 1, 5, 2],  # a, b and c look alike; the second "a" does not
            "source": ["web", "web", "web", "mail", "web"],
            "won": [0, 0, 0, 1, 1],
        }
    )
    data = prepare_flat(frame, config_from_dict({}), "won", id_column="id")
    assert data.table["lead_id"].tolist() == ["a", "b", "c", "d"]
    assert data.table["label"].tolist() == [0, 0, 0, 1]  # the first "a" is the one kept
    lines = _lines(data.report)
    assert lines[("duplicate ids", "id")] == 1
    assert lines[("duplicates", "(row)")] == 2  # b and c repeat a's attributes: counted, kept


def test_the_drop_setting_still_drops_look_alikes():
    frame = pd.DataFrame({"id": ["a", "b", "c"], "x": [1, 1, 2], "won": [1, 1, 0]})
    data = prepare_flat(frame, config_from_dict({"flat": {"duplicates": "drop"}}), "won", "id")
    assert data.table["lead_id"].tolist() == ["a", "c"]
