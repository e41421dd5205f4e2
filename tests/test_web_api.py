"""The playground's server through Starlette's ASGI test client: routes, messages, sessions."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the playground needs its extra: micrograd[playground]")
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from micrograd.batched import BatchedMLP
from micrograd.data import load_dataset, make_moons, save_csv
from micrograd.losses import LOSSES
from micrograd.nn import ACTIVATIONS, MLP
from micrograd.optim import OPTIMIZERS, SCHEDULES
from micrograd.serialization import load, load_metadata
from micrograd.train import predict
from micrograd.web.app import STATIC, Hosts, Outbox, create_app
from micrograd.web.messages import DATASET_CHOICES, MAX_MESSAGE_BYTES, choices

FAST = {"speed": 0, "samples": 100}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app()) as c, contextlib.ExitStack() as tabs:
        c.tabs = tabs  # type: ignore[attr-defined]  # sockets closed before the client
        yield c


def receive(ws: Any, kind: str, limit: int = 200) -> dict[str, Any]:
    """The next message of type `kind`, skipping others (frames keep coming while playing)."""
    for _ in range(limit):
        msg: dict[str, Any] = ws.receive_json()
        if msg["type"] == kind:
            return msg
        if msg["type"] == "error" and kind != "error":
            raise AssertionError(f"expected {kind}, got the error {msg['message']!r}")
    raise AssertionError(f"no {kind} message in {limit} messages")


def open_session(client: TestClient, **setup: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """A connected tab with a setup applied: (socket, hello, ready)."""
    ws = client.tabs.enter_context(client.websocket_connect("/ws"))  # type: ignore[attr-defined]
    hello = receive(ws, "hello")
    ws.send_json({"type": "setup", "setup": {**FAST, **setup}})
    ready = receive(ws, "ready")
    return ws, hello, ready


def decoded(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), dtype=np.uint8)


# -- routes -------------------------------------------------------------------------------


def test_page_script_and_style_are_served_from_the_package(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "micrograd playground" in page.text
    for name in ("app.js", "style.css"):
        got = client.get(f"/static/{name}")
        assert got.status_code == 200
        assert got.text == (STATIC / name).read_text(encoding="utf-8")


def test_the_page_loads_nothing_from_the_network() -> None:
    for path in STATIC.iterdir():
        text = path.read_text(encoding="utf-8")
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", ""), path.name
        assert "https://" not in text, path.name
        assert "//cdn" not in text, path.name


def test_options_offer_exactly_the_library_registries(client: TestClient) -> None:
    opts = client.get("/api/options").json()
    assert opts["choices"]["dataset"] == [*DATASET_CHOICES, "csv"]
    for name in DATASET_CHOICES:  # every one drawn on the input plane, from the registry
        assert load_dataset(name, 20, 0.1, 0).n_features in (1, 2)
    assert set(opts["choices"]["activation"]) == set(ACTIVATIONS)
    assert set(opts["choices"]["loss"]) == set(LOSSES) | {"auto"}
    assert set(opts["choices"]["schedule"]) == set(SCHEDULES)
    assert set(choices("optimizer")) == set(OPTIMIZERS) | {"momentum"}
    assert opts["limits"]["samples_max"] == 2000
    assert opts["limits"]["layers_max"] == 6
    assert opts["limits"]["neurons_max"] == 16


# -- messages -----------------------------------------------------------------------------


def test_setup_answers_with_the_data_the_network_and_a_first_frame(client: TestClient) -> None:
    ws, hello, ready = open_session(client, layers=[4, 3], grid=30, test=0.2)
    assert hello["session"] == ready["session"]
    assert ready["task"] == "binary" and ready["loss"] == "hinge" and ready["fresh"]
    assert ready["sizes"] == [2, 4, 3, 1]
    assert len(ready["train"]["x"]) == 80 and len(ready["test"]["x"]) == 20
    frame = receive(ws, "frame")
    assert frame["epoch"] == 0 and frame["rows"] == []
    assert decoded(frame["output"]["values"]).size == 30 * 30
    assert [len(layer) for layer in frame["neurons"]] == [4, 3]
    assert decoded(frame["neurons"][0][0]["values"]).size == 20 * 20
    assert [[len(n["w"]) for n in layer] for layer in frame["weights"]] == [[2] * 4, [4] * 3, [3]]


def test_play_streams_frames_until_pause_and_the_loss_falls(client: TestClient) -> None:
    ws, _, _ = open_session(client, layers=[8, 8], activation="tanh")
    receive(ws, "frame")
    ws.send_json({"type": "play"})
    assert receive(ws, "state")["playing"] is True
    rows: list[dict[str, Any]] = []
    while len(rows) < 60:
        rows += receive(ws, "frame")["rows"]
    ws.send_json({"type": "pause"})
    state = receive(ws, "state")
    assert state["playing"] is False
    epochs = [r["epoch"] for r in rows]
    assert epochs == list(range(1, len(rows) + 1))  # every epoch reported once, in order
    assert rows[-1]["loss"] < rows[0]["loss"]
    assert {"loss", "accuracy", "test_loss", "test_accuracy", "lr"} <= set(rows[0])


def test_step_trains_exactly_one_epoch_and_reset_starts_over(client: TestClient) -> None:
    ws, _, _ = open_session(client)
    first = receive(ws, "frame")
    ws.send_json({"type": "step"})
    stepped = receive(ws, "frame")
    assert stepped["epoch"] == 1 and [r["epoch"] for r in stepped["rows"]] == [1]
    assert stepped["weights"] != first["weights"]
    ws.send_json({"type": "reset"})
    ready = receive(ws, "ready")
    again = receive(ws, "frame")
    assert ready["fresh"] and again["epoch"] == 0
    assert again["weights"] == first["weights"]  # the same seed gives the same initial weights


def test_same_setup_same_run(client: TestClient) -> None:
    """Two sessions with one setup train to the same weights (batches shuffled by the seed)."""
    weights = []
    for _ in range(2):
        ws, _, _ = open_session(client, batch_size=16, optimizer="adam", lr=0.01, seed=3)
        for _ in range(3):
            ws.send_json({"type": "step"})
        frame: dict[str, Any] = {}
        while frame.get("epoch") != 3:
            frame = receive(ws, "frame")
        weights.append(frame["weights"])
        ws.close()
    assert weights[0] == weights[1]


def test_learning_rate_change_keeps_the_weights_and_the_epoch(client: TestClient) -> None:
    ws, _, _ = open_session(client)
    ws.send_json({"type": "step"})
    frame: dict[str, Any] = {}
    while frame.get("epoch") != 1:
        frame = receive(ws, "frame")
    ws.send_json({"type": "setup", "setup": {**FAST, "lr": 0.5, "grid": 20}})
    ready = receive(ws, "ready")
    after = receive(ws, "frame")
    assert not ready["fresh"] and after["epoch"] == 1 and after["weights"] == frame["weights"]
    assert decoded(after["output"]["values"]).size == 20 * 20
    ws.send_json({"type": "step"})
    assert receive(ws, "frame")["rows"][0]["lr"] == 0.5


def test_a_point_s_graph_shows_its_loss_with_data_and_grad(client: TestClient) -> None:
    ws, _, ready = open_session(client, layers=[3])
    ws.send_json({"type": "step"})
    ws.send_json({"type": "graph", "split": "test", "index": 2})
    graph = receive(ws, "graph")
    assert graph["split"] == "test" and graph["index"] == 2
    assert graph["x"] == ready["test"]["x"][2]
    assert graph["loss_name"] == "hinge" and graph["loss_target"] in (-1.0, 1.0)
    svg = graph["svg"]
    assert svg.startswith("<svg") and "loss (hinge)" in svg
    assert "L1.N3.w2" in svg and "data " in svg and "grad " in svg


def test_multiclass_and_regression_frames(client: TestClient) -> None:
    ws, _, ready = open_session(client, dataset="blobs", layers=[5])
    assert ready["task"] == "multiclass" and ready["sizes"][-1] == 3
    frame = receive(ws, "frame")
    assert frame["output"]["kind"] == "multiclass"
    assert set(decoded(frame["output"]["classes"]).tolist()) <= {0, 1, 2}
    ws, _, ready = open_session(client, dataset="regression_1d", grid=40)
    assert ready["task"] == "regression" and ready["features"] == ["x1"]
    assert ready["inputs"] == 1 and ready["loss"] == "mse"
    frame = receive(ws, "frame")
    assert frame["output"]["kind"] == "curve" and len(frame["output"]["values"]) == 40


def _steps(ws: Any, n: int) -> dict[str, Any]:
    """Train `n` more epochs; return the last frame."""
    for _ in range(n):
        ws.send_json({"type": "step"})
    frame = receive(ws, "frame")
    for _ in range(n - 1):
        frame = receive(ws, "frame")
    return frame


def _model_of(client: TestClient, hello: dict[str, Any]) -> Any:
    return client.app.state.sessions[hello["session"]]._model  # type: ignore[attr-defined]


def _weights_of(client: TestClient, hello: dict[str, Any]) -> list[list[float]]:
    """Every neuron's weights and bias at full precision, from the tab's model file."""
    got = client.get(f"/api/sessions/{hello['session']}/model.json").json()
    return [[*n["w"], n["b"]] for layer in got["layers"] for n in layer]


def test_the_mode_picks_the_model_s_form_and_both_train_alike(client: TestClient) -> None:
    """Batched mode trains a BatchedMLP, per-sample an MLP: from one seed, to the same
    weights to rounding (sums in another order round differently)."""
    runs = {}
    for mode in ("batched", "per-sample"):
        ws, hello, ready = open_session(client, mode=mode, layers=[4, 3], seed=5)
        assert type(_model_of(client, hello)) is (BatchedMLP if mode == "batched" else MLP)
        assert ready["sizes"] == [2, 4, 3, 1]
        first = receive(ws, "frame")
        frame = _steps(ws, 3)
        assert frame["epoch"] == 3 and frame["weights"] != first["weights"]
        runs[mode] = (first, frame, _weights_of(client, hello))
    (first_b, frame_b, w_b), (first_p, frame_p, w_p) = runs["batched"], runs["per-sample"]
    assert first_b["weights"] == first_p["weights"]  # the same initial weights
    for a, b in zip(w_b, w_p, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    # The pictures are drawn from the same weights: equal but for a rounding-sized difference.
    same = decoded(frame_b["output"]["values"]).astype(int)
    assert np.abs(same - decoded(frame_p["output"]["values"]).astype(int)).max() <= 1
    assert frame_b["rows"][0]["loss"] == pytest.approx(frame_p["rows"][0]["loss"], rel=1e-9)


def test_switching_the_mode_converts_the_model_and_training_goes_on(
    client: TestClient,
) -> None:
    ws, hello, _ = open_session(client, layers=[3], mode="batched")
    receive(ws, "frame")
    before = _steps(ws, 2)
    weights = _weights_of(client, hello)
    for mode, form in (("per-sample", MLP), ("batched", BatchedMLP)):
        ws.send_json({"type": "setup", "setup": {**FAST, "layers": [3], "mode": mode}})
        ready = receive(ws, "ready")
        after = receive(ws, "frame")
        assert not ready["fresh"] and ready["setup"]["mode"] == mode
        assert type(_model_of(client, hello)) is form
        assert after["epoch"] == 2 and after["weights"] == before["weights"]
        assert _weights_of(client, hello) == weights  # converted weight for weight
        ws.send_json({"type": "graph", "index": 0})  # a point's graph in either form
        assert "L1.N3.w2" in receive(ws, "graph")["svg"]
    assert _steps(ws, 1)["epoch"] == 3


OPTIONS = [
    *({"optimizer": name} for name in ("sgd", "momentum", "adam", "adamw")),
    *(
        {"schedule": name, "epochs": 3}
        for name in ("constant", "linear", "step", "exponential", "cosine")
    ),
    {"regularization": "l1", "reg_rate": 0.01},
    {"regularization": "l2", "reg_rate": 0.01},
    {"mode": "per-sample", "batch_size": 16},
    {"batch_size": 7},
    *({"activation": name} for name in ("relu", "tanh", "sigmoid", "linear")),
    {"loss": "bce"},
    {"loss": "mse"},
    {"dataset": "yinyang", "loss": "cross_entropy"},
    {"dataset": "regression_1d", "loss": "auto"},
    {"layers": []},
    {"layers": [16] * 6, "samples": 2000},
]


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: "-".join(map(str, o.values()))[:40])
def test_every_training_option_trains(client: TestClient, option: dict[str, Any]) -> None:
    ws, _, ready = open_session(client, **option)
    receive(ws, "frame")
    for _ in range(2):
        ws.send_json({"type": "step"})
    first, second = receive(ws, "frame"), receive(ws, "frame")
    assert (first["epoch"], second["epoch"]) == (1, 2)
    assert second["weights"] != first["weights"]
    assert ready["sizes"] == [
        len(ready["features"]),
        *option.get("layers", [8, 8]),
        3 if ready["task"] == "multiclass" else 1,
    ]
    if option.get("schedule") in ("linear", "cosine"):
        assert second["rows"][0]["lr"] < first["rows"][0]["lr"]


BAD_MESSAGES = [
    ({"type": "setup", "setup": {"samples": 5000}}, "samples: must be at most 2000 (got 5000)"),
    ({"type": "setup", "setup": {"samples": 3}}, "samples: must be at least 10"),
    ({"type": "setup", "setup": {"layers": [2] * 7}}, "at most 6 hidden layers"),
    ({"type": "setup", "setup": {"layers": [4, 17]}}, "hidden layer 2: a layer has 1 to 16"),
    ({"type": "setup", "setup": {"layers": [0]}}, "hidden layer 1: a layer has 1 to 16"),
    ({"type": "setup", "setup": {"grid": 5}}, "grid: must be at least 10"),
    ({"type": "setup", "setup": {"grid": 500}}, "grid: must be at most 100"),
    ({"type": "setup", "setup": {"activation": "gelu"}}, "activation: must be one of"),
    ({"type": "setup", "setup": {"lr": 0}}, "lr: must be more than 0"),
    ({"type": "setup", "setup": {"noise": -1}}, "noise: must be at least 0"),
    ({"type": "setup", "setup": {"test": 0.9}}, "test: must be at most 0.5"),
    ({"type": "setup", "setup": {"seed": 1.5}}, "seed: must be a whole number"),
    ({"type": "setup", "setup": {"color": "red"}}, "color: is not a setting"),
    (
        {"type": "setup", "setup": {"dataset": "yinyang", "loss": "hinge"}},
        "loss: hinge does not fit yinyang, a multiclass task; choose cross_entropy",
    ),
    ({"type": "setup", "setup": {"dataset": "csv"}}, "csv needs an uploaded file"),
    ({"type": "setup", "setup": {"dataset": "csv", "csv": "0123abcd"}}, "upload the file again"),
    ({"type": "setup", "setup": {"dataset": "mnist"}}, "dataset: must be one of"),
    ({"type": "fly"}, "unknown message type"),
    ({"type": "graph"}, "index: is missing"),
    ({"type": "graph", "index": 5000}, "index: must be less than 2000"),
    ({"type": "graph", "index": 1999}, "the train set has 80 points, no point 1999"),
    ({"kind": "play"}, "a message must be a JSON object with a 'type'"),
]


@pytest.mark.parametrize(
    ("message", "expected"), BAD_MESSAGES, ids=[e.split(":")[0][:30] for _, e in BAD_MESSAGES]
)
def test_every_invalid_message_gets_a_clear_message_and_the_session_goes_on(
    client: TestClient, message: dict[str, Any], expected: str
) -> None:
    ws, _, _ = open_session(client)
    ws.send_json(message)
    error = receive(ws, "error")
    assert expected in error["message"]
    ws.send_json({"type": "step"})  # the session keeps its last good setup
    assert receive(ws, "frame")["epoch"] == 1


def test_messages_that_are_not_json_or_come_before_a_setup(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        receive(ws, "hello")
        ws.send_text("{not json")
        assert "not JSON" in receive(ws, "error")["message"]
        ws.send_bytes(b"\x00\x01")
        assert "JSON text" in receive(ws, "error")["message"]
        for kind in ("play", "pause", "step", "reset"):
            ws.send_json({"type": kind})
            assert "send a setup first" in receive(ws, "error")["message"]
        ws.send_json({"type": "graph", "index": 0})
        error = receive(ws, "error")
        assert error["request"] == "graph" and "send a setup first" in error["message"]


def test_divergence_is_reported_with_a_hint_and_training_stops(client: TestClient) -> None:
    ws, _, _ = open_session(
        client, dataset="regression_1d", activation="linear", lr=10, layers=[16, 16, 16]
    )
    ws.send_json({"type": "play"})
    error = receive(ws, "error")
    assert "diverged" in error["message"] and "smaller learning rate" in error["message"]
    assert error["field"] == "lr"
    assert receive(ws, "state")["playing"] is False


def test_the_last_epoch_stops_play_with_a_reason(client: TestClient) -> None:
    ws, _, _ = open_session(client, epochs=5)
    ws.send_json({"type": "play"})
    receive(ws, "state")
    state = receive(ws, "state")
    assert state["epoch"] == 5 and "reached epoch 5" in state["reason"]
    ws.send_json({"type": "step"})
    assert "raise epochs or reset" in receive(ws, "state")["reason"]


# -- sessions -----------------------------------------------------------------------------


def test_two_tabs_never_see_each_other_s_model(client: TestClient) -> None:
    a, hello_a, _ = open_session(client, seed=1)
    b, hello_b, _ = open_session(client, seed=2, dataset="circles", layers=[3])
    assert hello_a["session"] != hello_b["session"]
    first_b = receive(b, "frame")
    for _ in range(3):
        a.send_json({"type": "step"})
    frame_a: dict[str, Any] = {}
    while frame_a.get("epoch") != 3:
        frame_a = receive(a, "frame")
    b.send_json({"type": "graph", "index": 0})
    receive(b, "graph")
    b.send_json({"type": "step"})
    assert receive(b, "frame")["epoch"] == 1  # b's epochs are its own
    model_a = client.get(f"/api/sessions/{hello_a['session']}/model.json").json()
    model_b = client.get(f"/api/sessions/{hello_b['session']}/model.json").json()
    assert model_a["architecture"]["nouts"] == [8, 8, 1]
    assert model_b["architecture"]["nouts"] == [3, 1]
    assert model_a["metadata"]["epochs_trained"] == 3
    assert model_b["metadata"]["dataset"] == "circles"
    assert first_b["weights"][0][0]["w"] != frame_a["weights"][0][0]["w"]
    b.close()


def _workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("playground-")]


def test_closing_a_tab_frees_its_session_and_stops_its_training() -> None:
    app = create_app()
    with TestClient(app) as client, client.websocket_connect("/ws") as ws:
        hello = receive(ws, "hello")
        ws.send_json({"type": "setup", "setup": {**FAST, "epochs": 100_000}})
        ws.send_json({"type": "play"})
        assert receive(ws, "state")["playing"]
        receive(ws, "frame")
        assert hello["session"] in app.state.sessions and _workers()
        ws.close()
        deadline = time.monotonic() + 10
        while (app.state.sessions or _workers()) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert app.state.sessions == {}
        assert _workers() == []
        gone = client.get(f"/api/sessions/{hello['session']}/model.json")
        assert gone.status_code == 404 and "no such session" in gone.json()["error"]


def test_the_number_of_tabs_is_bounded() -> None:
    with TestClient(create_app(max_sessions=1)) as client:
        with client.websocket_connect("/ws") as first:
            receive(first, "hello")
            with client.websocket_connect("/ws") as second:
                error = second.receive_json()
                assert error["type"] == "error" and error["fatal"]
                assert "already has 1 tabs open" in error["message"]
        with client.websocket_connect("/ws") as third:  # the first one's slot is free again
            assert receive(third, "hello")["session"]


def test_frames_a_slow_page_has_not_read_merge_without_losing_rows() -> None:
    import asyncio

    loop = asyncio.new_event_loop()
    try:
        box = Outbox(loop)
        box.put({"type": "state", "playing": True})
        box.put({"type": "frame", "epoch": 1, "rows": [{"epoch": 1}]})
        box.put({"type": "frame", "epoch": 2, "rows": [{"epoch": 2}]})
        box.put({"type": "graph", "svg": ""})
        box.put({"type": "frame", "epoch": 3, "rows": [{"epoch": 3}]})
        sent: list[dict[str, Any]] = []

        class Socket:
            async def send_text(self, text: str) -> None:
                sent.append(json.loads(text))
                if len(sent) == 3:
                    raise asyncio.CancelledError

        with pytest.raises(asyncio.CancelledError):
            loop.run_until_complete(box.pump(Socket()))  # type: ignore[arg-type]
    finally:
        loop.close()
    assert [m["type"] for m in sent] == ["state", "frame", "graph"]
    assert sent[1]["epoch"] == 2 and sent[1]["rows"] == [{"epoch": 1}, {"epoch": 2}]


# -- files in and out ---------------------------------------------------------------------


def test_a_csv_upload_trains_like_a_built_in_set(client: TestClient, tmp_path: Path) -> None:
    path = tmp_path / "halfmoons.csv"
    save_csv(make_moons(60, 0.1, seed=4), path)
    answer = client.post("/api/csv?name=halfmoons.csv", content=path.read_bytes())
    assert answer.status_code == 200
    info = answer.json()
    assert (info["rows"], info["features"], info["task"]) == (60, 2, "binary")
    ws, _, ready = open_session(client, dataset="csv", csv=info["id"], test=0.0)
    assert ready["dataset"] == "halfmoons" and len(ready["train"]["x"]) == 60
    receive(ws, "frame")
    ws.send_json({"type": "step"})
    assert receive(ws, "frame")["epoch"] == 1


def test_a_one_feature_regression_csv_is_drawn_as_a_curve(
    client: TestClient, tmp_path: Path
) -> None:
    rows = "".join(f"{x / 10},{(x / 10) ** 2}\n" for x in range(-20, 21))
    info = client.post("/api/csv?name=square.csv", content=b"x,y\n" + rows.encode()).json()
    assert (info["features"], info["task"]) == (1, "regression")
    ws, _, ready = open_session(client, dataset="csv", csv=info["id"], grid=25)
    assert ready["inputs"] == 1 and ready["loss"] == "mse"
    frame = receive(ws, "frame")
    assert frame["output"]["kind"] == "curve" and len(frame["output"]["values"]) == 25


BAD_CSVS = [
    (b"x1,x2,y\n1,2,0\n1,abc,1\n", "bad.csv: line 3, column 2 ('x2'): 'abc' is not a number"),
    (b"x1,x2,y\n1,2,0\n1,2\n", "bad.csv: line 3 has 2 columns, expected 3"),
    (b"", "bad.csv: the file is empty"),
    (b"a,b,c,y\n" + b"1,2,3,0\n1,2,3,1\n", "3 feature columns; the playground draws the input"),
    (b"x,y\n1,0\n2,1\n3,0\n", "one feature column with class labels"),
    (b"x1,x2,y\n" + b"0.5,0.5,1.5\n" * 2001, "2,001 rows; the playground trains on at most 2,000"),
]


@pytest.mark.parametrize(
    ("content", "expected"),
    BAD_CSVS,
    ids=["cell", "width", "empty", "3-features", "1-d-classes", "rows"],
)
def test_a_bad_csv_upload_gets_its_message(
    client: TestClient, content: bytes, expected: str
) -> None:
    answer = client.post("/api/csv?name=bad.csv", content=content)
    assert answer.status_code == 400
    assert expected in answer.json()["error"]
    assert "micrograd-upload" not in answer.json()["error"]  # names the user's file only


def test_an_oversized_upload_is_refused_before_it_is_read(client: TestClient) -> None:
    answer = client.post("/api/csv?name=big.csv", content=b"1,2,0\n" * 200_000)
    assert answer.status_code == 413
    assert "larger than 1,000,000 bytes" in answer.json()["error"]


def test_the_downloaded_model_is_what_micrograd_predict_loads(
    client: TestClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from micrograd.cli import main

    ws, hello, ready = open_session(client, layers=[6])
    for _ in range(20):
        ws.send_json({"type": "step"})
    frame: dict[str, Any] = {}
    while frame.get("epoch") != 20:
        frame = receive(ws, "frame")
    got = client.get(f"/api/sessions/{hello['session']}/model.json")
    assert got.status_code == 200
    assert got.headers["content-disposition"] == 'attachment; filename="model.json"'
    path = tmp_path / "model.json"
    path.write_bytes(got.content)
    model = load(path)
    meta = load_metadata(path)
    assert meta["task"] == "binary" and meta["playground"]["layers"] == [6]
    saved = [n.b.data for layer in model.layers for n in layer.neurons]
    shown = [n["b"] for layer in frame["weights"] for n in layer]
    assert saved == pytest.approx(shown, abs=1e-3)
    X = np.array(ready["test"]["x"])
    accuracy = float((predict(model, X, "binary") == np.array(ready["test"]["y"])).mean())
    assert accuracy > 0.7
    capsys.readouterr()
    assert main(["predict", "--model", str(path), "--input", "0.5,0.2"]) == 0
    assert "0.5" in capsys.readouterr().out


# -- security: same origin only, sizes, nesting, sessions per client ----------------------

CSV = b"x1,x2,label\n" + b"".join(f"{i / 10},{i % 3},{i % 2}\n".encode() for i in range(20))


@pytest.mark.parametrize(
    ("netloc", "allowed"),
    [
        ("127.0.0.1:8765", True),
        ("localhost:8765", True),
        ("LocalHost:8765", True),
        ("[::1]:8765", True),
        ("127.0.0.1:8766", False),  # another port: another origin
        ("127.0.0.1", False),  # port 80
        ("evil.example:8765", False),  # DNS rebinding: a name of the attacker's
        ("127.0.0.2:8765", False),  # not the bound address
        ("192.168.1.5:8765", False),
        ("user@127.0.0.1:8765", False),
        ("127.0.0.1:http", False),
        ("[::1:8765", False),
        ("", False),
    ],
)
def test_the_server_answers_only_to_its_own_address(netloc: str, allowed: bool) -> None:
    assert Hosts.bound("127.0.0.1", 8765, "127.0.0.1").allows(netloc) is allowed


def test_every_interface_admits_ip_addresses_but_no_foreign_name() -> None:
    hosts = Hosts.bound("0.0.0.0", 8765, "0.0.0.0")
    assert hosts.allows("192.168.1.5:8765") and hosts.allows("[fe80::1]:8765")
    assert hosts.allows("127.0.0.1:8765") and hosts.allows("localhost:8765")
    assert not hosts.allows("evil.example:8765") and not hosts.allows("192.168.1.5:80")
    named = Hosts.bound("myhost.lan", 9000, "10.1.2.3")
    assert named.allows("myhost.lan:9000") and named.allows("10.1.2.3:9000")
    assert not named.allows("10.1.2.4:9000")


@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:9999",  # another local server's page
        "http://evil.example",
        "https://testserver",  # another scheme is another origin
        "null",  # a sandboxed frame or a file:// page
        "http://testserver/path",
    ],
)
def test_a_foreign_origin_is_refused_on_the_websocket_and_the_upload(
    client: TestClient, origin: str
) -> None:
    with (
        client.websocket_connect("/ws", headers={"origin": origin}) as ws,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        ws.receive_json()
    assert closed.value.code == 1008
    assert "refused: a WebSocket from the page at" in closed.value.reason
    assert client.app.state.sessions == {}  # type: ignore[attr-defined]
    answer = client.post("/api/csv?name=a.csv", content=CSV, headers={"origin": origin})
    assert answer.status_code == 403
    assert "not the playground's own" in answer.json()["error"]
    assert client.app.state.uploads.get(hashlib.sha256(CSV).hexdigest()[:16]) is None  # type: ignore[attr-defined]


def test_the_page_s_own_origin_and_no_origin_are_served(client: TestClient) -> None:
    assert client.get("/").status_code == 200  # a navigation sends no Origin
    same = {"origin": "http://testserver"}
    assert client.post("/api/csv?name=a.csv", content=CSV, headers=same).status_code == 200
    with client.websocket_connect("/ws", headers=same) as ws:
        assert receive(ws, "hello")["session"]


def test_a_wrong_host_is_refused_everywhere() -> None:
    """A page on evil.example resolved to 127.0.0.1 (DNS rebinding) sends its own Host."""
    with TestClient(create_app(), base_url="http://evil.example:8765") as evil:
        for path in ("/", "/api/options", "/static/app.js", "/api/sessions/x/model.json"):
            answer = evil.get(path)
            assert answer.status_code == 403, path
            assert "is not this server's address" in answer.json()["error"]
        assert evil.post("/api/csv", content=CSV).status_code == 403
        with (
            evil.websocket_connect("ws://evil.example:8765/ws") as ws,
            pytest.raises(WebSocketDisconnect) as closed,
        ):
            ws.receive_json()
        assert closed.value.code == 1008 and "Host" in closed.value.reason


def test_an_oversize_message_is_refused_before_it_is_parsed(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        receive(ws, "hello")
        ws.send_text("x" * (MAX_MESSAGE_BYTES + 1))  # not JSON either: the size is told first
        error = receive(ws, "error")
        assert error["message"] == (
            "the message has 65,537 bytes; the playground takes messages of at most 65,536 bytes"
        )
        ws.send_json({"type": "setup", "setup": FAST})  # the session goes on
        assert receive(ws, "ready")["dataset"] == "moons"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{"type": "graph", "index": ' + "9" * 5000 + "}",
            "a number in the message has too many digits (at most 4,300)",
        ),
        ("[" * 100_000 + "]" * 100_000, "the message has 200,000 bytes"),  # refused unparsed
        ('{"type": "setup", "setup": ' + "[" * 30_000 + "]" * 30_000 + "}", "nests too deep"),
        ('{"type": "setup", "setup": {"layers": ' + "[" * 40 + "]" * 40 + "}}", "nests too deep"),
        ('{"type": "setup", "setup": {"lr": ' + "9" * 4000 + "}}", "lr: "),
        ('{"type": "setup", "setup": {"seed": 1e308}}', "seed: "),
        ('{"type": "setup", "setup": {"epochs": -1e400}}', "epochs: must be a finite number"),
        ('{"type": "setup", "setup": {"csv": "\\ud800"}}', "csv: "),
        ('{"type": {"a": 1}}', "unknown message type"),
        ('{"type": ["setup"]}', "unknown message type"),
        ('{"type": "graph", "index": 1.5}', "index: must be a whole number"),
    ],
    ids=[
        "5000-digit-int",
        "100k-deep-array",
        "30k-deep-setup",
        "40-deep-layers",
        "4000-digit-lr",
        "1e308-seed",
        "-1e400-epochs",
        "lone-surrogate",
        "object-type",
        "list-type",
        "fraction-index",
    ],
)
def test_numbers_and_nesting_beyond_limits_are_validation_errors(
    client: TestClient, text: str, expected: str
) -> None:
    with client.websocket_connect("/ws") as ws:
        receive(ws, "hello")
        ws.send_text(text)
        error = receive(ws, "error")
        assert expected in error["message"]
        assert "internal error" not in error["message"]
        ws.send_json({"type": "setup", "setup": FAST})
        assert receive(ws, "ready")["dataset"] == "moons"


def test_one_client_cannot_take_every_session_and_another_still_connects() -> None:
    app = create_app(max_sessions=16, max_per_client=2)
    with contextlib.ExitStack() as stack:
        other = stack.enter_context(TestClient(app, client=("10.0.0.7", 40000)))
        user = stack.enter_context(TestClient(app, client=("127.0.0.1", 40001)))
        for _ in range(2):
            receive(stack.enter_context(other.websocket_connect("/ws")), "hello")
        with other.websocket_connect("/ws") as third:
            error = third.receive_json()
            assert error["type"] == "error" and error["fatal"]
            assert error["message"] == (
                "this client (10.0.0.7) already has 2 playground tabs open, the most one client "
                "may have: close one, then reload this one"
            )
            with pytest.raises(WebSocketDisconnect) as closed:
                third.receive_json()
            assert closed.value.code == 1013
        ws = stack.enter_context(user.websocket_connect("/ws"))
        receive(ws, "hello")
        ws.send_json({"type": "setup", "setup": FAST})
        receive(ws, "ready")
        receive(ws, "frame")
        ws.send_json({"type": "step"})
        assert receive(ws, "frame")["epoch"] == 1
        assert len(app.state.sessions) == 3


def test_an_upload_s_declared_size_is_refused_before_the_body_is_read(
    client: TestClient,
) -> None:
    declared = {"content-length": "2000000"}  # the body itself is small: only the header counts
    answer = client.post("/api/csv?name=big.csv", content=CSV, headers=declared)
    assert answer.status_code == 413 and "larger than 1,000,000 bytes" in answer.json()["error"]
    bad = client.post("/api/csv?name=a.csv", content=CSV, headers={"content-length": "-5"})
    assert bad.status_code == 400 and "Content-Length" in bad.json()["error"]


def _until_no_workers() -> None:
    deadline = time.monotonic() + 30
    while _workers():
        assert time.monotonic() < deadline, "a closed tab's worker still trains"
        time.sleep(0.01)


def test_a_tab_closed_while_its_play_is_handled_never_leaves_training_running() -> None:
    """Since the socket is read while a message is handled (a closing tab frees its slot at
    once), a tab may close in the middle of a message that starts training: no worker may
    train on for nobody, and play on a closed session does nothing."""
    from micrograd.web.messages import Setup
    from micrograd.web.session import Session

    _until_no_workers()
    session = Session(lambda message: None, lambda name: None)
    session.configure(Setup(dataset="moons", speed=0, epochs=0))
    session.play()
    assert session.playing
    session.close()
    session.play()  # a play handled just after the close
    _until_no_workers()
    assert not session.playing

    racing = Session(lambda message: None, lambda name: None)
    racing.configure(Setup(dataset="moons", speed=0, epochs=0))
    racing.play()
    racing.closed = True  # the close came between play's check and its new worker's start
    _until_no_workers()
