// micrograd playground: the page. Plain JavaScript, canvas and SVG; the server trains.
// It keeps the setup in the URL, sends it over a WebSocket, and draws what comes back:
// `ready` (data and network), `frame` (pictures, weights, metric rows), `state`, `graph`, `error`.
// Every field is checked here before it is sent (the server checks again); what the header
// says comes only from the server's latest `ready`/`state`/`frame`, never from a guess.
"use strict";

const NEG = [245, 147, 34];    // orange: negative values, class 0
const POS = [8, 119, 189];     // blue: positive values, class 1
const WHITE = [255, 255, 255];
const PALETTE = [NEG, POS, [46, 160, 67], [148, 103, 189], [214, 39, 40], [140, 86, 75],
  [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207]];
const MAX_CURVE = 2000;        // points kept per curve: older ones are thinned, not dropped all
const GRAPH_REFRESH_MS = 1000; // an open graph is re-requested at most this often while training
const MIN_GRAPH_ZOOM = 0.6;    // "fit" never shrinks a graph below this: it scrolls instead
// How the page writes the input features (their names and order are the server's registry).
const FEATURE_LABELS = { x1: "x₁", x2: "x₂", "x1^2": "x₁²", "x2^2": "x₂²", "x1*x2": "x₁·x₂",
  "sin(x1)": "sin x₁", "sin(x2)": "sin x₂" };
const PLAY_ICON = '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><path d="M4 2.5v11l9-5.5z"/></svg>';
const PAUSE_ICON = '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><rect x="3.5" y="2.5" width="3" height="11"/><rect x="9.5" y="2.5" width="3" height="11"/></svg>';

const $ = (id) => document.getElementById(id);
const NUMBER_FIELDS = ["noise", "samples", "test", "lr", "epochs", "reg_rate", "batch_size",
  "seed", "grid", "speed"];
const SELECT_FIELDS = ["dataset", "activation", "loss", "optimizer", "schedule",
  "regularization", "mode"];

const app = {
  ws: null, options: null, setup: {}, good: null, session: null, ready: null, frame: null,
  rows: [], playing: false, status: "connecting", selected: null, graphZoom: 1, nodes: [],
  links: [], sticky: 0, graphPending: false, graphAt: 0, graphEpoch: null, hoverNode: null,
  fromDefaults: false,
};
window.playground = app;  // for tests and the curious: the page's state

// -- checking a field before it is sent -----------------------------------------------------

function limit(name, fallback) {
  const limits = (app.options && app.options.limits) || {};
  return limits[name] !== undefined ? limits[name] : fallback;
}

// [kind, min, max, exclusive min]: the same ranges as the server's `Setup` (messages.py).
function rules() {
  return {
    noise: ["number", 0, 1],
    samples: ["int", limit("samples_min", 10), limit("samples_max", 2000)],
    test: ["number", 0, 0.5],
    lr: ["number", 0, limit("lr_max", 10), true],
    epochs: ["int", 0, limit("epochs_max", 100000)],
    reg_rate: ["number", 0, 1],
    batch_size: ["int", 0, limit("samples_max", 2000)],
    seed: ["int", 0, limit("seed_max", 2 ** 31 - 1)],
    grid: ["int", limit("grid_min", 10), limit("grid_max", 100)],
    speed: ["int", 0, limit("speed_max", 1000)],
  };
}

// The reason a value cannot be sent, or null. `value` is what the field or the URL holds.
function checkNumber(name, value) {
  const rule = rules()[name];
  if (!rule) return null;
  const [kind, lo, hi, open] = rule;
  if (name === "epochs" && (value === "" || value === null)) return null;  // empty: until paused
  if (value === "" || value === null || value === undefined) return "must be a number";
  const v = Number(value);
  if (!Number.isFinite(v)) return "must be a number";
  if (kind === "int" && !Number.isInteger(v)) return "must be a whole number";
  if (open ? v <= lo : v < lo) return open ? `must be more than ${lo}` : `must be at least ${lo}`;
  if (v > hi) return `must be at most ${hi}`;
  return null;
}

function checkLayers(layers) {
  const max = limit("layers_max", 6), most = limit("neurons_max", 16);
  if (!Array.isArray(layers)) return "must be a list of layer sizes";
  if (layers.length > max) return `at most ${max} hidden layers are allowed`;
  for (const n of layers) {
    if (!Number.isInteger(n) || n < 1 || n > most) return `a layer has 1 to ${most} neurons`;
  }
  return null;
}

// The server's registry (micrograd.features), sent with its options; none before the hello.
function featureChoices() {
  return (app.options && app.options.feature_choices) || [];
}

function checkFeatures(features) {
  if (features === null || features === undefined) return null;
  if (!Array.isArray(features) || features.length === 0) return "choose at least one input";
  const known = featureChoices();
  const bad = features.find((f) => !known.includes(f));
  if (bad !== undefined) return `unknown input ${bad}`;
  if (new Set(features).size !== features.length) return "each input at most once";
  return null;
}

// A field's name as its label says it (the URL uses the setup's keys).
const FIELD_NAMES = { lr: "learning rate", reg_rate: "regularization rate", batch_size: "batch size",
  test: "test split" };

function showFieldError(name, reason) {
  const input = $(name);
  let note = $(`${name}-error`);
  if (!note && input) {
    note = document.createElement("span");
    note.id = `${name}-error`;
    note.className = "field-error";
    note.setAttribute("role", "status");
    (input.closest("label") || input).after(note);
  }
  if (input) input.setAttribute("aria-invalid", reason ? "true" : "false");
  if (note) {
    note.textContent = reason ? `${FIELD_NAMES[name] || name}: ${reason}` : "";
    note.hidden = !reason;
  }
}

// -- the URL -------------------------------------------------------------------------------

// The URL's setup, each value checked; what does not pass is left out and named in `bad`.
function setupFromUrl() {
  const out = {};
  const bad = [];
  const defaults = app.options.defaults;
  for (const [key, value] of new URLSearchParams(location.search)) {
    let reason = null;
    let parsed = value;
    if (!(key in defaults)) {
      reason = "is not a setting the playground knows";
    } else if (key === "layers") {
      parsed = value === "" ? [] : value.split(",").map((v) => (/^\d+$/.test(v) ? Number(v) : NaN));
      reason = checkLayers(parsed);
    } else if (key === "features") {
      parsed = value === "" ? [] : value.split(",");
      reason = checkFeatures(parsed);
    } else if (key === "csv") {
      reason = /^[\w-]{1,64}$/.test(value) ? null : "is not an uploaded file's id";
    } else if (SELECT_FIELDS.includes(key)) {
      const allowed = app.options.choices[key] || [];
      reason = allowed.includes(value) ? null : `must be one of ${allowed.join(", ")}`;
    } else if (NUMBER_FIELDS.includes(key)) {
      parsed = key === "epochs" && value === "" ? 0 : Number(value);
      reason = checkNumber(key, value);
    }
    if (reason) bad.push(`${key}: ${reason} (got ${JSON.stringify(value).slice(0, 40)})`);
    else out[key] = parsed;
  }
  if (out.dataset === "csv" && !out.csv) {
    bad.push("dataset: csv needs an uploaded file");
    delete out.dataset;
  }
  return { setup: out, bad };
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

function showMessage(text, sticky = 0) {
  $("message-text").textContent = text;
  $("message").hidden = false;
  app.sticky = sticky;  // how many `ready`s the message outlives (a fallback's own ready)
}

function clearMessage() {
  $("message").hidden = true;
  $("message-text").textContent = "";
}

function setupToSend() {
  const out = {};
  for (const [key, value] of Object.entries(app.setup)) {
    if (value !== null && value !== undefined) out[key] = value;
  }
  return out;
}

function sendSetup() {
  writeUrl();
  app.pendingSetup = true;
  send({ type: "setup", setup: setupToSend() });
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/ws`);
  app.ws = ws;
  ws.onmessage = (event) => handle(JSON.parse(event.data));
  ws.onclose = () => {
    setStatus("disconnected", "disconnected from the server: reload the page to reconnect");
    setPlaying(false);
  };
}

function handle(msg) {
  switch (msg.type) {
    case "hello": onHello(msg); break;
    case "ready": onReady(msg); break;
    case "frame": onFrame(msg); break;
    case "state": onState(msg); break;
    case "graph": onGraph(msg); break;
    case "error": onError(msg); break;
    default: break;
  }
}

function onHello(msg) {
  app.options = msg.options;
  app.session = msg.session;
  $("download").href = `/api/sessions/${msg.session}/model.json`;
  buildControls();
  const { setup, bad } = setupFromUrl();
  app.setup = { ...app.options.defaults, ...setup };
  showSetup();
  setStatus("connected", "connected");
  if (bad.length) {
    showMessage(`the URL had values the playground cannot use, so their defaults are used ` +
      `instead: ${bad.join("; ")}`, 1);
  }
  sendSetup();
}

function onError(msg) {
  if (msg.request === "graph") {
    app.graphPending = false;
    $("graph-caption").textContent = "no graph: see the message above";
  }
  if (msg.fatal) {
    setStatus("disconnected", "not connected");
    showMessage(msg.message);
    return;
  }
  if (msg.request === "setup") {
    app.pendingSetup = false;
    if (app.good) {
      // Back to the setup the server last accepted: the page, its fields and the URL.
      app.setup = { ...app.good };
      showSetup();
      writeUrl();
      showMessage(`${msg.message}. The server refused this setup: the last one that worked is ` +
        `back in place.`);
    } else if (!app.fromDefaults) {
      app.fromDefaults = true;
      app.setup = { ...app.options.defaults };
      showSetup();
      showMessage(`${msg.message}. The server refused the setup in the URL: the defaults are ` +
        `used instead.`, 1);
      sendSetup();
    } else {
      showMessage(msg.message);
    }
    return;
  }
  showMessage(msg.message);
}

function setStatus(status, text) {
  app.status = status;
  const el = $("status");
  el.textContent = text;
  el.dataset.status = status;
}

function untilPaused() { return !app.setup.epochs; }

// The header's words for a `state` message; the server's own reason wins when it gives one.
function onState(msg) {
  setPlaying(msg.playing);
  if (msg.epoch !== undefined) $("epoch").textContent = msg.epoch;
  showStatus(msg);
  if (!msg.playing) refreshGraph(true);  // the open graph catches up with the paused weights
}

function showStatus(msg) {
  const status = msg.status || (msg.playing ? "training" : msg.reason ? "stopped" : "paused");
  let text;
  if (status === "training") {
    text = untilPaused() ? "training until paused…" : `training to epoch ${app.setup.epochs}…`;
  } else if (status === "diverged") {
    const at = msg.diverged_epoch ?? msg.epoch;
    text = msg.reason || `diverged at epoch ${at}: lower the learning rate and reset`;
  } else if (status === "idle") {
    text = msg.reason || "ready: press play or step";
  } else if (status === "finished") {
    text = msg.reason || `finished at epoch ${msg.epoch}`;
  } else {
    text = msg.reason || "paused";
  }
  setStatus(status, text);
}

// -- controls ------------------------------------------------------------------------------

const LABELS = { regression_1d: "regression 1-D", regression_2d: "regression 2-D",
  yinyang: "yin-yang", csv: "CSV upload…",
  cross_entropy: "cross-entropy", bce: "binary cross-entropy", auto: "auto (by task)",
  momentum: "SGD + momentum", sgd: "SGD", adam: "Adam", adamw: "AdamW", l1: "L1", l2: "L2",
  "per-sample": "per sample" };

// Data sets whose points have one input (the plane plots the target against it).
const ONE_INPUT = new Set(["regression_1d"]);

function buildControls() {
  const { choices } = app.options;
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
      if (name === "dataset") fitFeatures();
      showSetup();
      sendSetup();
    });
  }
  for (const name of NUMBER_FIELDS) {
    const input = $(name);
    const rule = rules()[name];
    if (rule && input.type === "number") {
      input.min = rule[3] ? "" : rule[1];
      input.max = rule[2];
    }
    input.addEventListener("input", () => {
      if (input.type === "range") $(`${name}-out`).textContent = input.value;
      showFieldError(name, checkNumber(name, input.value));
    });
    input.addEventListener("change", () => {
      const reason = checkNumber(name, input.value);
      showFieldError(name, reason);
      if (reason) return;  // not sent: the setup in use stays as it was
      app.setup[name] = name === "epochs" && input.value === "" ? 0 : Number(input.value);
      showSetup();
      sendSetup();
    });
  }
  buildFeatures();
}

function buildFeatures() {
  const box = $("features");
  box.innerHTML = "";
  const names = featureChoices();
  $("features-box").hidden = names.length === 0;
  for (const name of names) {
    const label = document.createElement("label");
    label.className = "feature";
    label.innerHTML = `<input type="checkbox" value="${name}"> <span>${FEATURE_LABELS[name] || name}</span>`;
    label.querySelector("input").addEventListener("change", onFeatureChange);
    box.appendChild(label);
  }
}

function checkedFeatures() {
  return Array.from($("features").querySelectorAll("input:checked"), (i) => i.value);
}

function onFeatureChange() {
  const picked = checkedFeatures();
  const reason = checkFeatures(picked);
  showFieldError("features", reason);
  if (reason) return;
  const raw = ["x1", "x2"];
  // The raw inputs in their order are what `None` means: keep the URL short for them.
  app.setup.features = picked.length === 2 && picked.every((f, i) => f === raw[i]) ? null : picked;
  showSetup();
  sendSetup();
}

// Features need a generated data set with two inputs: others take the raw inputs only.
function fitFeatures() {
  if (app.setup.dataset === "csv" || ONE_INPUT.has(app.setup.dataset)) app.setup.features = null;
}

function featuresInUse() {
  if (Array.isArray(app.setup.features)) return app.setup.features;
  if (app.ready && Array.isArray(app.ready.features)) return app.ready.features;
  return ["x1", "x2"];
}

function showSetup() {
  const s = app.setup;
  for (const name of SELECT_FIELDS) if (s[name] !== undefined) $(name).value = s[name];
  for (const name of NUMBER_FIELDS) {
    if (s[name] === undefined) continue;
    $(name).value = name === "epochs" && !s[name] ? "" : s[name];
    showFieldError(name, null);
  }
  $("noise-out").textContent = s.noise;
  $("test-out").textContent = `${Math.round(100 * s.test)}%`;
  const csv = s.dataset === "csv";
  $("csv-box").hidden = !csv;
  $("noise").disabled = csv;
  $("samples").disabled = csv;
  const layers = Array.isArray(s.layers) ? s.layers : [];
  $("layer-count").textContent = `${layers.length} hidden layer${layers.length === 1 ? "" : "s"}`;
  $("add-layer").disabled = layers.length >= limit("layers_max", 6);
  $("remove-layer").disabled = layers.length === 0;
  // Feature boxes: what is in use; names with x2 only for a data set with two inputs.
  const inUse = featuresInUse();
  const fixed = csv || ONE_INPUT.has(s.dataset);
  for (const box of $("features").querySelectorAll("input")) {
    box.checked = inUse.includes(box.value) && !(fixed && box.value !== "x1");
    box.disabled = fixed;
  }
  showFieldError("features", null);
}

function changeLayers(fn) {
  const layers = Array.isArray(app.setup.layers) ? [...app.setup.layers] : [];
  fn(layers);
  if (checkLayers(layers)) return;  // the buttons are disabled at the limits; this is a guard
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
$("discretize").addEventListener("change", () => { if (app.frame) redraw(); });
$("log-loss").addEventListener("change", drawCharts);

$("csv-file").addEventListener("change", async () => {
  const file = $("csv-file").files[0];
  if (!file) return;
  $("csv-info").textContent = `uploading ${file.name}…`;
  const response = await fetch(`/api/csv?name=${encodeURIComponent(file.name)}`,
    { method: "POST", body: file });
  let answer;
  try { answer = await response.json(); } catch { answer = { error: `upload failed (${response.status})` }; }
  if (!response.ok) {
    $("csv-info").textContent = "";
    showMessage(answer.error);
    return;
  }
  $("csv-info").textContent = `${file.name}: ${answer.rows} rows, ${answer.features} ` +
    `feature${answer.features === 1 ? "" : "s"}, ${answer.task}`;
  Object.assign(app.setup, { dataset: "csv", csv: answer.id });
  fitFeatures();
  showSetup();
  sendSetup();
});

function setPlaying(playing) {
  app.playing = playing;
  $("play").innerHTML = playing ? `${PAUSE_ICON} pause` : `${PLAY_ICON} play`;
}

// -- ready: data and network --------------------------------------------------------------

function onReady(msg) {
  if (app.sticky > 0) app.sticky -= 1; else clearMessage();
  app.pendingSetup = false;
  app.ready = msg;
  app.setup = { ...msg.setup };
  app.good = { ...msg.setup };
  showSetup();
  writeUrl();
  if (msg.fresh) {
    app.rows = [];
    if (!sameData(msg)) app.selected = null;  // a reset keeps the data, so the point stays
    app.graphEpoch = null;
    if (!app.selected) {
      $("graph").innerHTML = "";
      $("graph-caption").textContent = "click a data point";
      $("graph-epoch").textContent = "";
      $("zoom-level").textContent = "";
    }
  }
  app.dataKey = dataKey(msg);
  $("epoch").textContent = msg.epoch;
  if (Array.isArray(msg.feature_choices) &&
      JSON.stringify(msg.feature_choices) !== JSON.stringify(app.options.feature_choices)) {
    app.options.feature_choices = msg.feature_choices;
    buildFeatures();
    showSetup();
  }
  // The ready's own status when it has one; a fresh model at epoch 0 has nothing behind it
  // either way: no "reached epoch N" may stay up.
  if (msg.status && !app.playing) showStatus({ ...msg, playing: false });
  else if (msg.fresh && !app.playing) setStatus("idle", "ready: press play or step");
  buildNetwork();
  // A new model on the same data: the open graph is redrawn for the new network.
  if (msg.fresh && app.selected && !app.graphPending && $("graph").querySelector("svg")) {
    requestGraph(true);
  }
}

function dataKey(msg) { return JSON.stringify([msg.dataset, msg.train.x.length, msg.train.x[0]]); }
function sameData(msg) { return app.dataKey === dataKey(msg); }

// How many raw inputs the points have (1: the plane plots the target against x1).
function rawInputs() { return app.ready.inputs; }

// What the network reads, in order: the input features in use, or the raw inputs x1, x2.
function inputNames() { return app.ready.features; }

function buildNetwork() {
  const box = $("network");
  box.innerHTML = "";
  const sizes = app.ready.sizes;
  const width = Math.max(box.clientWidth, 240);
  const columns = sizes.length;
  // The gap between columns decides everything else: narrow windows get smaller nodes and
  // headers that fit their column, so nothing overlaps even with 6 hidden layers.
  const spacing = (width - 20) / Math.max(1, columns - 1);
  const size = Math.max(18, Math.min(34, Math.floor(spacing * 0.55)));
  const colX = (i) => 10 + (i * (width - 20 - size)) / Math.max(1, columns - 1);
  const step = (width - 20 - size) / Math.max(1, columns - 1);
  const headW = Math.min(size + 44, step - 2);
  const compact = headW < 64;
  const gap = size < 26 ? 6 : 10;
  const top = 44;
  const tallest = Math.max(...sizes);
  const height = top + tallest * (size + gap) + 10;
  box.style.height = `${height}px`;
  box.classList.toggle("compact", compact);
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "links");
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  box.appendChild(svg);
  app.nodes = [];
  app.links = [];
  const names = inputNames();
  const centres = sizes.map((n, i) => Array.from({ length: n }, (_, j) =>
    [colX(i), top + j * (size + gap)]));
  const drawnLines = [];
  const hits = [];
  for (let i = 1; i < sizes.length; i++) {
    const layerLinks = [];
    for (let j = 0; j < sizes[i]; j++) {
      const row = [];
      for (let k = 0; k < sizes[i - 1]; k++) {
        const [x0, y0] = centres[i - 1][k];
        const [x1, y1] = centres[i][j];
        const xa = x0 + size, ya = y0 + size / 2, xb = x1, yb = y1 + size / 2;
        const mid = (xa + xb) / 2;
        const d = `M${xa},${ya} C${mid},${ya} ${mid},${yb} ${xb},${yb}`;
        const line = document.createElementNS("http://www.w3.org/2000/svg", "path");
        line.setAttribute("d", d);
        line.setAttribute("fill", "none");
        line.setAttribute("class", "link");
        // A wide invisible twin takes the pointer: thin links are hard to hover.
        const hit = document.createElementNS("http://www.w3.org/2000/svg", "path");
        hit.setAttribute("d", d);
        hit.setAttribute("class", "link-hit");
        const from = i === 1 ? names[k] : `L${i - 1}.N${k + 1}`;
        const to = i === sizes.length - 1 ? `output${sizes[i] > 1 ? ` ${j + 1}` : ""}` : `L${i}.N${j + 1}`;
        hit.dataset.name = `${from} → ${to}`;
        hit.dataset.layer = i - 1;
        hit.dataset.neuron = j;
        hit.dataset.input = k;
        hit.addEventListener("mouseenter", (e) => showWeight(hit, line, e));
        hit.addEventListener("mousemove", (e) => moveTooltip(e));
        hit.addEventListener("mouseleave", hideTooltip);
        drawnLines.push(line);
        hits.push(hit);
        row.push(line);
      }
      layerLinks.push(row);
    }
    app.links.push(layerLinks);
  }
  for (const line of drawnLines) svg.appendChild(line);
  for (const hit of hits) svg.appendChild(hit);
  sizes.forEach((n, i) => {
    const hidden = i > 0 && i < sizes.length - 1;
    const column = [];
    for (let j = 0; j < n; j++) {
      const node = document.createElement("div");
      node.className = "node" + (hidden ? " neuron" : i === 0 ? " input" : " output");
      const [x, y] = centres[i][j];
      Object.assign(node.style, { left: `${x}px`, top: `${y}px`, width: `${size}px`, height: `${size}px` });
      if (i === 0) {
        const name = names[j] || `x${j + 1}`;
        node.textContent = FEATURE_LABELS[name] || name;
        node.title = `input ${name}`;
        if (node.textContent.length > 3) node.classList.add("long");
      } else {
        const canvas = document.createElement("canvas");
        canvas.width = 20;
        canvas.height = 20;
        node.appendChild(canvas);
        node.dataset.name = hidden ? `layer ${i}, neuron ${j + 1}` : `output${n > 1 ? ` ${j + 1}` : ""}`;
        node.setAttribute("aria-label", node.dataset.name);
        node.addEventListener("mouseenter", () => showZoom(node));
        node.addEventListener("mouseleave", hideZoom);
      }
      box.appendChild(node);
      column.push(node);
    }
    app.nodes.push(column);
    const head = document.createElement("div");
    head.className = "layer-head";
    Object.assign(head.style, { left: `${colX(i) + size / 2 - headW / 2}px`, top: "0px", width: `${headW}px` });
    if (hidden) {
      const words = compact ? `${n}` : `${n} neuron${n === 1 ? "" : "s"}`;
      head.innerHTML = `<span title="${n} neuron${n === 1 ? "" : "s"}">${words}</span><span class="buttons">` +
        `<button type="button" class="neuron-minus" aria-label="fewer neurons in layer ${i}">&minus;</button>` +
        `<button type="button" class="neuron-plus" aria-label="more neurons in layer ${i}">+</button></span>`;
      const minus = head.querySelector(".neuron-minus");
      const plus = head.querySelector(".neuron-plus");
      minus.disabled = n <= 1;
      plus.disabled = n >= limit("neurons_max", 16);
      minus.addEventListener("click", () => changeLayers((l) => { l[i - 1] -= 1; }));
      plus.addEventListener("click", () => changeLayers((l) => { l[i - 1] += 1; }));
    } else {
      head.innerHTML = `<span>${i === 0 ? "input" : "output"}</span>`;
    }
    box.appendChild(head);
  });
}

// -- hovering: a link's weight, a neuron's picture enlarged ------------------------------------

function moveTooltip(e) {
  const tip = $("tooltip");
  const x = Math.min(e.clientX + 12, window.innerWidth - tip.offsetWidth - 4);
  tip.style.left = `${Math.max(4, x)}px`;
  tip.style.top = `${e.clientY + 14}px`;
}

function showWeight(hit, line, e) {
  const w = line.dataset.weight;
  const tip = $("tooltip");
  tip.textContent = `weight ${hit.dataset.name}: ${w === undefined || w === "null" ? "–" : fmt(Number(w), 4)}`;
  tip.hidden = false;
  line.classList.add("hover");
  hit.onmouseleave = () => line.classList.remove("hover");
  moveTooltip(e);
}

function hideTooltip() { $("tooltip").hidden = true; }

function showZoom(node) {
  app.hoverNode = node;
  const card = $("zoom-card");
  $("zoom-caption").textContent = node.dataset.name;
  card.hidden = false;
  const r = node.getBoundingClientRect();
  const w = card.offsetWidth, h = card.offsetHeight;
  let left = r.right + 8;
  if (left + w > window.innerWidth - 4) left = r.left - w - 8;
  card.style.left = `${Math.max(4, left)}px`;
  card.style.top = `${Math.max(4, Math.min(r.top, window.innerHeight - h - 4))}px`;
  drawZoom();
}

function hideZoom() {
  app.hoverNode = null;
  $("zoom-card").hidden = true;
}

function drawZoom() {
  const node = app.hoverNode;
  if (!node || !node.isConnected) { hideZoom(); return; }
  const small = node.querySelector("canvas");
  const big = $("zoom-canvas");
  const ctx = sharpen(big, 160, 160);
  ctx.imageSmoothingEnabled = true;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, 160, 160);
  ctx.drawImage(small, 0, 0, 160, 160);
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
  if (canvas.width !== n) canvas.width = n;
  if (canvas.height !== n) canvas.height = n;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(n, n);
  for (let i = 0; i < n * n; i++) {
    const [r, g, b] = colourAt(i);
    image.data[4 * i] = r;
    image.data[4 * i + 1] = g;
    image.data[4 * i + 2] = b;
    image.data[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

// A canvas the size it is laid out at, in device pixels (crisp on high-DPI screens); the
// context draws in CSS pixels. It is resized only when its layout size changes.
function sharpen(canvas, width, height) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.round(width * dpr), h = Math.round(height * dpr);
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

function drawCurveIn(canvas, values, lo, hi) {
  canvas.width = 40;
  canvas.height = 40;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, 40, 40);
  ctx.strokeStyle = "#333";
  ctx.lineWidth = 2;
  ctx.beginPath();
  let started = false;
  values.forEach((v, i) => {
    if (v === null || v === undefined) return;
    const x = (i / Math.max(1, values.length - 1)) * 40;
    const y = 38 - ((v - lo) / (hi - lo || 1)) * 36;
    if (!started) { ctx.moveTo(x, y); started = true; } else ctx.lineTo(x, y);
  });
  ctx.stroke();
}

function onFrame(msg) {
  app.frame = msg;
  app.framesDrawn = (app.framesDrawn || 0) + 1;  // tests measure the page's frame rate
  $("epoch").textContent = msg.epoch;
  for (const row of msg.rows) app.rows.push(row);
  if (app.rows.length > MAX_CURVE) app.rows = app.rows.filter((_, i) => i % 2 === 0 || i === app.rows.length - 1);
  redraw();
  drawMetrics();
  drawCharts();
  if (app.playing) refreshGraph(false);
}

function redraw() {
  drawPlane();
  drawNeurons(app.frame);
  drawLinks(app.frame.weights);
  if (app.hoverNode) drawZoom();
}

function discretize() { return $("discretize").checked; }

function outputColour(output) {
  const sharp = discretize();
  if (output.kind === "binary") {
    const v = bytes(output.values);
    return sharp ? (i) => (v[i] < 128 ? NEG : POS) : (i) => diverging(v[i] / 127.5 - 1);
  }
  if (output.kind === "multiclass") {
    const cls = bytes(output.classes);
    const conf = bytes(output.confidence);
    const k = app.ready.n_classes;
    return sharp
      ? (i) => mix(WHITE, PALETTE[cls[i] % PALETTE.length], 0.75)
      : (i) => mix(WHITE, PALETTE[cls[i] % PALETTE.length],
        Math.max(0, (conf[i] / 255 - 1 / k) / (1 - 1 / k)) * 0.75);
  }
  const v = bytes(output.values);
  // Discretized regression: 8 bands of the target's range, as a contour map reads.
  return sharp
    ? (i) => diverging((Math.floor(v[i] / 32) + 0.5) / 4 - 1)
    : (i) => diverging(v[i] / 127.5 - 1);
}

function pointColour(label) {
  if (app.ready.task === "regression") {
    const [lo, hi] = app.ready.target_range;
    return diverging((2 * (label - lo)) / (hi - lo || 1) - 1);
  }
  return PALETTE[label % PALETTE.length];
}

// The plane's layout in CSS pixels: the picture, with room for axis ticks left and below.
const AXIS = { left: 34, top: 6, right: 8, bottom: 22 };

function planeBox() {
  const c = $("plane");
  const size = Math.max(120, c.clientWidth || 400);
  return { size, x: AXIS.left, y: AXIS.top, w: size - AXIS.left - AXIS.right,
    h: size - AXIS.top - AXIS.bottom };
}

function toCanvas(x, y) {
  const [x0, x1, y0, y1] = app.ready.bounds;
  const b = planeBox();
  return [b.x + ((x - x0) / (x1 - x0)) * b.w, b.y + ((y1 - y) / (y1 - y0)) * b.h];
}

function pointXY(split, i) {
  const pts = app.ready[split];
  const x = pts.x[i];
  return rawInputs() === 1 ? [x[0], pts.y[i]] : [x[0], x[1]];
}

// Where on the screen a data point is drawn (tests click there).
function pointOnScreen(split, i) {
  const [x, y] = toCanvas(...pointXY(split, i));
  const r = $("plane").getBoundingClientRect();
  return [r.left + x, r.top + y];
}

// About `count` round numbers spanning [lo, hi].
function niceTicks(lo, hi, count) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return out;
}

function tickText(t) {
  const a = Math.abs(t);
  if (a !== 0 && (a >= 1e4 || a < 1e-3)) return t.toExponential(0);
  return String(Number(t.toPrecision(3)));
}

function drawPlane() {
  if (!app.ready) return;
  const canvas = $("plane");
  const b = planeBox();
  const ctx = sharpen(canvas, b.size, b.size);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, b.size, b.size);
  const output = app.frame && app.frame.output;
  ctx.save();
  ctx.beginPath();
  ctx.rect(b.x, b.y, b.w, b.h);
  ctx.clip();
  if (output && output.kind === "curve") {
    const [x0, x1] = app.ready.bounds;
    ctx.strokeStyle = "#222";
    ctx.lineWidth = 2.5;
    ctx.beginPath();
    let started = false;
    output.values.forEach((v, i) => {
      if (v === null || v === undefined) return;
      const [px, py] = toCanvas(x0 + ((x1 - x0) * i) / (output.values.length - 1), v);
      if (!started) { ctx.moveTo(px, py); started = true; } else ctx.lineTo(px, py);
    });
    ctx.stroke();
  } else if (output) {
    const off = app.offscreen || (app.offscreen = document.createElement("canvas"));
    paint(off, app.frame.grid, outputColour(output));
    ctx.imageSmoothingEnabled = !discretize();
    ctx.drawImage(off, b.x, b.y, b.w, b.h);
  }
  const splits = $("show-test").checked ? ["train", "test"] : ["train"];
  for (const split of splits) {
    const pts = app.ready[split];
    for (let i = 0; i < pts.y.length; i++) {
      const [px, py] = toCanvas(...pointXY(split, i));
      const [r, g, bl] = pointColour(pts.y[i]);
      ctx.beginPath();
      ctx.arc(px, py, 4, 0, 2 * Math.PI);
      ctx.fillStyle = `rgb(${r},${g},${bl})`;
      ctx.fill();
      ctx.lineWidth = 1;
      // A regression's points near the middle value are white: a grey rim keeps them seen.
      ctx.strokeStyle = split === "test" ? "#000" : app.ready.task === "regression" ? "#888" : "#fff";
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
  ctx.restore();
  drawPlaneAxes(ctx, b);
}

function drawPlaneAxes(ctx, b) {
  const [x0, x1, y0, y1] = app.ready.bounds;
  ctx.strokeStyle = "#999";
  ctx.lineWidth = 1;
  ctx.strokeRect(b.x + 0.5, b.y + 0.5, b.w - 1, b.h - 1);
  ctx.fillStyle = "#555";
  ctx.font = "10px sans-serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const t of niceTicks(x0, x1, Math.max(3, Math.floor(b.w / 60)))) {
    const [px] = toCanvas(t, y0);
    ctx.beginPath(); ctx.moveTo(px, b.y + b.h); ctx.lineTo(px, b.y + b.h + 4); ctx.stroke();
    ctx.fillText(tickText(t), px, b.y + b.h + 6);
  }
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const t of niceTicks(y0, y1, Math.max(3, Math.floor(b.h / 50)))) {
    const [, py] = toCanvas(x0, t);
    ctx.beginPath(); ctx.moveTo(b.x - 4, py); ctx.lineTo(b.x, py); ctx.stroke();
    ctx.fillText(tickText(t), b.x - 6, py);
  }
  ctx.textAlign = "left";
  ctx.textBaseline = "alphabetic";
  ctx.fillText(rawInputs() === 1 ? "y" : "x₂", 2, b.y + 8);
  ctx.textAlign = "right";
  ctx.fillText("x₁", b.size - 2, b.size - 2);
  ctx.textAlign = "left";
}

function drawNeurons(msg) {
  const oneD = rawInputs() === 1;
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
  if (!out) return;
  for (const node of out) {
    const canvas = node.querySelector("canvas");
    if (!canvas) continue;
    if (msg.output.kind === "curve") {
      // The 1-D regression's output is its curve over x (the plane's y range).
      const [, , y0, y1] = app.ready.bounds;
      drawCurveIn(canvas, msg.output.values, y0, y1);
    } else {
      const b = planeBox();
      const dpr = window.devicePixelRatio || 1;
      canvas.width = 40;
      canvas.height = 40;
      canvas.getContext("2d").drawImage($("plane"), b.x * dpr, b.y * dpr, b.w * dpr, b.h * dpr, 0, 0, 40, 40);
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
  return v === null || v === undefined || Number.isNaN(v) ? "–" : Number(v).toPrecision(digits);
}

function metricName() { return app.ready.task === "regression" ? "rmse" : "accuracy"; }

function drawMetrics() {
  const row = app.rows[app.rows.length - 1];
  if (!row) {
    $("metrics").innerHTML = `epoch ${app.frame ? app.frame.epoch : 0} · loss <b>${app.ready.loss}</b> · press play or step`;
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

// A chart: title and legend in a band above the plot (the curve never runs through them),
// value ticks on the left, epoch ticks below; `log` plots log10 of the values.
function drawChart(canvas, keys, title, fixedRange, log) {
  const W = Math.max(160, canvas.clientWidth || 400), H = 150;
  const ctx = sharpen(canvas, W, H);
  const plot = { x: 44, y: 20, w: W - 44 - 10, h: H - 20 - 22 };
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, W, H);
  ctx.font = "11px sans-serif";
  ctx.fillStyle = "#555";
  ctx.textBaseline = "alphabetic";
  ctx.textAlign = "left";
  ctx.fillText(title + (log ? " · log scale" : ""), 4, 12);
  ctx.textAlign = "right";
  ctx.fillStyle = "#d07a12";
  ctx.fillText("- - test", W - 4, 12);
  ctx.fillStyle = "#183d4e";
  ctx.fillText("— train", W - 56, 12);
  ctx.strokeStyle = "#bbb";
  ctx.lineWidth = 1;
  ctx.strokeRect(plot.x + 0.5, plot.y + 0.5, plot.w - 1, plot.h - 1);
  const rows = app.rows;
  if (rows.length < 1) return;
  const tf = (v) => (log ? Math.log10(Math.max(v, 1e-12)) : v);
  let lo = Infinity, hi = -Infinity;
  for (const r of rows) for (const k of keys) {
    const v = r[k];
    if (v === undefined || v === null || (log && v <= 0)) continue;
    lo = Math.min(lo, tf(v));
    hi = Math.max(hi, tf(v));
  }
  if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
  if (!log) lo = Math.min(0, lo);
  if (fixedRange && !log) [lo, hi] = fixedRange;
  if (!(hi > lo)) hi = lo + 1;
  if (log) { lo = Math.floor(lo); hi = Math.max(Math.ceil(hi), lo + 1); }
  const e0 = rows[0].epoch, e1 = Math.max(rows[rows.length - 1].epoch, e0 + 1);
  const px = (e) => plot.x + ((e - e0) / (e1 - e0)) * plot.w;
  const py = (v) => plot.y + plot.h - ((v - lo) / (hi - lo)) * plot.h;
  ctx.fillStyle = "#555";
  ctx.font = "10px sans-serif";
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  const yTicks = log ? Array.from({ length: hi - lo + 1 }, (_, i) => lo + i).filter((_, i, a) => a.length <= 5 || i % Math.ceil(a.length / 5) === 0)
    : niceTicks(lo, hi, 3);
  for (const t of yTicks) {
    const y = py(t);
    ctx.strokeStyle = "#eee";
    ctx.beginPath(); ctx.moveTo(plot.x, y); ctx.lineTo(plot.x + plot.w, y); ctx.stroke();
    ctx.fillText(log ? `1e${t}` : tickText(t), plot.x - 4, y);
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const t of niceTicks(e0, e1, Math.max(2, Math.floor(plot.w / 70)))) {
    if (!Number.isInteger(t)) continue;
    const x = px(t);
    ctx.strokeStyle = "#999";
    ctx.beginPath(); ctx.moveTo(x, plot.y + plot.h); ctx.lineTo(x, plot.y + plot.h + 3); ctx.stroke();
    ctx.fillText(String(t), x, plot.y + plot.h + 5);
  }
  ctx.save();
  ctx.beginPath();
  ctx.rect(plot.x, plot.y, plot.w, plot.h);
  ctx.clip();
  keys.forEach((k, idx) => {
    ctx.strokeStyle = idx === 0 ? "#183d4e" : "#d07a12";
    ctx.setLineDash(idx === 0 ? [] : [4, 3]);
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    let started = false;
    for (const r of rows) {
      const v = r[k];
      if (v === undefined || v === null || (log && v <= 0)) continue;
      const x = px(r.epoch), y = py(tf(v));
      if (!started) { ctx.moveTo(x, y); started = true; } else ctx.lineTo(x, y);
    }
    ctx.stroke();
    ctx.setLineDash([]);
  });
  ctx.restore();
  ctx.textAlign = "left";
  ctx.textBaseline = "alphabetic";
}

function drawCharts() {
  if (!app.ready) return;
  drawChart($("loss-chart"), ["loss", "test_loss"], `loss (${app.ready.loss})`, null, $("log-loss").checked);
  const m = metricName();
  drawChart($("metric-chart"), [m, "test_" + m], m, m === "accuracy" ? [0, 1] : null, false);
}

// -- clicking a point: its computation graph ------------------------------------------------

$("plane").addEventListener("click", (event) => {
  if (!app.ready) return;
  const rect = $("plane").getBoundingClientRect();
  const cx = event.clientX - rect.left;
  const cy = event.clientY - rect.top;
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
  $("graph-caption").textContent = `drawing ${best.split} point ${best.index + 1}…`;
  requestGraph(false);
  // The graph may be below the fold (on a narrow screen ~2,000 px below the plane): scroll
  // just enough to show all of its view, so tapping a point visibly does something.
  const view = $("graph").getBoundingClientRect();
  if (view.bottom > window.innerHeight || view.top < 0) $("graph").scrollIntoView({ block: "nearest" });
});

function requestGraph(refresh) {
  if (!app.selected) return;
  app.graphPending = true;
  app.graphRefresh = refresh;
  app.graphAt = performance.now();
  send({ type: "graph", split: app.selected.split, index: app.selected.index });
}

function graphVisible() {
  const r = $("graph").getBoundingClientRect();
  return r.bottom > 0 && r.top < window.innerHeight && r.width > 0;
}

// Re-ask for the open graph while training: at most once a second, one request at a time,
// only while it is on screen; `final` asks once more when training stops.
function refreshGraph(final) {
  if (!app.selected || app.graphPending || !$("graph").querySelector("svg")) return;
  const epoch = app.frame ? app.frame.epoch : null;
  if (final) {
    if (app.graphEpoch !== epoch) requestGraph(true);
    return;
  }
  if (performance.now() - app.graphAt < GRAPH_REFRESH_MS || !graphVisible()) return;
  if (app.graphEpoch !== epoch) requestGraph(true);
}

function onGraph(msg) {
  app.graphPending = false;
  const refresh = app.graphRefresh && $("graph").querySelector("svg");
  const epoch = msg.epoch ?? (app.frame ? app.frame.epoch : 0);
  app.graphEpoch = epoch;
  const xs = msg.x.map((v) => fmt(v, 3)).join(", ");
  const classes = app.ready.task !== "regression";
  const target = classes ? `class ${msg.target}` : `target ${fmt(msg.target, 3)}`;
  const as = classes && msg.loss_target !== msg.target ? ` (${msg.loss_name} target ${msg.loss_target})` : "";
  $("graph-caption").textContent = `${msg.split} point ${msg.index + 1}: ` +
    `x = (${xs}), ${target}${as}, ` +
    `output ${msg.outputs.map((v) => fmt(v, 3)).join(", ")}, ${msg.loss_name} loss ` +
    `${fmt(msg.loss)} · ${msg.values} values, each with its data and the loss's grad`;
  $("graph-epoch").textContent = `weights of epoch ${epoch}`;
  if (msg.neuron_program) {  // the backprop view, on this point's output neuron
    const step = document.createElement("a");
    step.className = "step-neuron";
    step.target = "_blank";
    step.rel = "noopener";
    step.href = "/backprop?program=" + encodeURIComponent(msg.neuron_program);
    step.textContent = "step through the output neuron";
    $("graph-caption").append(" · ", step);
  }
  const view = $("graph");
  const left = view.scrollLeft, topScroll = view.scrollTop;
  view.innerHTML = msg.svg;
  if (refresh) {
    // The same point, newer weights: keep the reader's zoom and place.
    zoomGraph(1);
    view.scrollLeft = left;
    view.scrollTop = topScroll;
    return;
  }
  app.graphZoom = 1;
  zoomGraph(1);
  // Start at the output neuron: its weights and inputs on the left, the loss on the right.
  const texts = Array.from(view.querySelectorAll("text"));
  const anchor = texts.find((t) => t.textContent === "out" || /^out\d+$/.test(t.textContent)) ||
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
  const view = $("graph");
  const [, , w, h] = svg.getAttribute("viewBox").split(" ").map(Number);
  // Keep the middle of what is on screen in the middle after zooming.
  const oldW = Number(svg.getAttribute("width")) || w, oldH = Number(svg.getAttribute("height")) || h;
  const fx = (view.scrollLeft + view.clientWidth / 2) / oldW;
  const fy = (view.scrollTop + view.clientHeight / 2) / oldH;
  if (factor === "fit") {
    // Fit the width, but never below a readable scale: past it the view scrolls.
    app.graphZoom = Math.max(MIN_GRAPH_ZOOM, Math.min(1, (view.clientWidth - 4) / w));
  } else {
    app.graphZoom = Math.max(0.1, Math.min(4, app.graphZoom * factor));
  }
  svg.setAttribute("width", (w * app.graphZoom).toFixed(0));
  svg.setAttribute("height", (h * app.graphZoom).toFixed(0));
  if (factor !== 1) {
    view.scrollLeft = fx * w * app.graphZoom - view.clientWidth / 2;
    view.scrollTop = fy * h * app.graphZoom - view.clientHeight / 2;
  }
  $("zoom-level").textContent = `${Math.round(100 * app.graphZoom)}%`;
}

$("zoom-in").addEventListener("click", () => zoomGraph(1.25));
$("zoom-out").addEventListener("click", () => zoomGraph(0.8));
$("zoom-fit").addEventListener("click", () => zoomGraph("fit"));
let resizing = null;
window.addEventListener("resize", () => {
  clearTimeout(resizing);
  resizing = setTimeout(() => {
    if (!app.ready) return;
    buildNetwork();
    if (app.frame) { redraw(); drawCharts(); }
  }, 50);
});

setPlaying(false);
connect();
