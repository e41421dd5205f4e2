"""The playground in a real browser: Playwright drives Debian's Chromium against a uvicorn
server on 127.0.0.1. In CI (CI set) a missing browser fails these tests; locally it skips them.

Screenshots go to pytest's tmp dir (printed with -s); look at them when the page changes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from micrograd.serialization import load, load_metadata


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    from micrograd.web.server import Background

    with Background() as url:
        assert url.startswith("http://127.0.0.1:")
        yield url


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    pg = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    pg.close()
    assert errors == [], errors


def open_page(page: Any, url: str, query: str = "") -> None:
    page.goto(url + query)
    page.wait_for_function("window.playground.frame !== null", timeout=15_000)


def state(page: Any, expr: str) -> Any:
    return page.evaluate(f"window.playground.{expr}")


def click_point(page: Any, split: str, index: int) -> None:
    xy = page.evaluate(f"pointOnScreen({split!r}, {index})")
    page.mouse.click(*xy)


def test_play_trains_the_boundary_changes_and_pause_stops(
    page: Any, server: str, tmp_path: Path
) -> None:
    open_page(page, server, "?dataset=moons&speed=60&layers=8,8&activation=tanh")
    before = page.evaluate("document.getElementById('plane').toDataURL()")
    page.click("#play")
    page.wait_for_function("window.playground.rows.length >= 60", timeout=20_000)
    page.click("#play")  # pause
    page.wait_for_function("!window.playground.playing", timeout=10_000)
    rows = state(page, "rows")
    assert [r["epoch"] for r in rows] == list(range(1, len(rows) + 1))
    assert rows[-1]["loss"] < rows[0]["loss"]
    assert int(page.inner_text("#epoch")) == rows[-1]["epoch"]
    assert page.evaluate("document.getElementById('plane').toDataURL()") != before
    assert "train loss" in page.inner_text("#metrics")
    epoch = int(page.inner_text("#epoch"))
    time.sleep(0.5)
    assert int(page.inner_text("#epoch")) == epoch  # paused means paused
    page.click("#step")
    page.wait_for_function(f"window.playground.frame.epoch === {epoch + 1}", timeout=10_000)
    page.screenshot(path=tmp_path / "trained.png")
    print(f"screenshot: {tmp_path / 'trained.png'}")


def test_changing_the_dataset_and_the_network_rebuilds_them(page: Any, server: str) -> None:
    open_page(page, server, "?layers=4")
    assert state(page, "ready.sizes") == [2, 4, 1]
    page.select_option("#dataset", "yinyang")
    page.wait_for_function("window.playground.ready.dataset === 'yinyang'", timeout=15_000)
    assert state(page, "ready.sizes") == [2, 4, 3]
    page.click("#add-layer")
    page.wait_for_function("window.playground.ready.sizes.length === 4", timeout=10_000)
    page.locator(".neuron-plus").nth(1).click()
    page.wait_for_function("window.playground.ready.sizes[2] === 5", timeout=10_000)
    assert page.locator(".network .neuron").count() == 4 + 5
    page.select_option("#activation", "relu")
    page.wait_for_function("window.playground.ready.setup.activation === 'relu'")
    assert "layers=4%2C5" in page.url and "activation=relu" in page.url
    assert "dataset=yinyang" in page.url


def test_clicking_a_point_draws_its_computation_graph(
    page: Any, server: str, tmp_path: Path
) -> None:
    open_page(page, server, "?dataset=spirals&activation=tanh&layers=6,6&speed=0")
    page.click("#play")
    page.wait_for_function("window.playground.rows.length >= 100", timeout=20_000)
    page.click("#play")
    page.wait_for_function("!window.playground.playing", timeout=10_000)
    click_point(page, "train", 5)
    page.wait_for_selector("#graph svg", timeout=15_000)
    caption = page.inner_text("#graph-caption")
    assert "train point 6" in caption and "hinge loss" in caption  # counted from 1
    svg = page.inner_html("#graph")
    assert "loss (hinge)" in svg and "L1.N1.w1" in svg and "grad " in svg
    assert "L0." not in svg and ">x0<" not in svg  # the graph counts from 1, as the page does
    assert state(page, "selected") == {"split": "train", "index": 5}
    page.screenshot(path=tmp_path / "graph.png")
    print(f"screenshot: {tmp_path / 'graph.png'}")


def test_per_sample_mode_trains_and_switching_mode_keeps_the_run(page: Any, server: str) -> None:
    open_page(page, server, "?mode=per-sample&layers=3&speed=0&epochs=5")
    page.click("#play")
    page.wait_for_function("window.playground.frame.epoch === 5", timeout=20_000)
    page.wait_for_function("!window.playground.playing", timeout=10_000)
    click_point(page, "train", 0)
    page.wait_for_selector("#graph svg", timeout=15_000)
    assert "L1.N3.w2" in page.inner_html("#graph")
    weights = state(page, "frame.weights")
    page.select_option("#mode", "batched")
    page.wait_for_function("window.playground.ready.setup.mode === 'batched'", timeout=10_000)
    assert state(page, "frame.epoch") == 5 and state(page, "frame.weights") == weights
    assert "mode=batched" in page.url
    page.fill("#epochs", "6")
    page.press("#epochs", "Enter")
    page.wait_for_function("window.playground.ready.setup.epochs === 6", timeout=10_000)
    page.click("#step")
    page.wait_for_function("window.playground.frame.epoch === 6", timeout=10_000)
    assert state(page, "rows")[-1]["epoch"] == 6


def test_the_url_holds_the_setup_and_a_reload_restores_it(page: Any, server: str) -> None:
    query = "?dataset=circles&layers=3,5&activation=relu&lr=0.03&seed=7&samples=300&test=0.3"
    open_page(page, server, query)
    setup = state(page, "ready.setup")
    expected = {
        "dataset": "circles",
        "layers": [3, 5],
        "activation": "relu",
        "lr": 0.03,
        "seed": 7,
        "samples": 300,
        "test": 0.3,
    }
    assert {k: setup[k] for k in expected} == expected
    assert page.input_value("#lr") == "0.03" and page.input_value("#dataset") == "circles"
    page.fill("#seed", "8")
    page.press("#seed", "Enter")
    page.wait_for_function("window.playground.ready.setup.seed === 8", timeout=10_000)
    first = state(page, "ready.train.x")
    page.reload()
    page.wait_for_function("window.playground.frame !== null", timeout=15_000)
    again = state(page, "ready")
    assert again["setup"] == {**setup, "seed": 8}
    assert again["train"]["x"] == first  # the same data, from the same seed


def test_out_of_range_values_in_the_url_fall_back_to_defaults_with_a_note(
    page: Any, server: str
) -> None:
    open_page(page, server, "?samples=5000&layers=4,40&seed=3")
    text = page.inner_text("#message-text")
    assert 'samples: must be at most 2000 (got "5000")' in text
    assert 'layers: a layer has 1 to 16 neurons (got "4,40")' in text
    setup = state(page, "ready.setup")
    defaults = state(page, "options.defaults")
    assert setup["samples"] == defaults["samples"] and setup["layers"] == defaults["layers"]
    assert setup["seed"] == 3  # the good values are kept
    assert "samples=5000" not in page.url and "seed=3" in page.url


def test_a_bad_csv_upload_shows_its_message_and_a_good_one_trains(
    page: Any, server: str, tmp_path: Path
) -> None:
    open_page(page, server)
    bad = tmp_path / "scores.csv"
    bad.write_text("x1,x2,label\n0.1,0.2,0\n0.3,oops,1\n")
    page.select_option("#dataset", "csv")
    assert "choose a CSV file" in page.inner_text("#message-text")
    page.set_input_files("#csv-file", str(bad))
    page.wait_for_function(  # the upload's own message replaces the hint
        "document.getElementById('message-text').textContent.includes('oops')", timeout=10_000
    )
    assert "scores.csv: line 3, column 2 ('x2'): 'oops' is not a number" in page.inner_text(
        "#message-text"
    )
    good = tmp_path / "points.csv"
    good.write_text(
        "x1,x2,label\n" + "".join(f"{i / 10},{(i * 7 % 10) / 10},{i % 2}\n" for i in range(40))
    )
    page.set_input_files("#csv-file", str(good))
    page.wait_for_function("window.playground.ready.dataset === 'points'", timeout=10_000)
    assert page.is_hidden("#message")
    assert "points.csv: 40 rows, 2 features, binary" in page.inner_text("#csv-info")


def test_download_model_gives_what_predict_loads(page: Any, server: str, tmp_path: Path) -> None:
    open_page(page, server, "?layers=5&speed=0&epochs=30")
    page.click("#play")
    page.wait_for_function("window.playground.frame.epoch === 30", timeout=20_000)
    with page.expect_download() as download:
        page.click("#download")
    path = tmp_path / "model.json"
    download.value.save_as(path)
    assert load(path).nouts == [5, 1]
    assert load_metadata(path)["epochs_trained"] == 30


def test_a_narrow_window_stays_usable(browser: Any, server: str, tmp_path: Path) -> None:
    pg = browser.new_page(viewport={"width": 400, "height": 800})
    try:
        open_page(pg, server)
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"the page is {width}px wide in a 400px window"
        assert pg.is_visible("#play") and pg.is_visible("#plane")
        pg.click("#step")
        pg.wait_for_function("window.playground.frame.epoch === 1", timeout=10_000)
        pg.screenshot(path=tmp_path / "narrow.png", full_page=True)
    finally:
        pg.close()
