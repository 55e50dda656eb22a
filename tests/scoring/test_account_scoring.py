"""Account features end to end: trained with ``features.account: on``, scored in chunks
that never split an account, so small chunks give the scores of one big chunk."""

from __future__ import annotations

import pandas as pd
import pytest

from leadscore.config import config_from_dict
from leadscore.data.files import write_tables
from leadscore.data.load import load_data
from leadscore.data.synthetic.world import generate_world
from leadscore.data.validate import require_valid
from leadscore.model.registered import load_registered
from leadscore.scoring.batch import chunk_bounds, score_tables
from leadscore.training.run import train_events

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("accounts")
    data = root / "data"
    write_tables(generate_world(4000, seed=5), data)
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root}/mlflow.db")
    mp.chdir(root)
    tables = require_valid(load_data(data))
    cfg = config_from_dict(
        {
            "features": {"account": "on"},
            "model": {"num_boost_round": 100, "early_stopping_rounds": 20},
            "training": {"min_positives": 10},
        }
    )
    summary = train_events(tables, cfg, None, say=lambda _m: None)
    yield {"root": root, "tables": tables, "summary": summary}
    mp.undo()


def test_small_chunks_give_the_scores_of_one_chunk(trained):
    model = load_registered(trained["summary"].model_uri)
    spec = model.scorer.spec
    assert spec.account_window == 30 and "account_events_30d" in spec.feature_columns
    out = {}
    for chunk in (97, 1_000_000):
        path = trained["root"] / f"s{chunk}.parquet"
        score_tables(
            trained["tables"],
            pd.DataFrame(),
            model.scorer,
            model.settings,
            "v",
            pd.Timestamp("2025-11-01", tz="UTC"),
            path,
            chunk_leads=chunk,
        )
        out[chunk] = pd.read_parquet(path).set_index("lead_id").sort_index()
    pd.testing.assert_series_equal(out[97]["probability"], out[1_000_000]["probability"])


def test_chunk_cuts_move_to_the_next_account():
    leads = pd.DataFrame({"lead_id": list("abcdefg"), "account": list("XXXYYZZ")})
    snaps = pd.DataFrame({"lead_id": list("abcdefg")})
    spec = type("S", (), {"account_window": 30})()
    # Cuts at 2, 4, 6 move to the starts of Y (3), Z (5); the one at 6 has no later start.
    assert chunk_bounds(snaps, leads, spec, 2) == [(0, 3), (3, 5), (5, 7)]
    spec.account_window = 0
    assert chunk_bounds(snaps, leads, spec, 3) == [(0, 3), (3, 6), (6, 7)]
