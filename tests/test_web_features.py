"""The playground's TF-Playground features through the ASGI app: input features, training until
paused, the 2-D regression set, and the status (`state`) and graph numbering the page relies on."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the playground needs its extra: micrograd[playground]")
import test_web_api as api
from starlette.testclient import TestClient

from micrograd.data import DATASETS, load_dataset
from micrograd.features import FEATURE_NAMES, FEATURES, FeatureName, check, transform
from micrograd.serialization import load, load_metadata
from micrograd.web.messages import DATASET_CHOICES, Setup, choices

FAST = api.FAST
client = api.client  # the ASGI test client, with the tabs it opened closed before it


def receive(ws: Any, kind: str) -> dict[str, Any]:
    """The next message of type `kind`: `test_web_api.receive` with room for the many frames
    a playing session sends."""
    return api.receive(ws, kind, limit=5000)


def open_session(client: TestClient, **setup: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """A connected tab with a setup applied: (socket, hello, ready); the first frame is read."""
    ws, hello, ready = api.open_session(client, **setup)
    receive(ws, "frame")
    return ws, hello, ready


decoded = api.decoded
steps = api._steps  # train n epochs one step at a time; the last frame


# -- the registry -------------------------------------------------------------------------


def test_the_messages_offer_exactly_the_feature_registry() -> None:
    assert get_args(FeatureName) == tuple(FEATURES) == FEATURE_NAMES
    listed = get_args(Setup.model_fields["features"].annotation)
    assert get_args(listed[0]) == (FeatureName,)  # list[FeatureName] | None
    assert Setup().features is None and Setup().epochs == 0


def test_each_feature_computes_what_its_name_says() -> None:
    X = np.array([[0.5, -2.0], [1.5, 3.0]])
    x1, x2 = X[:, 0], X[:, 1]
    expected = [x1, x2, x1**2, x2**2, x1 * x2, np.sin(x1), np.sin(x2)]
    np.testing.assert_allclose(transform(FEATURE_NAMES, X), np.column_stack(expected))
    assert check(["x1", "x1^2", "sin(x1)"], 1) is None
    assert check(["x1", "x1*x2"], 1) == "features: x1*x2 needs a data set with two inputs"


def test_the_2d_regression_set_is_offered_and_registered() -> None:
    assert "regression_2d" in DATASET_CHOICES and "regression_2d" in DATASETS
    assert "regression_2d" in choices("dataset")
    ds = load_dataset("regression_2d", 50, 0.1, 3)
    assert (ds.task, ds.n_features, len(ds)) == ("regression", 2, 50)
    assert np.array_equal(ds.y, load_dataset("regression_2d", 50, 0.1, 3).y)  # seeded
    assert not np.array_equal(ds.y, load_dataset("regression_2d", 50, 0.1, 4).y)


# -- input features -----------------------------------------------------------------------


def test_features_set_the_network_s_inputs_and_the_pictures_still_cover_the_plane(
    client: TestClient,
) -> None:
    names = ["x1", "x2", "x1*x2", "sin(x1)"]
    _, _, raw = open_session(client, dataset="xor", layers=[3])
    ws, _, ready = open_session(client, dataset="xor", layers=[3], features=names, grid=30)
    assert ready["features"] == names and ready["inputs"] == 2
    assert ready["feature_choices"] == list(FEATURE_NAMES)
    assert raw["features"] == ["x1", "x2"] and raw["sizes"][0] == 2
    assert ready["sizes"] == [4, 3, 1]
    assert ready["bounds"] == raw["bounds"]  # the plane stays the raw (x1, x2) one
    assert ready["train"]["x"] == raw["train"]["x"]  # the points too
    frame = steps(ws, 2)
    assert [[len(n["w"]) for n in layer] for layer in frame["weights"]] == [[4] * 3, [3]]
    assert decoded(frame["output"]["values"]).size == 30 * 30
    assert [decoded(n["values"]).size for n in frame["neurons"][0]] == [20 * 20] * 3


def test_squared_features_let_a_linear_model_separate_circles(client: TestClient) -> None:
    """With x1^2 and x2^2 a network without hidden layers learns the circles (a radius), so the
    features reach the training data; its picture has the inner class in the plane's middle and
    the outer one at its corners, so they reach the plane's grid too."""
    ws, _, ready = open_session(
        client,
        dataset="circles",
        noise=0.05,
        layers=[],
        features=["x1^2", "x2^2"],
        optimizer="adam",
        lr=0.1,
        grid=21,
    )
    assert ready["sizes"] == [2, 1]
    frame = steps(ws, 60)
    assert frame["rows"][-1]["accuracy"] > 0.95
    picture = decoded(frame["output"]["values"]).reshape(21, 21).astype(int) - 128
    # classes: 0 outer, 1 inner; the binary picture is (tanh(score) + 1) / 2 of class 1's sign
    middle, corners = picture[10, 10], [picture[0, 0], picture[0, -1], picture[-1, 0]]
    assert middle * corners[0] < 0 and all(c * corners[0] > 0 for c in corners)


@pytest.mark.parametrize("mode", ["batched", "per-sample"])
def test_features_on_a_one_input_set_draw_its_curve(client: TestClient, mode: str) -> None:
    names = ["x1", "x1^2", "sin(x1)"]
    ws, _, ready = open_session(
        client, dataset="regression_1d", features=names, layers=[4], grid=25, mode=mode
    )
    assert ready["inputs"] == 1 and ready["sizes"] == [3, 4, 1]
    frame = steps(ws, 3)
    assert frame["epoch"] == 3
    assert frame["output"]["kind"] == "curve" and len(frame["output"]["values"]) == 25
    assert all(v is not None for v in frame["output"]["values"])


BAD_FEATURES = [
    ({"features": []}, "features: choose at least one input feature"),
    ({"features": ["x1", "x1^2", "x1"]}, "features: each feature may appear once, but x1 appears"),
    ({"features": ["x3"]}, "features.0: must be one of 'x1', 'x2'"),
    ({"features": "x1"}, "features"),
    (
        {"dataset": "regression_1d", "features": ["x1", "x2^2"]},
        "features: x2^2 needs a data set with two inputs",
    ),
    (
        {"dataset": "regression_1d", "features": ["sin(x2)"]},
        "features: sin(x2) needs a data set with two inputs",
    ),
]


@pytest.mark.parametrize(("change", "message"), BAD_FEATURES, ids=lambda c: str(c)[:40])
def test_a_bad_feature_list_is_a_clear_error_and_the_old_setup_stays(
    client: TestClient, change: dict[str, Any], message: str
) -> None:
    ws, _, _ = open_session(client, layers=[3])
    ws.send_json({"type": "setup", "setup": {**FAST, "layers": [3], **change}})
    error = receive(ws, "error")
    assert error["message"].startswith(message), error["message"]
    assert "Traceback" not in error["message"] and "internal" not in error["message"]
    frame = steps(ws, 1)  # the session goes on with its old setup
    assert frame["epoch"] == 1 and len(frame["weights"][0][0]["w"]) == 2


def test_a_csv_set_takes_no_features(client: TestClient) -> None:
    rows = "".join(f"{i / 10},{-i / 10},{i % 2}\n" for i in range(40))
    info = client.post("/api/csv?name=two.csv", content=b"a,b,label\n" + rows.encode()).json()
    ws = client.tabs.enter_context(client.websocket_connect("/ws"))  # type: ignore[attr-defined]
    receive(ws, "hello")
    setup = {**FAST, "dataset": "csv", "csv": info["id"], "features": ["x1", "x1^2"]}
    ws.send_json({"type": "setup", "setup": setup})
    error = receive(ws, "error")
    assert error["message"].startswith("features: a CSV data set trains on its own columns")
    ws.send_json({"type": "setup", "setup": {**setup, "features": None}})
    assert receive(ws, "ready")["features"] == ["x1", "x2"]


def test_a_point_s_graph_reads_its_features_and_says_its_epoch(client: TestClient) -> None:
    names = ["x1^2", "x1*x2", "sin(x2)"]
    ws, _, ready = open_session(client, dataset="moons", layers=[2], features=names)
    steps(ws, 3)
    ws.send_json({"type": "graph", "split": "train", "index": 4})
    graph = receive(ws, "graph")
    assert graph["epoch"] == 3 and graph["features"] == names
    x = ready["train"]["x"][4]
    assert graph["x"] == pytest.approx(x)
    assert graph["inputs"] == pytest.approx(transform(names, np.array([x]))[0].tolist(), rel=1e-4)
    assert graph["svg"].startswith("<svg")
    ws.send_json({"type": "reset"})
    receive(ws, "state")
    ws.send_json({"type": "graph", "split": "test", "index": 0})
    assert receive(ws, "graph")["epoch"] == 0


def test_a_model_with_features_says_so_in_its_file(
    client: TestClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from micrograd.cli import main

    names = ["x1", "x2", "x1*x2"]
    ws, hello, _ = open_session(client, dataset="xor", layers=[4], features=names)
    steps(ws, 5)
    got = client.get(f"/api/sessions/{hello['session']}/model.json")
    assert got.status_code == 200
    path = tmp_path / "model.json"
    path.write_bytes(got.content)
    meta = load_metadata(path)
    assert meta["features"] == names and meta["feature_names"] == names
    assert meta["n_features"] == 3 and meta["raw_inputs"] == ["x1", "x2"]
    assert "input features" in meta["note"]
    assert load(path).nin == 3
    capsys.readouterr()
    assert main(["predict", "--model", str(path), "--input", "0.5,0.2,0.1"]) == 0
    assert "x1*x2" in capsys.readouterr().out  # its inputs are named after the features
    # a plain model's file says nothing about features
    ws, hello, _ = open_session(client, dataset="xor", layers=[4])
    plain = client.get(f"/api/sessions/{hello['session']}/model.json").json()["metadata"]
    assert "features" not in plain and plain["n_features"] == 2


def test_a_model_file_read_while_the_setup_changes_describes_the_model_it_holds(
    tmp_path: Path,
) -> None:
    """Regression: the model file read the setup and data before it took the session's lock
    (held for an epoch while training), so a setup that changed the features meanwhile gave
    the new model with the old setup's metadata (2 inputs named, 3 read)."""
    import threading

    from micrograd.web.session import Session

    class Watched:
        """The session's lock, saying when another thread is waiting for it."""

        def __init__(self, lock: Any) -> None:
            self.lock, self.waiting = lock, threading.Event()

        def __enter__(self) -> None:
            if threading.current_thread() is not threading.main_thread():
                self.waiting.set()
            self.lock.acquire()

        def __exit__(self, *exc: object) -> None:
            self.lock.release()

    session = Session(lambda message: None, lambda name: None)
    session.configure(Setup(dataset="xor", layers=[4], speed=0))
    watched = Watched(session._lock)
    session._lock = watched  # type: ignore[assignment]
    files: list[bytes] = []
    with watched:  # as an epoch holds it
        reader = threading.Thread(target=lambda: files.append(session.model_file()))
        reader.start()
        assert watched.waiting.wait(30)
        session.configure(Setup(dataset="xor", layers=[4], speed=0, features=["x1", "x2", "x1*x2"]))
    reader.join(30)
    path = tmp_path / "model.json"
    path.write_bytes(files[0])
    assert load_metadata(path)["n_features"] == load(path).nin == 3


# -- training until paused, the 2-D regression set ----------------------------------------


def test_epochs_0_trains_past_1000_epochs_until_paused(client: TestClient) -> None:
    ws, _, ready = open_session(client, samples=10, test=0.0, layers=[1], epochs=0)
    assert ready["setup"]["epochs"] == 0
    ws.send_json({"type": "play"})
    state = receive(ws, "state")
    assert (state["playing"], state["status"], state["reason"]) == (True, "training", "")
    epoch = 0
    while epoch <= 1100:
        epoch = receive(ws, "frame")["epoch"]
    ws.send_json({"type": "pause"})
    state = receive(ws, "state")
    assert state["playing"] is False and state["status"] == "paused"
    assert state["epoch"] > 1100 and state["diverged_epoch"] is None


def test_a_finite_epoch_count_finishes_and_raising_it_reopens_the_run(client: TestClient) -> None:
    ws, _, _ = open_session(client, epochs=4)
    ws.send_json({"type": "play"})
    assert receive(ws, "state")["status"] == "training"
    state = receive(ws, "state")
    assert (state["status"], state["epoch"], state["playing"]) == ("finished", 4, False)
    assert "reached epoch 4" in state["reason"]
    ws.send_json({"type": "setup", "setup": {**FAST, "epochs": 0}})
    ready = receive(ws, "ready")
    assert ready["epoch"] == 4 and not ready["fresh"]
    state = receive(ws, "state")
    assert (state["status"], state["epoch"]) == ("paused", 4)


def test_the_2d_regression_set_trains_and_is_drawn_as_a_heat_map(client: TestClient) -> None:
    ws, _, ready = open_session(
        client, dataset="regression_2d", layers=[8, 8], optimizer="adam", lr=0.02, grid=20
    )
    assert ready["task"] == "regression" and ready["loss"] == "mse"
    assert ready["inputs"] == 2 and ready["sizes"] == [2, 8, 8, 1]
    lo, hi = ready["target_range"]
    assert -1.5 < lo < -0.5 and 0.5 < hi < 1.5
    first = steps(ws, 1)["rows"][0]["test_loss"]
    frame = steps(ws, 150)
    assert frame["rows"][-1]["test_loss"] < first / 2
    out = frame["output"]
    assert out["kind"] == "regression" and out["range"] == [lo, hi]
    assert decoded(out["values"]).size == 20 * 20


# -- status -------------------------------------------------------------------------------


def test_reset_sends_state_epoch_0_idle(client: TestClient) -> None:
    ws, _, ready = open_session(client, epochs=3)
    assert (ready["status"], ready["epoch"], ready["diverged_epoch"]) == ("idle", 0, None)
    steps(ws, 3)
    ws.send_json({"type": "step"})  # past the last epoch: finished, with a reason
    state = receive(ws, "state")
    while "last one" not in state["reason"]:
        state = receive(ws, "state")
    assert (state["status"], state["epoch"]) == ("finished", 3)
    ws.send_json({"type": "reset"})
    assert receive(ws, "ready")["epoch"] == 0
    assert receive(ws, "frame")["epoch"] == 0
    state = receive(ws, "state")
    assert state == {
        "type": "state",
        "playing": False,
        "epoch": 0,
        "status": "idle",
        "reason": "",
        "diverged_epoch": None,
    }


def test_a_step_reports_paused_at_its_epoch(client: TestClient) -> None:
    ws, _, _ = open_session(client)
    ws.send_json({"type": "step"})
    assert receive(ws, "frame")["epoch"] == 1
    state = receive(ws, "state")
    assert (state["status"], state["epoch"], state["playing"]) == ("paused", 1, False)


def test_a_divergence_reports_the_epoch_it_happened_at(client: TestClient) -> None:
    calm = {"dataset": "regression_1d", "activation": "linear", "layers": [16, 16, 16]}
    ws, _, _ = open_session(client, **calm, lr=0.001)
    steps(ws, 5)
    # a learning rate change keeps the weights and the epoch: the run diverges past epoch 5
    ws.send_json({"type": "setup", "setup": {**FAST, **calm, "lr": 10}})
    receive(ws, "ready")
    ws.send_json({"type": "play"})
    error = receive(ws, "error")
    state = receive(ws, "state")
    while state["playing"]:
        state = receive(ws, "state")
    diverged = state["diverged_epoch"]
    assert state["status"] == "diverged" and diverged is not None and diverged > 5
    assert f"diverged at epoch {diverged}:" in error["message"]
    assert state["epoch"] == diverged - 1  # the weights kept are the last good epoch's
    assert f"diverged at epoch {diverged}" in state["reason"]
    ws.send_json({"type": "reset"})
    state = receive(ws, "state")
    assert (state["status"], state["epoch"], state["diverged_epoch"]) == ("idle", 0, None)


def test_the_graph_counts_from_1_and_names_its_inputs_after_the_features(
    client: TestClient,
) -> None:
    ws, _, _ = open_session(client, dataset="moons", layers=[3], features=["x1^2", "sin(x2)"])
    ws.send_json({"type": "graph", "split": "train", "index": 0})
    svg = receive(ws, "graph")["svg"]
    assert "L1.N3.w2" in svg and "L2.N1.b" in svg and "L0." not in svg
    assert "x1^2" in svg and "sin(x2)" in svg


def test_micrograd_train_takes_the_2d_regression_set(tmp_path: Path) -> None:
    from micrograd import cli

    argv = ["train", "--dataset", "regression_2d", "--samples", "60", "--epochs", "5"]
    assert cli.main([*argv, "--out", str(tmp_path), "--quiet"]) == 0
    meta = load_metadata(tmp_path / "model.json")
    assert (meta["dataset"], meta["task"], meta["n_features"]) == ("regression_2d", "regression", 2)
