"""The hand-off list in HubSpot's, Salesforce's and Dynamics 365's import shapes: their
documented headers, field limits (cuts counted), encodings, and the command."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from leadscore.cli import main
from leadscore.config import ConfigError, config_from_dict
from leadscore.handoff import crm

from .test_command import night


def rows(reasons: list[str] | None = None) -> pd.DataFrame:
    reasons = reasons or ["+ requested a demo 1 time", "+ Société Générale, 2 visits"]
    return pd.DataFrame(
        {
            "lead_id": ["L1", "L2"],
            "tier": ["A", "C"],
            "score": [71.0, 3.41],
            "probability": [0.71, 0.0341],
            "reasons": reasons,
            "scored_at": ["2026-01-01", "2026-01-01"],
            "model_version": ["leadscore/3", "leadscore/3"],
        }
    )


def test_hubspot_is_keyed_by_record_id_or_email_with_property_internal_names():
    shaped = crm.hubspot(rows())
    assert list(shaped.rows.columns) == [
        "Record ID",
        "leadscore_probability",
        "leadscore_score",
        "leadscore_tier",
        "leadscore_reasons",
        "leadscore_model_version",
    ]
    by_email = crm.hubspot(
        rows(), "Email", {"tier": "lead_grade"}, emails=pd.Series(["a@x.com", "b@y.com"])
    )
    assert by_email.rows["Email"].tolist() == ["a@x.com", "b@y.com"]
    assert "lead_grade" in by_email.rows.columns
    with pytest.raises(ValueError, match="email"):
        crm.hubspot(rows(), "Email")


def test_salesforce_cuts_text_to_its_fields_and_counts_the_cuts():
    long = "+ " + "x" * 40_000
    shaped = crm.salesforce(rows([long, "+ short"]), reasons_length=32_768)
    assert list(shaped.rows.columns) == [
        "Id",
        "Leadscore_Probability__c",
        "Leadscore_Score__c",
        "Leadscore_Tier__c",
        "Leadscore_Reasons__c",
        "Leadscore_Model_Version__c",
    ]
    assert shaped.rows["Leadscore_Reasons__c"].str.len().tolist() == [32_768, 7]
    assert shaped.cut["Leadscore_Reasons__c"] == 1 and "Leadscore_Reasons__c 1" in shaped.line()


def test_dynamics_records_follow_msdyn_predictivescore():
    frame = rows(["r" * 12_000, "+ ok"]).assign(score_change=[2.5, float("nan")])
    shaped = crm.dynamics(frame, ["A", "B", "C", "D", "E"])
    first, second = shaped.rows.to_dict("records")
    assert set(first) == {
        "msdyn_entityid",
        "msdyn_entitytype",
        "msdyn_name",
        "msdyn_score",
        "msdyn_grade",
        "msdyn_scoretrend",
        "msdyn_scorereasons",
        "msdyn_scoredon",
    }
    assert (first["msdyn_grade"], second["msdyn_grade"]) == (0, 2)  # Grade A, Grade C
    assert (first["msdyn_score"], second["msdyn_score"]) == (71, 3)  # an integer column
    assert (first["msdyn_scoretrend"], second["msdyn_scoretrend"]) == (
        crm.IMPROVING,
        crm.NOT_ENOUGH_INFO,
    )
    assert len(first["msdyn_scorereasons"]) == 10_000 and shaped.cut["msdyn_scorereasons"] == 1
    assert crm.dynamics(rows(), ["A", "B", "C", "D", "E"]).rows["msdyn_scoretrend"][0] == 3
    assert crm.dynamics(rows().assign(tier="E"), list("ABCDE")).rows["msdyn_grade"][0] == 3


def test_the_files_have_the_encodings_their_importers_expect(tmp_path):
    hub = crm.write_shaped(crm.hubspot(rows()), "hubspot", tmp_path / "h.csv")
    sf = crm.write_shaped(crm.salesforce(rows()), "salesforce", tmp_path / "s.csv")
    dyn = crm.write_shaped(crm.dynamics(rows(), ["A", "B", "C"]), "dynamics", tmp_path / "d.jsonl")
    assert hub.read_bytes().startswith(b"\xef\xbb\xbfRecord ID,")  # UTF-8 with a BOM
    assert sf.read_bytes().startswith(b"Id,Leadscore_Probability__c")  # no BOM
    assert "Société Générale" in sf.read_text(encoding="utf-8")
    lines = dyn.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["msdyn_entityid"] for line in lines] == ["L1", "L2"]


def test_handoff_writes_each_shape_and_refuses_a_wrong_extension(tmp_path, capsys):
    scores = night(tmp_path / "n.parquet", "2026-01-05")
    base = ["handoff", "--scores", str(scores), "--capacity", "3"]
    assert main([*base, "--format", "salesforce", "--out", str(tmp_path / "sf.csv")]) == 0
    assert pd.read_csv(tmp_path / "sf.csv")["Id"].tolist() == ["a", "b", "c"]
    assert main([*base, "--format", "dynamics", "--out", str(tmp_path / "d.jsonl")]) == 0
    assert "no text cut" in capsys.readouterr().out
    assert main([*base, "--format", "dynamics", "--out", str(tmp_path / "d.csv")]) == 2
    assert "writes a .jsonl file" in capsys.readouterr().err
    assert not (tmp_path / "d.csv").exists()


def test_crm_names_only_known_outputs():
    with pytest.raises(ConfigError, match="crm.hubspot_properties"):
        config_from_dict({"crm": {"hubspot_properties": {"probabilty": "x"}}})
