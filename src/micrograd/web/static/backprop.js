// The backprop view: the server runs the program with micrograd's engine (POST /api/backprop)
// and sends every step; this page shows them one at a time. Forward fills each node's data in
// topological order; backward seeds the output's grad with 1, then runs one node's rule per
// step, each child's grad before and after, the rule written out with its numbers.
"use strict";

const BOX_W = 150, BOX_H = 60, OP_R = 15, COL_W = 230, ROW_H = 76, PAD = 24;
const state = { trace: null, forward: 0, backward: 0, history: [], timer: null };
const $ = (id) => document.getElementById(id);

function fmt(x) {
  if (typeof x === "string") return x;          // "inf", "nan": the engine's own answer
  if (x === null || x === undefined) return "";
  return Number.isInteger(x) && Math.abs(x) < 1e6 ? x.toFixed(1) : x.toPrecision(5).replace(/\.?0+(e|$)/, "$1");
}

function fromUrl() {
  const p = new URLSearchParams(location.search).get("program");
  if (p) $("program").value = p;
}

async function build(program) {
  stop();
  $("error").hidden = true;
  let answer;
  try {
    const response = await fetch("/api/backprop", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ program }),
    });
    answer = await response.json();
  } catch (e) {
    return showError(`could not reach the playground: ${e}`);
  }
  if (answer.error) return showError(answer.error);
  const url = new URL(location.href);
  url.searchParams.set("program", program);
  history.replaceState(null, "", url);
  state.trace = answer;
  state.forward = 0;
  state.backward = 0;
  state.history = [];
  $("naive-box").hidden = true;
  layout();
  render();
}

function showError(text) {
  $("error").textContent = text;
  $("error").hidden = false;
}

// -- layout: columns by depth (leaves left, the output right), one row per node ----------------

function layout() {
  const nodes = state.trace.nodes;
  const depth = [];
  for (const n of nodes) depth[n.id] = n.children.length ? 1 + Math.max(...n.children.map((c) => depth[c])) : 0;
  const rows = [];
  for (const n of nodes) {
    const d = depth[n.id];
    rows[d] = (rows[d] || 0) + 1;
    n.x = PAD + d * COL_W + (d ? 2 * OP_R + 20 : 0);
    n.y = PAD + (rows[d] - 1) * ROW_H;
  }
  const svg = $("graph");
  const width = PAD * 2 + (Math.max(...depth) + 1) * COL_W;
  const height = PAD * 2 + Math.max(...rows.filter(Boolean)) * ROW_H;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
}

function el(name, attrs, text) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// -- what every node shows after the steps taken so far -----------------------------------------

function current() {
  const t = state.trace;
  const grads = t.nodes.map(() => 0);
  let step = null;
  for (let i = 0; i < state.backward; i++) {
    step = t.backward[i];
    if (step.seed) grads[step.node] = step.grad;
    for (const u of step.updates) grads[u.child] = u.after;
  }
  return { grads, step };
}

function render() {
  const t = state.trace;
  const { grads, step } = current();
  const svg = $("graph");
  svg.replaceChildren();
  const lit = new Set(), kids = new Set();
  if (step) {
    lit.add(step.node);
    for (const u of step.updates) kids.add(u.child);
  } else if (state.forward > 0 && state.forward <= t.nodes.length && state.backward === 0) {
    lit.add(t.forward[state.forward - 1]);
  }
  for (const n of t.nodes) {
    if (!n.children.length) continue;
    const ox = n.x - 20 - OP_R, oy = n.y + BOX_H / 2;
    const drawn = new Map();  // a child used twice (b + b) gets two edges, side by side
    for (const c of n.children) {
      const m = t.nodes[c];
      const k = drawn.get(c) || 0;
      drawn.set(c, k + 1);
      const y0 = m.y + BOX_H / 2 + 8 * k, y1 = oy + 5 * k;
      svg.append(el("path", { d: `M${m.x + BOX_W} ${y0} C${m.x + BOX_W + 40} ${y0} ${ox - OP_R - 40} ${y1} ${ox - OP_R + 2} ${y1}`, class: "edge" + (lit.has(n.id) && kids.has(c) ? " hot" : "") }));
    }
    svg.append(el("line", { x1: ox + OP_R, y1: oy, x2: n.x, y2: oy, class: "edge" }));
    svg.append(el("circle", { cx: ox, cy: oy, r: OP_R, class: "op" + (lit.has(n.id) ? " hot" : "") }));
    svg.append(el("text", { x: ox, y: oy + 4, class: "op-text" }, n.op.length > 5 ? n.op.slice(0, 5) : n.op));
  }
  const known = new Set(t.forward.slice(0, state.forward));
  for (const n of t.nodes) {
    const g = el("g", {
      class: "node" + (lit.has(n.id) ? " hot" : kids.has(n.id) ? " child" : ""),
      "data-id": n.id, "data-label": n.label,
      "data-data": known.has(n.id) ? String(n.data) : "", "data-grad": String(grads[n.id]),
    });
    g.append(el("rect", { x: n.x, y: n.y, width: BOX_W, height: BOX_H, rx: 4 }));
    g.append(el("text", { x: n.x + 8, y: n.y + 18, class: "label" }, n.label || fmt(n.data)));
    g.append(el("text", { x: n.x + 8, y: n.y + 35, class: "data" }, known.has(n.id) ? `data ${fmt(n.data)}` : "data ?"));
    g.append(el("text", { x: n.x + 8, y: n.y + 52, class: "grad" }, `grad ${fmt(grads[n.id])}`));
    svg.append(g);
  }
  explain(step, grads);
  leaves(grads);
  buttons();
}

function explain(step, grads) {
  const t = state.trace;
  const updates = $("updates");
  updates.replaceChildren();
  $("rule").textContent = "";
  if (state.backward === 0) {
    $("stage").textContent = state.forward === 0
      ? "forward: fill in each node's data, children first"
      : state.forward < t.nodes.length
        ? `forward: ${state.forward} of ${t.nodes.length} nodes have their data`
        : "forward done: every node has its data. Now backward, from the output.";
    return;
  }
  const name = (id) => t.nodes[id].label || fmt(t.nodes[id].data);
  if (step.seed) {
    $("stage").textContent = `backward: ${name(step.node)}.grad = 1 (d${name(step.node)}/d${name(step.node)} = 1)`;
    return;
  }
  $("stage").textContent = `backward, step ${state.backward} of ${t.backward.length}: ${name(step.node)} passes its grad ${fmt(step.grad)} to its children`;
  $("rule").textContent = step.rule;
  for (const u of step.updates) {
    const li = document.createElement("li");
    li.className = u.again ? "again" : "";
    li.textContent = `${u.text.replace(" x ", " × ")}  →  ${fmt(u.after)}` + (u.again ? `   (used again: ${fmt(u.before)} + ${fmt(u.after - u.before)})` : "");
    updates.append(li);
  }
}

function leaves(grads) {
  const t = state.trace;
  const body = $("leaves").querySelector("tbody");
  body.replaceChildren();
  const done = state.backward === t.backward.length;
  for (const n of t.nodes) {
    if (n.children.length || !(String(n.id) in t.finite_differences)) continue;
    const tr = document.createElement("tr");
    tr.dataset.label = n.label;
    for (const text of [n.label, fmt(n.data), fmt(grads[n.id]), fmt(t.finite_differences[String(n.id)])]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    tr.className = done ? "done" : "";
    body.append(tr);
  }
}

function buttons() {
  const t = state.trace;
  $("forward").disabled = !t || state.forward >= t.nodes.length;
  $("backward").disabled = !t || state.backward >= t.backward.length;
  $("back").disabled = !t || state.history.length === 0;
  $("reset").disabled = !t || state.backward === 0;
  $("play").disabled = !t || state.backward >= t.backward.length;
}

// -- stepping ---------------------------------------------------------------------------------

function forward() {
  const t = state.trace;
  if (!t || state.forward >= t.nodes.length) return false;
  state.history.push(["forward"]);
  state.forward++;
  render();
  return true;
}

function backward() {
  const t = state.trace;
  if (!t || state.backward >= t.backward.length) return false;
  if (state.forward < t.nodes.length) {  // backward needs every node's data: finish forward
    while (state.forward < t.nodes.length) { state.history.push(["forward"]); state.forward++; }
  }
  state.history.push(["backward"]);
  state.backward++;
  render();
  return true;
}

function stepBack() {
  const last = state.history.pop();
  if (!last) return;
  state[last[0]]--;
  render();
}

function resetGrads() {
  state.backward = 0;
  state.history = state.history.filter((h) => h[0] !== "backward");
  render();
}

function stop() {
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
  $("play-label").textContent = "play";
  $("play-icon").setAttribute("d", "M2 1 L9 5 L2 9 Z");
}

function play() {
  if (state.timer) return stop();
  $("play-label").textContent = "pause";
  $("play-icon").setAttribute("d", "M2 1 H4 V9 H2 Z M6 1 H8 V9 H6 Z");
  const delay = 1100 - 100 * Number($("speed").value);
  state.timer = setInterval(() => { if (!forward() && !backward()) stop(); }, delay);
}

function showNaive() {
  const t = state.trace;
  if (!t) return;
  const body = $("naive-table").querySelector("tbody");
  body.replaceChildren();
  for (const n of t.nodes) {
    if (n.children.length) continue;
    const tr = document.createElement("tr");
    tr.dataset.label = n.label;
    const wrong = t.naive.grads[n.id] !== t.grads[n.id];
    for (const [text, cls] of [[n.label || fmt(n.data), ""], [fmt(t.naive.grads[n.id]), wrong ? "wrong" : ""], [fmt(t.grads[n.id]), ""]]) {
      const td = document.createElement("td");
      td.textContent = text;
      td.className = cls;
      tr.append(td);
    }
    body.append(tr);
  }
  const names = t.naive.visits.map((id) => t.nodes[id].label || fmt(t.nodes[id].data));
  $("naive-visits").textContent = `order of _backward() calls: ${names.join(" → ")}`;
  $("naive-box").hidden = false;
  $("naive-box").scrollIntoView({ block: "nearest" });
}

// -- wiring -----------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  fromUrl();
  $("program-form").addEventListener("submit", (e) => { e.preventDefault(); build($("program").value); });
  for (const b of document.querySelectorAll("#examples button")) {
    b.addEventListener("click", () => { $("program").value = b.dataset.program; build(b.dataset.program); });
  }
  $("forward").addEventListener("click", forward);
  $("backward").addEventListener("click", backward);
  $("back").addEventListener("click", stepBack);
  $("reset").addEventListener("click", resetGrads);
  $("play").addEventListener("click", play);
  $("naive").addEventListener("click", showNaive);
  document.addEventListener("keydown", (e) => {
    if (e.target instanceof HTMLInputElement) return;
    const keys = { f: forward, b: backward, r: resetGrads, ArrowLeft: stepBack, " ": play };
    if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
  });
  build($("program").value);
});
