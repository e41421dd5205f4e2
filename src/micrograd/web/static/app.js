// micrograd playground: the page. Plain JavaScript, canvas and SVG; the server trains.
// It keeps the setup in the URL, sends it over a WebSocket, and draws what comes back:
// `ready` (data and network), `frame` (pictures, weights, metric rows), `state`, `graph`, `error`.
"use strict";

const NEG = [245, 147, 34];    // orange: negative values, class 0
const POS = [8, 119, 189];     // blue: positive values, class 1
const WHITE = [255, 255, 255];
const PALETTE = [NEG, POS, [46, 160, 67], [148, 103, 189], [214, 39, 40], [140, 86, 75],
  [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207]];
const MAX_CURVE = 2000;        // points kept per curve: older ones are thinned, not dropped all

const $ = (id) => document.getElementById(id);
const NUMBER_FIELDS = ["noise", "samples", "test", "lr", "epochs", "reg_rate", "batch_size",
  "seed", "grid", "speed"];
const SELECT_FIELDS = ["dataset", "activation", "loss", "optimizer", "schedule",
  "regularization", "mode"];

const app = {
  ws: null, options: null, setup: {}, session: null, ready: null, frame: null,
  rows: [], playing: false, selected: null, graphZoom: 1, nodes: [], links: [],
};
window.playground = app;  // for tests and the curious: the page's state

// -- the URL -------------------------------------------------------------------------------

function setupFromUrl() {
  const out = {};
  for (const [key, value] of new URLSearchParams(location.search)) {
    if (key === "layers") {
      out.layers = value === "" ? [] : value.split(",").map((v) => (/^-?\d+$/.test(v) ? Number(v) : v));
    } else if (key === "csv" || SELECT_FIELDS.includes(key)) {
      out[key] = value;
    } else {
      out[key] = value !== "" && !Number.isNaN(Number(value)) ? Number(value) : value;
    }
  }
  return out;
}

function writeUrl() {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(app.setup)) {
    if (value === null || value === undefined) continue;
    params.set(key, Array.isArray(value) ? value.join(",") : String(value));
  }
  history.replaceState(null, "", "?" + params.toString());
}

// -- messages ------------------------------------------------------------------------------

function send(message) {
  if (app.ws && app.ws.readyState === WebSocket.OPEN) app.ws.send(JSON.stringify(message));
}

function showMessage(text) {
  $("message-text").textContent = text;
  $("message").hidden = false;
}

function clearMessage() {
  $("message").hidden = true;
  $("message-text").textContent = "";
}

function sendSetup() {
  writeUrl();
  send({ type: "setup", setup: app.setup });
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/ws`);
  app.ws = ws;
  ws.onmessage = (event) => handle(JSON.parse(event.data));
  ws.onclose = () => {
    $("status").textContent = "disconnected from the server: reload the page to reconnect";
    setPlaying(false);
  };
}

function handle(msg) {
  switch (msg.type) {
    case "hello":
      app.options = msg.options;
      app.session = msg.session;
      $("download").href = `/api/sessions/${msg.session}/model.json`;
      buildControls();
      app.setup = { ...app.options.defaults, ...setupFromUrl() };
      showSetup();
      $("status").textContent = "connected";
      sendSetup();
      break;
    case "ready": onReady(msg); break;
    case "frame": onFrame(msg); break;
    case "state":
      setPlaying(msg.playing);
      $("epoch").textContent = msg.epoch;
      $("status").textContent = msg.reason || (msg.playing ? "training…" : "paused");
      break;
    case "graph": onGraph(msg); break;
    case "error":
      showMessage(msg.message);
      if (msg.request === "graph") $("graph-caption").textContent = "no graph: see the message above";
      if (msg.fatal) $("status").textContent = "not connected";
      break;
    default: break;
  }
}

// -- controls ------------------------------------------------------------------------------

const LABELS = { regression_1d: "regression 1-D", yinyang: "yin-yang", csv: "CSV upload…",
  cross_entropy: "cross-entropy", bce: "binary cross-entropy", auto: "auto (by task)",
  momentum: "SGD + momentum", sgd: "SGD", adam: "Adam", adamw: "AdamW", l1: "L1", l2: "L2",
  "per-sample": "per sample" };

function buildControls() {
  const { choices, limits } = app.options;
  for (const name of SELECT_FIELDS) {
    const select = $(name);
    select.innerHTML = "";
    for (const value of choices[name]) {
      const option = document.createElement("option");
      option.value = value;
      option.textContent = LABELS[value] || value;
      select.appendChild(option);
    }
    select.addEventListener("change", () => {
      if (name === "dataset" && select.value === "csv" && !app.setup.csv) {
        $("csv-box").hidden = false;
        showMessage("choose a CSV file to upload: features in the first columns, the target last");
        return;
      }
      app.setup[name] = select.value;
      showSetup();
      sendSetup();
    });
  }
  for (const name of NUMBER_FIELDS) {
    const input = $(name);
    input.addEventListener("change", () => {
      app.setup[name] = input.value === "" ? input.value : Number(input.value);
      showSetup();
      sendSetup();
    });
    if (input.type === "range") {
      input.addEventListener("input", () => { $(`${name}-out`).textContent = input.value; });
    }
  }
  $("samples").max = limits.samples_max;
  $("samples").min = limits.samples_min;
  $("grid").min = limits.grid_min;
  $("grid").max = limits.grid_max;
}

function showSetup() {
  const s = app.setup;
  for (const name of SELECT_FIELDS) if (s[name] !== undefined) $(name).value = s[name];
  for (const name of NUMBER_FIELDS) if (s[name] !== undefined) $(name).value = s[name];
  $("noise-out").textContent = s.noise;
  $("test-out").textContent = `${Math.round(100 * s.test)}%`;
  const csv = s.dataset === "csv";
  $("csv-box").hidden = !csv;
  $("noise").disabled = csv;
  $("samples").disabled = csv;
  const layers = Array.isArray(s.layers) ? s.layers : [];
  $("layer-count").textContent = `${layers.length} hidden layer${layers.length === 1 ? "" : "s"}`;
}

function changeLayers(fn) {
  const layers = Array.isArray(app.setup.layers) ? [...app.setup.layers] : [];
  fn(layers);
  app.setup.layers = layers;
  showSetup();
  sendSetup();
}

$("add-layer").addEventListener("click", () => changeLayers((l) => l.push(l.length ? l[l.length - 1] : 4)));
$("remove-layer").addEventListener("click", () => changeLayers((l) => l.pop()));
$("play").addEventListener("click", () => send({ type: app.playing ? "pause" : "play" }));
$("step").addEventListener("click", () => send({ type: "step" }));
$("reset").addEventListener("click", () => send({ type: "reset" }));
$("message-close").addEventListener("click", clearMessage);
$("show-test").addEventListener("change", drawPlane);

$("csv-file").addEventListener("change", async () => {
  const file = $("csv-file").files[0];
  if (!file) return;
  $("csv-info").textContent = `uploading ${file.name}…`;
  const response = await fetch(`/api/csv?name=${encodeURIComponent(file.name)}`,
    { method: "POST", body: file });
  const answer = await response.json();
  if (!response.ok) {
    $("csv-info").textContent = "";
    showMessage(answer.error);
    return;
  }
  $("csv-info").textContent = `${file.name}: ${answer.rows} rows, ${answer.features} ` +
    `feature${answer.features === 1 ? "" : "s"}, ${answer.task}`;
  Object.assign(app.setup, { dataset: "csv", csv: answer.id });
  showSetup();
  sendSetup();
});

function setPlaying(playing) {
  app.playing = playing;
  $("play").innerHTML = playing ? "&#x23F8; pause" : "&#x25B6; play";
}

// -- ready: data and network --------------------------------------------------------------

function onReady(msg) {
  clearMessage();
  app.ready = msg;
  app.setup = { ...msg.setup };
  showSetup();
  writeUrl();
  if (msg.fresh) {
    app.rows = [];
    app.selected = null;
    $("graph").innerHTML = "";
    $("graph-caption").textContent = "click a data point";
  }
  $("epoch").textContent = msg.epoch;
  buildNetwork();
}

function nodeSize() { return 34; }

function buildNetwork() {
  const box = $("network");
  box.innerHTML = "";
  const sizes = app.ready.sizes;
  const width = Math.max(box.clientWidth, 280);
  const size = nodeSize();
  const gap = 10;
  const top = 44;
  const tallest = Math.max(...sizes);
  box.style.height = `${top + tallest * (size + gap) + 10}px`;
  const columnX = (i) => 10 + (i * (width - 20 - size)) / Math.max(1, sizes.length - 1);
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "links");
  svg.setAttribute("width", width);
  svg.setAttribute("height", top + tallest * (size + gap) + 10);
  box.appendChild(svg);
  app.nodes = [];
  app.links = [];
  const centres = sizes.map((n, i) => Array.from({ length: n }, (_, j) =>
    [columnX(i), top + j * (size + gap)]));
  for (let i = 1; i < sizes.length; i++) {
    const layerLinks = [];
    for (let j = 0; j < sizes[i]; j++) {
      const row = [];
      for (let k = 0; k < sizes[i - 1]; k++) {
        const [x0, y0] = centres[i - 1][k];
        const [x1, y1] = centres[i][j];
        const line = document.createElementNS("http://www.w3.org/2000/svg", "path");
        const xa = x0 + size, ya = y0 + size / 2, xb = x1, yb = y1 + size / 2;
        const mid = (xa + xb) / 2;
        line.setAttribute("d", `M${xa},${ya} C${mid},${ya} ${mid},${yb} ${xb},${yb}`);
        line.setAttribute("fill", "none");
        line.setAttribute("class", "link");
        svg.appendChild(line);
        row.push(line);
      }
      layerLinks.push(row);
    }
    app.links.push(layerLinks);
  }
  sizes.forEach((n, i) => {
    const hidden = i > 0 && i < sizes.length - 1;
    const column = [];
    for (let j = 0; j < n; j++) {
      const node = document.createElement("div");
      node.className = "node" + (hidden ? " neuron" : i === 0 ? " input" : " output");
      const [x, y] = centres[i][j];
      Object.assign(node.style, { left: `${x}px`, top: `${y}px`, width: `${size}px`, height: `${size}px` });
      if (i === 0) {
        node.textContent = app.ready.features === 1 ? "x" : `x${j + 1}`;
      } else {
        const canvas = document.createElement("canvas");
        canvas.width = 20;
        canvas.height = 20;
        node.appendChild(canvas);
        node.title = hidden ? `layer ${i}, neuron ${j + 1}` : `output ${j + 1}`;
      }
      box.appendChild(node);
      column.push(node);
    }
    app.nodes.push(column);
    const head = document.createElement("div");
    head.className = "layer-head";
    Object.assign(head.style, { left: `${columnX(i) - 20}px`, top: "0px", width: `${size + 40}px` });
    if (hidden) {
      head.innerHTML = `<span>${n} neuron${n === 1 ? "" : "s"}</span><span class="buttons">` +
        `<button type="button" class="neuron-minus" aria-label="fewer neurons">&minus;</button>` +
        `<button type="button" class="neuron-plus" aria-label="more neurons">+</button></span>`;
      head.querySelector(".neuron-minus").addEventListener("click",
        () => changeLayers((l) => { l[i - 1] -= 1; }));
      head.querySelector(".neuron-plus").addEventListener("click",
        () => changeLayers((l) => { l[i - 1] += 1; }));
    } else {
      head.innerHTML = `<span>${i === 0 ? "input" : "output"}</span>`;
    }
    box.appendChild(head);
  });
}

// -- frames: pictures, weights, curves ----------------------------------------------------

function bytes(b64) {
  const text = atob(b64);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function mix(a, b, t) {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

// A value in [-1, 1] as a colour: orange below zero, white at zero, blue above.
function diverging(v) {
  return v < 0 ? mix(WHITE, NEG, Math.min(1, -v)) : mix(WHITE, POS, Math.min(1, v));
}

function paint(canvas, n, colourAt) {
  canvas.width = n;
  canvas.height = n;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(n, n);
  for (let i = 0; i < n * n; i++) {
    const [r, g, b] = colourAt(i);
    image.data.set([r, g, b, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
}

function drawCurveIn(canvas, values, lo, hi) {
  canvas.width = 40;
  canvas.height = 40;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, 40, 40);
  ctx.strokeStyle = "#333";
  ctx.beginPath();
  values.forEach((v, i) => {
    const x = (i / (values.length - 1)) * 40;
    const y = 40 - ((v - lo) / (hi - lo || 1)) * 40;
    if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  });
  ctx.stroke();
}

function onFrame(msg) {
  app.frame = msg;
  $("epoch").textContent = msg.epoch;
  for (const row of msg.rows) app.rows.push(row);
  if (app.rows.length > MAX_CURVE) app.rows = app.rows.filter((_, i) => i % 2 === 0 || i === app.rows.length - 1);
  drawPlane();
  drawNeurons(msg);
  drawLinks(msg.weights);
  drawMetrics();
  drawCharts();
}

function outputColour(output, n) {
  if (output.kind === "binary") {
    const v = bytes(output.values);
    return (i) => diverging(v[i] / 127.5 - 1);
  }
  if (output.kind === "multiclass") {
    const cls = bytes(output.classes);
    const conf = bytes(output.confidence);
    const k = app.ready.n_classes;
    return (i) => mix(WHITE, PALETTE[cls[i] % PALETTE.length],
      Math.max(0, (conf[i] / 255 - 1 / k) / (1 - 1 / k)) * 0.75);
  }
  const v = bytes(output.values);
  return (i) => diverging(v[i] / 127.5 - 1);
}

function pointColour(label) {
  if (app.ready.task === "regression") {
    const [lo, hi] = app.ready.target_range;
    return diverging((2 * (label - lo)) / (hi - lo || 1) - 1);
  }
  return PALETTE[label % PALETTE.length];
}

function toCanvas(x, y) {
  const [x0, x1, y0, y1] = app.ready.bounds;
  const c = $("plane");
  return [((x - x0) / (x1 - x0)) * c.width, ((y1 - y) / (y1 - y0)) * c.height];
}

function pointXY(split, i) {
  const pts = app.ready[split];
  const x = pts.x[i];
  return app.ready.features === 1 ? [x[0], pts.y[i]] : [x[0], x[1]];
}

function drawPlane() {
  if (!app.ready) return;
  const canvas = $("plane");
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const output = app.frame && app.frame.output;
  if (output && output.kind === "curve") {
    const [x0, x1] = app.ready.bounds;
    ctx.strokeStyle = "#222";
    ctx.lineWidth = 2.5;
    ctx.beginPath();
    output.values.forEach((v, i) => {
      const [px, py] = toCanvas(x0 + ((x1 - x0) * i) / (output.values.length - 1), v ?? 0);
      if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
    });
    ctx.stroke();
  } else if (output) {
    const off = document.createElement("canvas");
    paint(off, app.frame.grid, outputColour(output, app.frame.grid));
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
  }
  const splits = $("show-test").checked ? ["train", "test"] : ["train"];
  for (const split of splits) {
    const pts = app.ready[split];
    for (let i = 0; i < pts.y.length; i++) {
      const [px, py] = toCanvas(...pointXY(split, i));
      const [r, g, b] = pointColour(pts.y[i]);
      ctx.beginPath();
      ctx.arc(px, py, 4, 0, 2 * Math.PI);
      ctx.fillStyle = `rgb(${r},${g},${b})`;
      ctx.fill();
      ctx.lineWidth = 1;
      ctx.strokeStyle = split === "train" ? "#fff" : "#000";
      ctx.stroke();
    }
  }
  if (app.selected) {
    const [px, py] = toCanvas(...pointXY(app.selected.split, app.selected.index));
    ctx.beginPath();
    ctx.arc(px, py, 8, 0, 2 * Math.PI);
    ctx.lineWidth = 2.5;
    ctx.strokeStyle = "#000";
    ctx.stroke();
  }
}

function drawNeurons(msg) {
  const oneD = app.ready.features === 1;
  msg.neurons.forEach((layer, li) => {
    layer.forEach((neuron, j) => {
      const node = app.nodes[li + 1] && app.nodes[li + 1][j];
      if (!node) return;
      const canvas = node.querySelector("canvas");
      const v = bytes(neuron.values);
      const [lo, hi] = neuron.range;
      const top = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
      if (oneD) {
        drawCurveIn(canvas, Array.from(v, (q) => lo + (q / 255) * (hi - lo)), lo, hi);
      } else {
        paint(canvas, msg.neuron_grid, (i) => diverging((lo + (v[i] / 255) * (hi - lo)) / top));
      }
    });
  });
  const out = app.nodes[app.nodes.length - 1];
  if (out && msg.output.kind !== "curve") {
    for (const node of out) {
      const canvas = node.querySelector("canvas");
      if (canvas) canvas.getContext("2d").drawImage($("plane"), 0, 0, canvas.width, canvas.height);
    }
  }
}

function drawLinks(weights) {
  let top = 0;
  for (const layer of weights) for (const n of layer) for (const w of n.w) top = Math.max(top, Math.abs(w ?? 0));
  top = top || 1;
  weights.forEach((layer, li) => layer.forEach((neuron, j) => neuron.w.forEach((w, k) => {
    const line = app.links[li] && app.links[li][j] && app.links[li][j][k];
    if (!line) return;
    const [r, g, b] = (w ?? 0) < 0 ? NEG : POS;
    line.setAttribute("stroke", `rgb(${r},${g},${b})`);
    line.setAttribute("stroke-width", (0.5 + (5 * Math.abs(w ?? 0)) / top).toFixed(2));
    line.setAttribute("stroke-opacity", "0.75");
    line.dataset.weight = w;
  })));
}

function fmt(v, digits = 4) {
  return v === null || v === undefined ? "–" : Number(v).toPrecision(digits);
}

function metricName() { return app.ready.task === "regression" ? "rmse" : "accuracy"; }

function drawMetrics() {
  const row = app.rows[app.rows.length - 1];
  if (!row) {
    $("metrics").innerHTML = `epoch 0 · loss <b>${app.ready.loss}</b> · press play or step`;
    return;
  }
  const m = metricName();
  const pct = (v) => (v === null || v === undefined ? "–" : m === "accuracy" ? `${(100 * v).toFixed(1)}%` : fmt(v));
  const test = row.test_loss !== undefined;
  $("metrics").innerHTML = `train loss <b id="train-loss">${fmt(row.loss)}</b>` +
    (test ? ` · test loss <b id="test-loss">${fmt(row.test_loss)}</b>` : "") +
    `<br>train ${m} <b>${pct(row[m])}</b>` +
    (test ? ` · test ${m} <b>${pct(row["test_" + m])}</b>` : "") +
    ` · lr ${fmt(row.lr, 3)} · ${app.ready.loss}`;
}

function drawChart(canvas, keys, title, fixedRange) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height, pad = 22;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, W, H);
  ctx.fillStyle = "#666";
  ctx.font = "11px sans-serif";
  ctx.fillText(title, 4, 12);
  const rows = app.rows;
  if (rows.length < 1) return;
  let lo = 0, hi = 0;
  for (const r of rows) for (const k of keys) if (r[k] !== undefined && r[k] !== null) hi = Math.max(hi, r[k]);
  if (fixedRange) [lo, hi] = fixedRange;
  hi = hi > lo ? hi : lo + 1;
  const e0 = rows[0].epoch, e1 = Math.max(rows[rows.length - 1].epoch, e0 + 1);
  ctx.fillText(fmt(hi, 3), 4, pad + 4);
  ctx.fillText(`epoch ${e1}`, W - 70, H - 4);
  keys.forEach((k, idx) => {
    ctx.strokeStyle = idx === 0 ? "#183d4e" : "#d07a12";
    ctx.setLineDash(idx === 0 ? [] : [4, 3]);
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    let started = false;
    for (const r of rows) {
      if (r[k] === undefined || r[k] === null) continue;
      const x = pad + ((r.epoch - e0) / (e1 - e0)) * (W - pad - 6);
      const y = H - 14 - ((r[k] - lo) / (hi - lo)) * (H - pad - 14);
      if (!started) { ctx.moveTo(x, y); started = true; } else ctx.lineTo(x, y);
    }
    ctx.stroke();
    ctx.setLineDash([]);
  });
  ctx.fillStyle = "#183d4e";
  ctx.fillText("— train", W - 120, 12);
  ctx.fillStyle = "#d07a12";
  ctx.fillText("-- test", W - 60, 12);
}

function drawCharts() {
  drawChart($("loss-chart"), ["loss", "test_loss"], `loss (${app.ready.loss})`);
  const m = metricName();
  drawChart($("metric-chart"), [m, "test_" + m], m, m === "accuracy" ? [0, 1] : null);
}

// -- clicking a point: its computation graph ------------------------------------------------

$("plane").addEventListener("click", (event) => {
  if (!app.ready) return;
  const canvas = $("plane");
  const rect = canvas.getBoundingClientRect();
  const cx = ((event.clientX - rect.left) / rect.width) * canvas.width;
  const cy = ((event.clientY - rect.top) / rect.height) * canvas.height;
  let best = null;
  const splits = $("show-test").checked ? ["train", "test"] : ["train"];
  for (const split of splits) {
    for (let i = 0; i < app.ready[split].y.length; i++) {
      const [px, py] = toCanvas(...pointXY(split, i));
      const d = Math.hypot(px - cx, py - cy);
      if (d <= 12 && (!best || d < best.d)) best = { split, index: i, d };
    }
  }
  if (!best) return;
  app.selected = { split: best.split, index: best.index };
  drawPlane();
  $("graph-caption").textContent = `drawing ${best.split} point ${best.index}…`;
  send({ type: "graph", split: best.split, index: best.index });
});

function onGraph(msg) {
  const xs = msg.x.map((v) => fmt(v, 3)).join(", ");
  const classes = app.ready.task !== "regression";
  const target = classes ? `class ${msg.target}` : `target ${fmt(msg.target, 3)}`;
  const as = classes && msg.loss_target !== msg.target ? ` (${msg.loss_name} target ${msg.loss_target})` : "";
  $("graph-caption").textContent = `${msg.split} point ${msg.index}: x = (${xs}), ${target}${as}, ` +
    `output ${msg.outputs.map((v) => fmt(v, 3)).join(", ")}, ${msg.loss_name} loss ` +
    `${fmt(msg.loss)} · ${msg.values} values, each with its data and the loss's grad`;
  const view = $("graph");
  view.innerHTML = msg.svg;
  app.graphZoom = 1;
  zoomGraph(1);
  // Start at the output neuron: its weights and inputs on the left, the loss on the right.
  const texts = Array.from(view.querySelectorAll("text"));
  const anchor = texts.find((t) => t.textContent === "out" || t.textContent === "out0") ||
    texts.find((t) => t.textContent.startsWith("loss"));
  if (anchor) {
    const box = anchor.parentNode.getBBox();  // the whole record: label, data and grad
    view.scrollLeft = box.x + box.width - view.clientWidth * 0.7;
    view.scrollTop = box.y - view.clientHeight / 2;
  }
}

function zoomGraph(factor) {
  const svg = $("graph").querySelector("svg");
  if (!svg) return;
  const [, , w, h] = svg.getAttribute("viewBox").split(" ").map(Number);
  app.graphZoom = factor === "fit" ? Math.min(1, ($("graph").clientWidth - 4) / w) : app.graphZoom * factor;
  svg.setAttribute("width", (w * app.graphZoom).toFixed(0));
  svg.setAttribute("height", (h * app.graphZoom).toFixed(0));
}

$("zoom-in").addEventListener("click", () => zoomGraph(1.25));
$("zoom-out").addEventListener("click", () => zoomGraph(0.8));
$("zoom-fit").addEventListener("click", () => zoomGraph("fit"));
window.addEventListener("resize", () => { if (app.ready) { buildNetwork(); if (app.frame) onFrame({ ...app.frame, rows: [] }); } });

connect();
