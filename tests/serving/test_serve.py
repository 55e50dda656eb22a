"""``leadscore serve``: a lead scored now equals its batch score at the same moment, by id
and inline, for every model kind; bad requests get one-line 4xx answers and the server goes
on; a lead crossing into the top tier is called once."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.cli import main
from leadscore.cli.serve import token_for
from leadscore.config import config_from_dict
from leadscore.data.contract import Tables
from leadscore.data.files import write_tables
from leadscore.data.load import load_data
from leadscore.data.synthetic.world import generate_world
from leadscore.data.validate import require_valid
from leadscore.errors import UsageError
from leadscore.features.explicit import categorical_value
from leadscore.model.registered import load_registered, signature_frame
from leadscore.scoring.batch import score_frame, scoring_features
from leadscore.scoring.online import (
    Folder,
    parse_request,
    request_tables,
    score_now,
    score_request,
)
from leadscore.serving.app import Service, create_app
from leadscore.serving.notify import Notifier

pytestmark = pytest.mark.slow

AS_OF = "2025-11-15"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A data folder, a champion trained on it, and a night scored into a history."""
    root = tmp_path_factory.mktemp("serve")
    data = root / "data"
    write_tables(generate_world(3000, seed=5), data)
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root}/mlflow.db")
    mp.chdir(root)
    cfg = root / "cfg.yaml"
    cfg.write_text(
        "model: {kind: lightgbm, num_boost_round: 200, early_stopping_rounds: 20}\n"
        "training: {min_positives: 10}\n"
    )
    assert main(["train", "--data", str(data), "--config", str(cfg)]) == 0
    night = ["score", "--data", str(data), "--as-of", AS_OF, "--history", str(root / "history")]
    assert main([*night, "--out", str(root / "scores.parquet")]) == 0
    tables = require_valid(load_data(data))
    model = load_registered("models:/leadscore@champion")
    model.version, model.uri = "leadscore/1", "models:/leadscore@champion"
    yield {"root": root, "data": data, "tables": tables, "model": model, "folder": Folder(tables)}
    mp.undo()


def _service(served, **extra) -> Service:
    return Service(
        model=served["model"],
        uri="models:/leadscore/1",
        name="leadscore",
        folder=served["folder"],
        history=served["root"] / "history",
        **extra,
    )


def _online(served, leads: list[dict], as_of: str, folder=True) -> pd.DataFrame:
    model = served["model"]
    request = parse_request({"as_of": as_of, "leads": leads}, pd.Timestamp.now(tz="UTC"))
    floors = _service(served).floors
    return score_request(model, request, {}, served["folder"] if folder else None, floors)


def test_a_lead_by_id_scores_as_the_night_did(served):
    batch = pd.read_parquet(served["root"] / "scores.parquet").set_index("lead_id")
    ids = list(batch.index[::97][:25])
    got = _online(served, [{"lead_id": i} for i in ids], f"{AS_OF}T00:00:00Z")
    b = batch.loc[ids]
    np.testing.assert_allclose(got["probability"], b["probability"], rtol=0, atol=1e-9)
    assert list(got["top_reasons"]) == list(b["top_reasons"])
    assert list(got["baseline_score"]) == list(b["baseline_score"])
    assert list(got["fit_grade"]) == list(b["fit_grade"])
    # Tiers start at the night's lowest probability per tier: the same tier, except a lead
    # tied with a tier's lowest probability, which joins that tier.
    floors = set(_service(served).floors.values())
    untied = ~got["probability"].isin(floors).to_numpy()
    assert (got["tier"].to_numpy()[untied] == b["tier"].to_numpy()[untied]).all()


def _inline(tables, lead_id: str) -> dict:
    """A folder lead as a request sends it: fields, events and stages."""

    def text(frame: pd.DataFrame) -> list[dict]:
        out = frame.drop(columns="lead_id").copy()
        for c in out.columns:
            if isinstance(out[c].dtype, pd.DatetimeTZDtype):
                out[c] = out[c].map(lambda t: t.isoformat())
        return json.loads(out.to_json(orient="records"))

    lead = tables.leads[tables.leads["lead_id"] == lead_id]
    events = tables.events[tables.events["lead_id"] == lead_id]
    row = text(lead)[0] | {"lead_id": lead_id, "events": text(events)}
    if tables.stages is not None:
        row["stages"] = text(tables.stages[tables.stages["lead_id"] == lead_id])
    return row


def _batch_row(served, lead_id: str, as_of: pd.Timestamp) -> pd.Series:
    """What the nightly batch's own functions give this lead at ``as_of``."""
    model, tables = served["model"], served["tables"]
    snaps = pd.DataFrame(
        {
            "lead_id": pd.array([lead_id], dtype="string"),
            "as_of": pd.Series([as_of], dtype=tables.leads["created_at"].dtype),
        }
    )
    feats = scoring_features(tables, snaps, model.scorer.spec)
    s = model.settings
    return score_frame(feats, model.scorer, s.baseline, s.explain.top_reasons, "v", 1).iloc[0]


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_online_equals_batch_by_id_and_inline_for_any_lead_and_moment(served, data):
    tables = served["tables"]
    lead = data.draw(st.sampled_from(list(tables.leads["lead_id"].astype(str))))
    created = tables.leads.loc[tables.leads["lead_id"] == lead, "created_at"].iloc[0]
    days = data.draw(st.integers(0, 500))
    as_of = (created + pd.Timedelta(days=days, hours=data.draw(st.integers(0, 23)))).floor("s")
    want = _batch_row(served, lead, as_of)
    for got in (
        _online(served, [{"lead_id": lead}], as_of.isoformat()).iloc[0],
        _online(served, [_inline(tables, lead)], as_of.isoformat(), folder=False).iloc[0],
    ):
        assert abs(got["probability"] - want["probability"]) <= 1e-9
        assert got["top_reasons"] == want["top_reasons"]
        assert got["baseline_score"] == want["baseline_score"]


def test_a_lead_by_id_reads_the_folders_field_history_as_the_batch_does(served):
    """A folder with a field history: a lead sent by id is scored on its fields as they
    were at the request's as_of, as the batch scores it."""
    tables, model = served["tables"], served["model"]
    lead = tables.leads.iloc[7]
    created = lead["created_at"]
    history = pd.DataFrame(
        {
            "lead_id": pd.Series([lead["lead_id"]] * 2, dtype="str"),
            "field": pd.Series(["job_title"] * 2, dtype="str"),
            "value": pd.Series(["Intern", "Chief Executive Officer"], dtype="str"),
            "changed_at": pd.Series([created, created + pd.Timedelta(days=30)]),
        }
    )
    kept = Tables(tables.leads, tables.events, tables.outcomes, tables.stages, history)
    folder = Folder(kept)
    spec = model.scorer.spec
    for days, seniority in ((10, "individual"), (60, "c_level")):
        as_of = (created + pd.Timedelta(days=days)).floor("s")
        request = parse_request(
            {"as_of": as_of.isoformat(), "leads": [{"lead_id": lead["lead_id"]}]}, as_of
        )
        asked, ids = request_tables(request, {}, folder, bool(spec.account_window))
        got = score_now(model, asked, ids, request.as_of, _service(served).floors).iloc[0]
        snaps = pd.DataFrame(
            {
                "lead_id": pd.array([lead["lead_id"]], dtype="string"),
                "as_of": pd.Series([as_of], dtype=tables.leads["created_at"].dtype),
            }
        )
        feats = scoring_features(kept, snaps, spec)
        assert feats["seniority"].iloc[0] == seniority
        s = model.settings
        want = score_frame(feats, model.scorer, s.baseline, s.explain.top_reasons, "v", 1).iloc[0]
        assert abs(got["probability"] - want["probability"]) <= 1e-9
        assert got["top_reasons"] == want["top_reasons"]


def test_a_lead_with_no_events_and_no_stages_scores(served):
    got = _online(
        served,
        [{"lead_id": "NEW", "created_at": "2025-10-01T00:00:00Z", "job_title": "CTO"}],
        f"{AS_OF}T00:00:00Z",
        folder=False,
    )
    assert 0 <= got["probability"].iloc[0] <= 1 and got["top_reasons"].iloc[0]


@pytest.mark.parametrize("kind", ["logistic", "naive_bayes", "points"])
def test_every_kind_scores_online_as_in_batch(served, kind, tmp_path, monkeypatch):
    from leadscore.training.run import train_events

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    cfg = config_from_dict({"model": {"kind": kind}, "training": {"min_positives": 10}})
    summary = train_events(served["tables"], cfg, None, say=lambda _m: None)
    model = load_registered(f"models:/leadscore/{summary.version}")  # champion or not
    model.version = f"leadscore/{summary.version}"
    assert model.scorer.kind == kind
    other = served | {"model": model}
    as_of = pd.Timestamp(AS_OF, tz="UTC")
    ids = list(pd.read_parquet(served["root"] / "scores.parquet")["lead_id"].iloc[::400][:4])
    got = _online(other, [{"lead_id": i} for i in ids], as_of.isoformat())
    raw = _pyfunc_raw(f"models:/leadscore/{summary.version}", served["tables"], ids, as_of)
    for i, row, served_row in zip(ids, got.itertuples(), raw.itertuples(), strict=True):
        want = _batch_row(other, i, as_of)
        assert abs(row.probability - want["probability"]) <= 1e-9
        assert row.top_reasons == want["top_reasons"]
        assert abs(served_row.probability - want["probability"]) <= 1e-9
        assert served_row.top_reasons == want["top_reasons"]
        assert served_row.model_version == f"leadscore/{summary.version}"


def test_a_segmented_model_scores_online_as_in_batch_with_each_rows_own_model(
    served, tmp_path, monkeypatch
):
    """A registered segmented model (the most common lead source served by the points sheet
    as its segment's model) answers by id, inline and through MLflow as the batch does."""
    from mlflow import MlflowClient

    from leadscore import tracking
    from leadscore.model import registered
    from leadscore.model.segmented import SegmentedScorer
    from leadscore.training.run import train_events

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    cfg = config_from_dict({"model": {"kind": "logistic"}, "training": {"min_positives": 10}})
    result = train_events(served["tables"], cfg, None, say=lambda _m: None).result
    source = result.scorer.spec.categories["lead_source"][0]
    segmented = SegmentedScorer(
        result.scorer, "lead_source", {source: "own"}, {"own": result.points}
    )
    example = result.test_sample[result.scorer.spec.feature_columns].head(5)
    with tracking.store_lock(), mlflow.start_run():
        _, version = registered.log_model(segmented, served["model"].settings, example, "leadscore")
    MlflowClient().set_registered_model_alias("leadscore", tracking.CHAMPION, version)
    model = load_registered(f"models:/leadscore/{version}")
    model.version = f"leadscore/{version}"
    assert isinstance(model.scorer, SegmentedScorer)
    other = served | {"model": model}
    as_of = pd.Timestamp(AS_OF, tz="UTC")
    leads = served["tables"].leads
    mine = categorical_value(leads["lead_source"], "lead_source") == source
    ids = [
        *leads.loc[mine, "lead_id"].astype(str)[:3],
        *leads.loc[~mine, "lead_id"].astype(str)[:3],
    ]
    got = _online(other, [{"lead_id": i} for i in ids], as_of.isoformat())
    raw = _pyfunc_raw(f"models:/leadscore/{version}", served["tables"], ids, as_of)
    for i, row, served_row in zip(ids, got.itertuples(), raw.itertuples(), strict=True):
        want = _batch_row(other, i, as_of)
        assert abs(row.probability - want["probability"]) <= 1e-9
        assert row.top_reasons == want["top_reasons"]
        assert abs(served_row.probability - want["probability"]) <= 1e-9
        assert served_row.top_reasons == want["top_reasons"]
    # The first three are the segment's leads, scored by the points sheet.
    feats = scoring_features(
        served["tables"],
        pd.DataFrame(
            {
                "lead_id": pd.array(ids, dtype="string"),
                "as_of": pd.Series([as_of] * len(ids), dtype=leads["created_at"].dtype),
            }
        ),
        result.scorer.spec,
    )
    feats = feats.set_index(feats["lead_id"].astype(str)).loc[ids]
    want = np.r_[result.points.predict_proba(feats[:3]), result.scorer.predict_proba(feats[3:])]
    np.testing.assert_allclose(got["probability"], want, rtol=0, atol=1e-9)


def _pyfunc_raw(uri: str, tables, ids: list[str], as_of: pd.Timestamp) -> pd.DataFrame:
    """The registered model loaded by MLflow alone, given raw leads."""
    rows = [_inline(tables, i) | {"as_of": as_of.isoformat()} for i in ids]
    return mlflow.pyfunc.load_model(uri).predict(pd.DataFrame(rows))


def test_the_pyfunc_takes_raw_leads_and_feature_rows_alike(served):
    model, tables = served["model"], served["tables"]
    as_of = pd.Timestamp(AS_OF, tz="UTC")
    ids = list(tables.leads["lead_id"].astype(str).iloc[::300][:6])
    raw = _pyfunc_raw("models:/leadscore@champion", tables, ids, as_of)
    assert list(raw["lead_id"]) == ids and set(raw["tier"]) <= set(model.settings.tiers.names())
    snaps = pd.DataFrame(
        {
            "lead_id": pd.array(ids, dtype="string"),
            "as_of": pd.Series([as_of] * len(ids), dtype=tables.leads["created_at"].dtype),
        }
    )
    feats = signature_frame(scoring_features(tables, snaps, model.scorer.spec), model.scorer)
    rows = mlflow.pyfunc.load_model("models:/leadscore@champion").predict(feats)
    np.testing.assert_allclose(rows["probability"], raw["probability"], rtol=0, atol=1e-9)


def test_mlflow_models_serve_answers_raw_leads_as_the_batch_does(served):
    tables, port = served["tables"], _free_port()
    as_of = pd.Timestamp(AS_OF, tz="UTC")
    ids = list(tables.leads["lead_id"].astype(str).iloc[::500][:4])
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    command = ["mlflow", "models", "serve", "-m", "models:/leadscore@champion"]
    server = subprocess.Popen(
        [*command, "--env-manager", "local", "--host", "127.0.0.1", "-p", str(port)],
        env=env,
        cwd=served["root"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/ping", server)
        rows = [_inline(tables, i) | {"as_of": as_of.isoformat()} for i in ids]
        rows.append({"lead_id": "NEW", "created_at": "2025-10-01T00:00:00Z", "as_of": AS_OF})
        body = json.dumps({"dataframe_records": rows}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations", body, {"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                got = json.loads(answer.read())["predictions"]
        except urllib.error.HTTPError as err:
            raise AssertionError(err.read().decode()[:2000]) from None
        assert [g["lead_id"] for g in got] == [*ids, "NEW"]
        champion = mlflow.MlflowClient().get_model_version_by_alias("leadscore", "champion").version
        for lead_id, row in zip(ids, got, strict=False):
            want = _batch_row(served, lead_id, as_of)
            assert abs(row["probability"] - want["probability"]) <= 1e-9
            assert row["top_reasons"] == want["top_reasons"]
            assert row["model_version"] == f"leadscore/{champion}"
        assert 0 <= got[-1]["probability"] <= 1
        bad = {"dataframe_records": [{"lead_id": "X", "created_at": "someday", "as_of": AS_OF}]}
        request.data = json.dumps(bad).encode()
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(request, timeout=60)
        assert err.value.code == 400 and "unparseable timestamp" in err.value.read().decode()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _wait_for(url: str, server: subprocess.Popen, seconds: float = 120) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if server.poll() is not None:
            raise RuntimeError(f"mlflow models serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer in {seconds:.0f} s")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Running:
    """The app on a uvicorn server in a thread, on a free localhost port."""

    def __init__(self, app) -> None:
        self.port = _free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        for _ in range(100):
            if self.server.started:
                return self
            time.sleep(0.05)
        raise RuntimeError("the server did not start")

    def __exit__(self, *_exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def call(self, path: str, body: bytes | None = None, headers: dict | None = None):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=body, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())


BAD = [
    (b"{not json", 400, "not JSON"),
    (b'{"leads": [{"name": "x"}]}', 400, "no lead_id"),
    (b'{"leads": [{"lead_id": "NOBODY"}]}', 404, "not in the data folder"),
    (b'{"as_of": "someday", "leads": [{"lead_id": "L0000100"}]}', 422, "as_of"),
    (
        b'{"leads": [{"lead_id": "L0000100", "events": [{"occurred_at": "nope", '
        b'"event_type": "page_view"}]}]}',
        422,
        "unparseable timestamp",
    ),
    (b'{"leads": "L0000100"}', 400, "non-empty list"),
    (b"[1, 2]", 400, "JSON object"),
]


def test_the_server_answers_health_scores_and_every_bad_request_in_one_line(served):
    with _Running(create_app(_service(served), max_body=5_000)) as srv:
        assert srv.call("/health") == (200, {"status": "ok", "model_version": "leadscore/1"})
        for body, status, words in BAD:
            got, answer = srv.call("/score", body)
            assert got == status and words in answer["error"] and "\n" not in answer["error"]
        got, answer = srv.call("/score", b'{"leads": [{"lead_id": "x"}], "pad": "' + b"x" * 6000)
        assert got == 413 and "over 5,000 bytes" in answer["error"]
        # An unknown event type scores like a type the model never saw, as in batch.
        unknown = {
            "as_of": f"{AS_OF}T00:00:00Z",
            "leads": [
                {
                    "lead_id": "L0000100",
                    "events": [{"occurred_at": "2025-11-01T00:00:00Z", "event_type": "telepathy"}],
                }
            ],
        }
        got, answer = srv.call("/score", json.dumps(unknown).encode())
        assert got == 200 and answer["scores"][0]["model_version"] == "leadscore/1"
        assert set(answer["scores"][0]) >= {"probability", "score", "tier", "top_reasons"}
        assert srv.call("/health")[0] == 200  # still answering


def test_a_token_is_required_when_set_and_before_binding_other_hosts(served, monkeypatch):
    with _Running(create_app(_service(served), token="s3cret")) as srv:
        assert srv.call("/health")[0] == 401
        ok = srv.call("/health", headers={"Authorization": "Bearer s3cret"})
        assert ok[0] == 200
    with pytest.raises(UsageError, match="token-env"):
        token_for("0.0.0.0", None)
    monkeypatch.setenv("LS_TOKEN", "abc")
    assert token_for("0.0.0.0", "LS_TOKEN") == "abc" and token_for("127.0.0.1", None) is None


class _Receiver(BaseHTTPRequestHandler):
    got: list[dict] = []
    fail_first = 0

    def do_POST(self):  # noqa: N802 - the handler's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if type(self).fail_first > 0:
            type(self).fail_first -= 1
            self.send_response(503)
        else:
            type(self).got.append(body)
            self.send_response(200)
        self.end_headers()

    def log_message(self, *_args):
        pass


def test_a_lead_crossing_into_the_top_tier_is_called_once(served, tmp_path):
    receiver = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    _Receiver.got, _Receiver.fail_first = [], 1  # the first delivery fails and is retried
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    state = tmp_path / "notified.json"
    notifier = Notifier(url, state, recent_days=7, backoff=0.01, log=lambda _l: None)
    service = _service(served, notifier=notifier)
    batch = pd.read_parquet(served["root"] / "scores.parquet")
    top = service.model.settings.tiers.names()[0]
    below = batch[batch["tier"] != top].sort_values("rank")["lead_id"].iloc[0]
    service.previous[below] = "D"
    # Its own best moment: many demo requests lift it into the top tier.
    events = [
        {"occurred_at": f"2025-11-{d:02d}T10:00:00Z", "event_type": t}
        for d in range(1, 15)
        for t in ("demo_request", "pricing_page_view", "form_submit")
    ]
    body = {"as_of": f"{AS_OF}T00:00:00Z", "leads": [{"lead_id": below, "events": events}]}
    now = pd.Timestamp.now(tz="UTC")
    first = service.score(body, now)["scores"][0]
    assert first["tier"] == top, first
    service.score(body, now)  # still in the top tier: no second call
    service.previous[below] = "D"
    service.score(body, now + pd.Timedelta(days=1))  # crossed again within 7 days: no call
    notifier.drain()
    assert len(_Receiver.got) == 1
    call = _Receiver.got[0]
    assert call["lead_id"] == below and call["tier"] == top and call["previous_tier"] == "D"
    assert set(call) == {"lead_id", "as_of", "tier", "previous_tier", "score", "top_reasons"}
    assert below in json.loads(state.read_text())  # kept beside the history: no recall
    assert not Notifier(url, state, 7, log=lambda _l: None).crossed(call, now)
    notifier.close()
    receiver.shutdown()


def test_a_moved_alias_is_followed_without_a_restart(served, monkeypatch):
    import leadscore.serving.app as app_module

    service = Service(model=served["model"], uri="models:/leadscore@champion", name="leadscore")
    service.check_seconds = 0.0
    other = load_registered("models:/leadscore@champion")
    monkeypatch.setattr(app_module.tracking, "version_of", lambda uri, name: "leadscore/2")
    monkeypatch.setattr(app_module, "load_registered", lambda uri: other)
    assert service.current() is other and service.model.version == "leadscore/2"


def test_a_night_newly_kept_moves_where_tiers_start(served, tmp_path):
    import shutil

    history = tmp_path / "history"
    shutil.copytree(served["root"] / "history", history)
    service = Service(
        model=served["model"], uri="models:/leadscore/1", name="leadscore", history=history
    )
    service.check_seconds = 0.0
    before = dict(service.floors)
    night = pd.read_parquet(next(history.glob("as_of=*/*.parquet")))
    later = history / "as_of=2025-12-01" / "leadscore-1.parquet"
    later.parent.mkdir()
    night.assign(tier="A").to_parquet(later)  # every lead in A: A starts at the lowest p
    service.current()
    assert service.floors == {"A": float(night["probability"].min())} != before
    assert set(service.previous.values()) == {"A"}
