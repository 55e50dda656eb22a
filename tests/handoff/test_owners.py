"""Owners files: YAML or CSV, validated on load with the bad key or owner named."""

from __future__ import annotations

import pytest

from leadscore.errors import ConfigError
from leadscore.handoff.owners import load_owners, parse_owners


def test_yaml_and_csv_give_the_same_teams(tmp_path):
    (tmp_path / "o.yaml").write_text(
        "territory_by: industry\nowners:\n"
        "  - {owner: Ana, email: a@x.com, territories: [Software, Retail], capacity: 3}\n"
        "  - {owner: Bo, territories: [retail, software], capacity: 2}\n"
        "  - {owner: Cy, capacity: 1}\n"
    )
    (tmp_path / "o.csv").write_text(
        "owner,email,industry,capacity\nAna,a@x.com,Software; Retail,3\nBo,,retail;software,2\nCy,,,1\n"
    )
    a, b = load_owners(tmp_path / "o.yaml"), load_owners(tmp_path / "o.csv")
    for owners in (a, b):
        assert owners.territory_by == "industry"
        assert [t.territories for t in owners.teams] == [
            frozenset({"software", "retail"}),
            frozenset(),
        ]
        assert [[o.owner for o in t.owners] for t in owners.teams] == [["Ana", "Bo"], ["Cy"]]
        assert owners.capacity == 6
        assert owners.team_of() == {"software": 0, "retail": 0, "": 1}


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ({"owners": []}, "owners: List should have at least 1 item"),
        ({"owners": [{"owner": "A", "capacity": -1}]}, "owners.0.capacity"),
        ({"owners": [{"owner": "A", "capacity": 1, "team": "x"}]}, "owners.0.team"),
        ({"territory_by": "city", "owners": [{"owner": "A", "capacity": 1}]}, "territory_by"),
        (
            {"owners": [{"owner": "A", "capacity": 1}, {"owner": "A", "capacity": 2}]},
            "'A' is listed twice",
        ),
        ({"owners": [{"owner": "A", "capacity": 1, "territories": ["US"]}]}, "not territory_by"),
        (
            {
                "territory_by": "country",
                "owners": [
                    {"owner": "A", "capacity": 1, "territories": ["US", "CA"]},
                    {"owner": "B", "capacity": 1, "territories": ["US"]},
                ],
            },
            "territory 'us' is given to A and to B",
        ),
    ],
)
def test_a_bad_owners_file_is_one_line_naming_the_fault(raw, says):
    with pytest.raises(ConfigError, match=r"^owners o\.yaml: .*") as err:
        parse_owners(raw, "o.yaml")
    assert says in str(err.value) and "\n" not in str(err.value)


def test_a_csv_with_an_unknown_column_names_it(tmp_path):
    (tmp_path / "o.csv").write_text("owner,capacity,region\nA,1,EU\n")
    with pytest.raises(ConfigError, match="unknown column 'region'"):
        load_owners(tmp_path / "o.csv")
    (tmp_path / "o.txt").write_text("x")
    with pytest.raises(ConfigError, match="neither .yaml nor .csv"):
        load_owners(tmp_path / "o.txt")


def test_the_example_owners_file_loads():
    from pathlib import Path

    owners = load_owners(Path(__file__).resolve().parents[2] / "configs" / "owners.example.yaml")
    assert owners.territory_by == "country"
    assert [len(t.owners) for t in owners.teams] == [2, 1, 1]
    assert owners.team_of()[""] == 2  # the catch-all team
