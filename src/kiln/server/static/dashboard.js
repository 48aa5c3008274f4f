// Kiln dashboard: reads the REST API (/api/v1) and draws each campaign with plotly.js (served by this server).
// Live: every POLL_MS the campaign's event log is read from the last cursor; new events redraw the page.
"use strict";

const API = "/api/v1";
const POLL_MS = 2000;
const MODEL_EVERY_MS = 5000; // the model is refitted at most this often while results arrive
const ROWS_SHOWN = 50;
// The counts of GET /campaigns/{name} that split the experiments (kiln.core.counts.COUNTS), in the order shown.
const COUNTS = ["completed", "failed", "pending", "retracted", "discarded"];
const PLOT_CONFIG = { displaylogo: false, responsive: true };

const state = {
  token: sessionStorage.getItem("kiln-token") || "",
  writeToken: sessionStorage.getItem("kiln-write-token") || "", // for corrections, when the read token cannot write
  campaign: null, // name of the campaign on show
  info: null, // GET /campaigns/{name}
  front: null, // GET /campaigns/{name}/front (several targets only)
  experiments: [],
  cursor: 0,
  modelDrawnAt: 0,
  modelStale: true,
  busy: false,
  generation: 0, // grows at every route change; work begun for an older route is dropped
};

class Superseded extends Error {}

function stillCurrent(generation) {
  if (generation !== state.generation) throw new Superseded();
}

class NeedToken extends Error {}

async function api(path) {
  const headers = state.token ? { Authorization: `Bearer ${state.token}` } : {};
  const response = await fetch(API + path, { headers });
  if (response.status === 401 || response.status === 403) {
    const body = await response.json().catch(() => ({}));
    throw new NeedToken((body.detail && body.detail.message) || response.statusText);
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    const message = body.detail && body.detail.message ? body.detail.message : response.statusText;
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return response.json();
}

// ------------------------------------------------------------------------------------------------ page parts
function show(id) {
  for (const section of ["login", "campaigns-view", "campaign-view"]) {
    document.getElementById(section).hidden = section !== id;
  }
}

function setError(message) {
  const box = document.getElementById("error");
  box.textContent = message || "";
  box.hidden = !message;
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function fillTable(table, headings, rows) {
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const heading of headings) {
    const th = document.createElement("th");
    th.textContent = heading;
    head.appendChild(th);
  }
  const body = table.createTBody();
  if (rows.length === 0) {
    cell(body.insertRow(), "none").colSpan = headings.length;
    return;
  }
  for (const values of rows.slice(0, ROWS_SHOWN)) {
    const row = body.insertRow();
    values.forEach((value) => cell(row, value));
  }
  if (rows.length > ROWS_SHOWN) {
    cell(body.insertRow(), `and ${rows.length - ROWS_SHOWN} more`, "note").colSpan = headings.length;
  }
}

function paramsText(params) {
  return Object.entries(params)
    .map(([name, value]) => `${name}=${typeof value === "number" ? +value.toPrecision(4) : value}`)
    .join(", ");
}

// plotly renders a little HTML in labels and hover text: user text goes in as entities, so it shows as typed.
function plain(value) {
  if (typeof value !== "string") return value;
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function withUnit(name) {
  // An axis title: a parameter's or target's name with its unit, e.g. "temperature [°C]" (the campaign's units).
  const unit = (state.info && state.info.units && state.info.units[name]) || "";
  return plain(unit ? `${name} [${unit}]` : name);
}

const TOKEN_HELP =
  "Paste your access token (a long secret starting with kiln_). " +
  "Whoever runs the server makes one with: kiln token create YOUR-NAME --scope read";

function isoMinute(iso) {
  // A moment in ISO 8601 form, to the minute, in UTC (as the store and kiln list write it): "2026-12-01 10:14 UTC".
  if (!iso) return "";
  return `${new Date(iso).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function ago(iso) {
  // When, in ISO form, and how long ago: "2026-12-01 10:14 UTC (3 min ago)".
  if (!iso) return "";
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  let since = `${(seconds / 3600).toFixed(1)} h ago`;
  if (seconds < 90) since = `${Math.round(seconds)} s ago`;
  else if (seconds < 5400) since = `${Math.round(seconds / 60)} min ago`;
  return `${isoMinute(iso)} (${since})`;
}

function markLive() {
  const now = new Date().toISOString();
  document.getElementById("live").textContent = `live · updated ${now.slice(0, 10)} ${now.slice(11, 19)} UTC`;
}

// ------------------------------------------------------------------------------------------------ campaigns
async function drawCampaignList(generation = state.generation) {
  const campaigns = await api("/campaigns");
  stillCurrent(generation);
  const body = document.querySelector("#campaigns tbody");
  body.replaceChildren();
  const shown = campaigns.slice(0, ROWS_SHOWN);
  const infos = await Promise.all(
    shown.map((c) => api(`/campaigns/${encodeURIComponent(c.name)}?config=false`).catch((error) => ({ error: error.message }))),
  );
  stillCurrent(generation);
  shown.forEach((campaign, i) => {
    const info = infos[i];
    const row = body.insertRow();
    const link = document.createElement("a");
    link.href = `#/campaign/${encodeURIComponent(campaign.name)}`;
    link.textContent = campaign.name;
    row.insertCell().appendChild(link);
    cell(row, isoMinute(campaign.created_at));
    if (info.error) {
      cell(row, info.error, "error").colSpan = COUNTS.length + 1;
      return;
    }
    const counts = info.counts || {};
    COUNTS.forEach((key) => cell(row, String(counts[key] || 0)));
    if (info.front) cell(row, `${info.front.length} on the Pareto front`);
    else cell(row, info.best ? `${+info.best.results[info.target].toPrecision(6)} (${info.target}, #${info.best.seq})` : "");
  });
  if (campaigns.length > ROWS_SHOWN) {
    cell(body.insertRow(), `and ${campaigns.length - ROWS_SHOWN} more`, "note").colSpan = COUNTS.length + 3;
  }
  document.getElementById("no-campaigns").hidden = campaigns.length > 0;
  show("campaigns-view");
  markLive();
}

// ------------------------------------------------------------------------------------------------ one campaign
// The objective (GET /campaigns/{name}): targets (max, min, or a window [low, high]), outcome constraints, and the
// quantities a result carries (targets, then constrained quantities).
function targets() {
  return state.info.targets || [{ name: state.info.target, direction: state.info.direction }];
}

function constraints() {
  return state.info.constraints || [];
}

function quantities() {
  return state.info.quantities || targets().map((t) => t.name);
}

function several() {
  return targets().length > 1;
}

function directionOf(target) {
  return target.direction || (target.target ? "range" : "max");
}

// Larger is better, as kiln.objective.Target.score: the value, minus it, or minus the distance to the window.
function score(target, y) {
  const direction = directionOf(target);
  if (direction === "max") return y;
  if (direction === "min") return -y;
  const [low, high] = target.target;
  if (target.prefer === "centre") return -Math.abs(y - (low + high) / 2);
  return -(Math.max(low - y, 0) + Math.max(y - high, 0));
}

function breaks(e) {
  // The outcome constraints a result breaks (a constraint whose quantity has no value yet is not broken).
  return constraints().filter((c) => c.name in e.results && (c.op === ">=" ? e.results[c.name] < c.bound : e.results[c.name] > c.bound));
}

function goalText(target) {
  const direction = directionOf(target);
  if (direction === "range") {
    const [low, high] = target.target;
    return target.prefer === "centre" ? `${target.name} near ${(low + high) / 2} (${low} to ${high})` : `${target.name} in ${low} to ${high}`;
  }
  return `${direction === "min" ? "minimising" : "maximising"} ${target.name}`;
}

// The limits to draw on an axis showing quantity `name`: a constraint's bound, a range target's window.
function limitsOf(name) {
  const limits = constraints()
    .filter((c) => c.name === name)
    .map((c) => ({ value: c.bound, label: `${c.name} ${c.op} ${c.bound}` }));
  targets()
    .filter((t) => t.name === name && directionOf(t) === "range")
    .forEach((t) => t.target.forEach((value, i) => limits.push({ value, label: `${t.name} ${i ? "≤" : "≥"} ${value}` })));
  return limits;
}

const LIMIT_LINE = { color: "#d62728", width: 1.5, dash: "dash" };

function limitShapes(name, axis, along) {
  // Lines across a plot at the limits of `name`, on axis "x"/"y" (with its number, e.g. "y2"); along: the other.
  return limitsOf(name).map((limit) => ({
    type: "line",
    xref: axis.startsWith("x") ? axis : `${along} domain`,
    yref: axis.startsWith("y") ? axis : `${along} domain`,
    x0: axis.startsWith("x") ? limit.value : 0,
    x1: axis.startsWith("x") ? limit.value : 1,
    y0: axis.startsWith("y") ? limit.value : 0,
    y1: axis.startsWith("y") ? limit.value : 1,
    line: LIMIT_LINE,
    name: plain(limit.label),
  }));
}

// Current results only: a retracted experiment stays in the tables (struck through) but no plot or model uses it.
// With several quantities, a completed experiment has all of them (a partly measured one is still pending).
function completed() {
  const first = targets()[0].name;
  return state.experiments.filter((e) => e.status === "completed" && !e.retracted && first in e.results);
}

function measuredText(e) {
  // What a pending experiment has measured so far, and what it waits for: "yield=82; waiting for cost".
  const told = quantities().filter((q) => q in e.results);
  if (!told.length) return "";
  const missing = quantities().filter((q) => !(q in e.results));
  return `${told.map((q) => `${q}=${+e.results[q].toPrecision(6)}`).join(", ")}; waiting for ${missing.join(", ")}`;
}

function marks(e) {
  const words = [];
  if (e.amended) words.push(`amended ${e.amended}×`);
  if (e.retracted) words.push("retracted");
  return words.join(", ");
}

function drawSummary() {
  const info = state.info;
  const counts = info.counts;
  const parts = [
    ...COUNTS.filter((key, i) => i < 3 || counts[key]).map((key) => `${counts[key] || 0} ${key}`),
    ...(counts.amended ? [`${counts.amended} amended`] : []),
    targets().map(goalText).join(", ") +
      (constraints().length ? ` subject to ${constraints().map((c) => `${c.name} ${c.op} ${c.bound}`).join(", ")}` : ""),
  ];
  const partly = state.experiments.filter((e) => e.status === "pending" && measuredText(e));
  if (partly.length) parts.push(`${partly.length} partly measured`);
  if (info.run) parts.push(runText(info.run));
  if (info.front) parts.push(`${info.front.length} on the Pareto front`);
  if (info.best) {
    parts.push(`best ${info.best.results[info.target]} at #${info.best.seq} (${paramsText(info.best.params)})`);
  }
  const summary = document.getElementById("summary");
  summary.textContent = parts.join(" · ");
  summary.dataset.completed = String(counts.completed || 0);
  // how the model sees each categorical input or element composition, e.g. "ligand: descriptors ...: 208 features -> 6"
  const encodings = Object.entries(info.encodings || {});
  const line = document.getElementById("encodings");
  line.hidden = !encodings.length;
  line.textContent = encodings.length ? "Model inputs: " + encodings.map(([k, v]) => `${k}: ${v}`).join(" · ") : "";
}

// Who holds the run lease (a kiln run driving the campaign), from GET /campaigns/{name}'s "run".
function runText(run) {
  const since = `${run.since.slice(0, 16).replace("T", " ")} UTC`;
  return run.expired
    ? `last run by process ${run.pid} on ${run.host} since ${since}: lease expired (that run died or stalls)`
    : `run by process ${run.pid} on ${run.host} since ${since}`;
}

function drawProgress() {
  const done = completed();
  const first = targets()[0];
  const target = first.name;
  let best = null; // the best feasible value so far, by its score
  const bests = done.map((e) => {
    const value = e.results[target];
    if (!breaks(e).length && (best === null || score(first, value) > score(first, best))) best = value;
    return best;
  });
  const failed = state.experiments.filter((e) => e.status === "failed" && !e.retracted);
  const traces = [
    {
      x: done.map((e) => e.seq),
      y: done.map((e) => e.results[target]),
      mode: "markers",
      name: "result",
      marker: { color: "#8d99ae", size: 6, symbol: done.map((e) => (e.amended ? "diamond" : "circle")) },
      text: done.map((e) => plain([paramsText(e.params), marks(e)].filter(Boolean).join("; "))),
    },
    { x: done.map((e) => e.seq), y: bests, mode: "lines", name: "best so far", line: { color: "#1f77b4", width: 3, shape: "hv" } },
  ];
  if (failed.length) {
    const low = done.length ? Math.min(...done.map((e) => e.results[target])) : 0;
    traces.push({
      x: failed.map((e) => e.seq),
      y: failed.map(() => low),
      mode: "markers",
      name: "failed",
      marker: { color: "#d62728", symbol: "x", size: 8 },
      text: failed.map((e) => plain(e.reason)),
    });
  }
  const retracted = state.experiments.filter((e) => e.retracted && e.status === "completed" && target in e.results);
  if (retracted.length) {
    traces.push({
      x: retracted.map((e) => e.seq),
      y: retracted.map((e) => e.results[target]),
      mode: "markers",
      name: "retracted (not used)",
      marker: { color: "#8d99ae", symbol: "circle-open", size: 9, line: { width: 2 } },
      text: retracted.map((e) => plain(paramsText(e.params))),
    });
  }
  Plotly.react("plot-progress", traces, {
    margin: { t: 10, r: 10, b: 45, l: 60 },
    xaxis: { title: { text: "experiment number" } },
    yaxis: { title: { text: withUnit(target) }, hoverformat: ".4g" },
    legend: { orientation: "h", y: -0.25 },
    shapes: limitShapes(target, "y", "x"),
  }, PLOT_CONFIG);
}

// ------------------------------------------------------------------------------------------------ several targets
const FADED = 0.25;

function fillQuantityChoices(select, wanted) {
  const names = quantities();
  if (select.options.length !== names.length) {
    select.replaceChildren(...names.map((name) => new Option(name, name)));
    select.value = wanted;
  }
}

function drawFront() {
  const xSelect = document.getElementById("front-x");
  const ySelect = document.getElementById("front-y");
  fillQuantityChoices(xSelect, targets()[0].name);
  fillQuantityChoices(ySelect, targets()[1].name);
  const [x, y] = [xSelect.value, ySelect.value];
  const done = completed().filter((e) => x in e.results && y in e.results);
  const onFront = new Set(state.info.front || []);
  const front = done.filter((e) => onFront.has(e.id)).sort((a, b) => a.results[x] - b.results[x]);
  const broken = done.filter((e) => !onFront.has(e.id) && breaks(e).length);
  const dominated = done.filter((e) => !onFront.has(e.id) && !breaks(e).length);
  const label = (e) => plain([`#${e.seq}`, paramsText(e.params), ...breaks(e).map((c) => `breaks ${c.name} ${c.op} ${c.bound}`)].join("; "));
  const traces = [
    {
      x: dominated.map((e) => e.results[x]),
      y: dominated.map((e) => e.results[y]),
      mode: "markers",
      name: "beaten by the front",
      marker: { color: "#8d99ae", size: 7, opacity: FADED },
      text: dominated.map(label),
    },
    {
      x: broken.map((e) => e.results[x]),
      y: broken.map((e) => e.results[y]),
      mode: "markers",
      name: "breaks a constraint",
      marker: { color: "#8d99ae", size: 8, symbol: "x", opacity: FADED },
      text: broken.map(label),
    },
    {
      x: front.map((e) => e.results[x]),
      y: front.map((e) => e.results[y]),
      mode: "lines+markers",
      name: "Pareto front",
      line: { color: "#1f77b4", width: 3 },
      marker: { color: "#1f77b4", size: 10 },
      text: front.map(label),
    },
  ];
  Plotly.react("plot-front", traces, {
    margin: { t: 10, r: 10, b: 45, l: 60 },
    xaxis: { title: { text: withUnit(x) }, hoverformat: ".4g" },
    yaxis: { title: { text: withUnit(y) }, hoverformat: ".4g" },
    legend: { orientation: "h", y: -0.25 },
    shapes: [...limitShapes(x, "x", "y"), ...limitShapes(y, "y", "x")],
  }, PLOT_CONFIG);
}

async function drawHypervolume(generation = state.generation) {
  const answer = await api(`/campaigns/${encodeURIComponent(state.campaign)}/front`);
  stillCurrent(generation);
  state.front = answer;
  const note = document.getElementById("hv-note");
  if (!answer.hypervolume.length) {
    Plotly.purge("plot-hv");
    note.textContent = "No hypervolume yet: no completed experiment has every quantity within the constraints.";
    return;
  }
  Plotly.react("plot-hv", [
    {
      x: answer.hypervolume.map((point) => point.seq),
      y: answer.hypervolume.map((point) => point.value),
      mode: "lines+markers",
      name: "hypervolume",
      line: { color: "#1f77b4", width: 3, shape: "hv" },
      marker: { size: 4 },
    },
  ], {
    margin: { t: 10, r: 10, b: 45, l: 60 },
    xaxis: { title: { text: "experiment number" } },
    yaxis: { title: { text: "hypervolume" }, hoverformat: ".4g", rangemode: "tozero" },
    showlegend: false,
  }, PLOT_CONFIG);
  const reference = Object.entries(answer.reference).map(([name, value]) => `${name} ${+value.toPrecision(4)}`).join(", ");
  const how = answer.hypervolume_exact ? "" : " (estimated from random points: with three or more targets the exact volume costs too much)";
  note.textContent = `The volume the front dominates${how}, in the targets' scores (larger is better: a minimised target counts negated, a window by the distance to it), above the reference point ${reference}.`;
}

function drawParameters() {
  const choice = document.getElementById("parameters-quantity");
  fillQuantityChoices(choice, targets()[0].name);
  const target = choice.value;
  const done = completed().filter((e) => target in e.results);
  const names = state.info.parameters;
  const columns = Math.min(names.length, 4);
  const rows = Math.ceil(names.length / columns);
  const traces = [];
  const layout = {
    grid: { rows, columns, pattern: "independent", ygap: 0.35, xgap: 0.12 },
    margin: { t: 10, r: 10, b: 40, l: 55 },
    showlegend: false,
    height: Math.max(300, 240 * rows),
    shapes: [],
  };
  // Colour: the experiment's number (a colour scale says which is which); failures are red crosses at the bottom.
  const failed = state.experiments.filter((e) => e.status === "failed" && !e.retracted);
  const low = done.length ? Math.min(...done.map((e) => e.results[target])) : 0;
  const seqs = state.experiments.map((e) => e.seq);
  names.forEach((name, i) => {
    const axis = i === 0 ? "" : String(i + 1);
    traces.push({
      x: done.map((e) => plain(e.params[name])),
      y: done.map((e) => e.results[target]),
      xaxis: `x${axis}`,
      yaxis: `y${axis}`,
      mode: "markers",
      marker: {
        color: done.map((e) => e.seq),
        colorscale: "Viridis",
        cmin: Math.min(...seqs),
        cmax: Math.max(...seqs),
        size: 6,
        showscale: i === 0,
        colorbar: { title: { text: "experiment #" }, thickness: 12, len: Math.min(1, 300 / layout.height) },
      },
      text: done.map((e) => `#${e.seq}`),
      name: plain(name),
    });
    if (failed.length) {
      traces.push({
        x: failed.map((e) => plain(e.params[name])),
        y: failed.map(() => low),
        xaxis: `x${axis}`,
        yaxis: `y${axis}`,
        mode: "markers",
        marker: { color: "#d62728", symbol: "x", size: 7 },
        text: failed.map((e) => plain(`#${e.seq} failed: ${e.reason}`)),
        name: "failed",
      });
    }
    layout[`xaxis${axis}`] = { title: { text: withUnit(name) }, hoverformat: ".4g" };
    layout[`yaxis${axis}`] = { title: { text: i % columns === 0 ? withUnit(target) : "" }, hoverformat: ".4g" };
    layout.shapes.push(...limitShapes(target, `y${axis}`, `x${axis}`));
  });
  Plotly.react("plot-parameters", traces, layout, PLOT_CONFIG);
}

const BAND = "± 2 std of the mean (no measurement noise)";

function fillModelChoices() {
  // With several quantities a menu chooses the one the model predicts (each has its own model).
  const many = quantities().length > 1;
  document.getElementById("model-quantity-choice").hidden = !many;
  if (many) fillQuantityChoices(document.getElementById("model-quantity"), targets()[0].name);
  const select = document.getElementById("model-parameter");
  if (select.options.length === state.info.parameters.length) return;
  select.replaceChildren(...state.info.parameters.map((name) => new Option(name, name)));
}

async function drawModel(generation = state.generation) {
  const parameter = document.getElementById("model-parameter").value;
  const chosen = document.getElementById("model-quantity").value || targets()[0].name;
  // one max or min target: the campaign's own model; otherwise the chosen quantity's model, in its units
  const single = !several() && constraints().length === 0 && directionOf(targets()[0]) !== "range";
  const asked = single ? "" : `&quantity=${encodeURIComponent(chosen)}`;
  const note = document.getElementById("model-note");
  state.modelDrawnAt = Date.now();
  state.modelStale = false;
  let profile;
  if (!document.getElementById("plot-model").data) note.textContent = "fitting the model…";
  try {
    profile = await api(`/campaigns/${encodeURIComponent(state.campaign)}/model?parameter=${encodeURIComponent(parameter)}&points=80${asked}`);
  } catch (error) {
    stillCurrent(generation);
    if (error instanceof NeedToken) throw error;
    Plotly.purge("plot-model");
    note.textContent = `No model yet: ${error.message}`;
    return;
  }
  stillCurrent(generation);
  if (profile.mean.some((m) => m === null) || profile.std.some((s) => s === null)) {
    Plotly.purge("plot-model");
    note.textContent = "No model to show: its prediction is not a finite number (are the results very large?)";
    return;
  }
  const target = single ? targets()[0].name : chosen;
  const numeric = profile.values.every((v) => typeof v === "number");
  const upper = profile.mean.map((m, i) => m + 2 * profile.std[i]);
  const lower = profile.mean.map((m, i) => m - 2 * profile.std[i]);
  const done = state.experiments.filter((e) => !e.retracted && e.status !== "failed" && target in e.results);
  const traces = numeric
    ? [
        { x: profile.values, y: upper, mode: "lines", line: { width: 0 }, showlegend: false, hoverinfo: "skip" },
        { x: profile.values, y: lower, mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: "rgba(31,119,180,0.2)", name: BAND },
        { x: profile.values, y: profile.mean, mode: "lines", name: "prediction", line: { color: "#1f77b4", width: 3 } },
      ]
    : [
        {
          x: profile.values.map(plain),
          y: profile.mean,
          mode: "markers",
          name: `prediction, ${BAND}`,
          marker: { color: "#1f77b4", size: 10 },
          error_y: { type: "data", array: profile.std.map((s) => 2 * s), visible: true },
        },
      ];
  traces.push({
    x: done.map((e) => plain(e.params[parameter])),
    y: done.map((e) => e.results[target]),
    mode: "markers",
    name: "measured",
    marker: { color: "#2b2d42", size: 5 },
  });
  const outside = (profile.feasible || []).map((ok, i) => (ok ? null : i)).filter((i) => i !== null);
  if (numeric && outside.length) {
    traces.push({
      x: outside.map((i) => profile.values[i]),
      y: outside.map((i) => profile.mean[i]),
      mode: "markers",
      name: "outside the space's bounds or constraints",
      marker: { color: "#d62728", symbol: "line-ns-open", size: 8 },
    });
  }
  Plotly.react("plot-model", traces, {
    margin: { t: 10, r: 10, b: 45, l: 60 },
    xaxis: { title: { text: withUnit(parameter) }, hoverformat: ".4g" },
    yaxis: { title: { text: withUnit(target) }, hoverformat: ".4g" },
    legend: { orientation: "h", y: -0.25 },
    shapes: limitShapes(target, "y", "x"),
  }, PLOT_CONFIG);
  const others = Object.entries(profile.through).filter(([name]) => name !== parameter);
  const rescaled = Object.keys(profile.rescaled || {});
  const fixed = Object.fromEntries(others.filter(([name]) => !rescaled.includes(name)));
  const parts = rescaled.length
    ? `; ${rescaled.join(", ")} rescaled in proportion so the mixture keeps its total`
    : "";
  const band = profile.noise ? "" : "; the band is the model's uncertainty about the mean, without measurement noise";
  const through = several() ? "an experiment on the Pareto front" : "the best experiment";
  note.textContent = `${profile.model}; other parameters at ${through}: ${paramsText(fixed) || "none"}${parts}${band}`;
}

function drawTables() {
  const pending = state.experiments.filter((e) => e.status === "pending");
  // an experiment measured in part has left its instrument (only a manual one keeps it): it waits in the queue
  // with what it has measured so far, not in flight
  const running = (e) => e.instrument && !Object.keys(e.results || {}).length;
  fillTable(
    document.getElementById("queue"),
    ["#", "parameters", ...(quantities().length > 1 ? ["measured so far"] : []), "asked"],
    pending
      .filter((e) => !running(e))
      .map((e) => [`#${e.seq}`, paramsText(e.params), ...(quantities().length > 1 ? [measuredText(e)] : []), ago(e.created_at)]),
  );
  fillTable(
    document.getElementById("in-flight"),
    ["#", "instrument", "parameters", "sent", "attention"],
    pending
      .filter(running)
      .map((e) => [`#${e.seq}`, e.instrument, paramsText(e.params), ago(e.dispatched_at), e.attention || ""]),
  );
  fillTable(
    document.getElementById("failures"),
    ["#", "reason", "parameters", "when"],
    state.experiments
      .filter((e) => e.status === "failed")
      .reverse()
      .map((e) => [`#${e.seq}`, e.reason, paramsText(e.params), ago(e.finished_at)]),
  );
  markRows(document.getElementById("failures"), state.experiments.filter((e) => e.status === "failed").reverse());
  drawResults();
}

// ------------------------------------------------------------------------------------------------ corrections
// Finished experiments with their marks (amended, retracted: struck through), and a form to amend, retract or
// discard with a reason. Writing needs a write token; the page asks for one when the read token cannot write.
function finished() {
  return state.experiments.filter((e) => e.status === "completed" || e.status === "failed").reverse();
}

function markRows(table, experiments) {
  const rows = table.tBodies[0] ? table.tBodies[0].rows : [];
  experiments.slice(0, ROWS_SHOWN).forEach((e, i) => {
    if (!rows[i]) return;
    rows[i].classList.toggle("retracted", Boolean(e.retracted));
    rows[i].classList.toggle("amended", Boolean(e.amended));
    rows[i].dataset.id = e.id;
  });
}

function drawResults() {
  const names = quantities();
  const shown = finished();
  const onFront = new Set(state.info.front || []);
  fillTable(
    document.getElementById("results"),
    ["#", ...names, "status", "parameters", "when"],
    shown.map((e) => [
      `#${e.seq}`,
      ...names.map((name, i) => (name in e.results ? String(+e.results[name].toPrecision(6)) : i === 0 ? e.reason : "")),
      [
        e.status,
        marks(e),
        onFront.has(e.id) ? "on the Pareto front" : "",
        ...breaks(e).map((c) => `breaks ${c.name} ${c.op} ${c.bound}`),
      ].filter(Boolean).join(", "),
      paramsText(e.params),
      ago(e.finished_at),
    ]),
  );
  markRows(document.getElementById("results"), shown);
  const select = document.getElementById("correct-id");
  // pending ones may only be discarded, and only before they are sent (one in flight must finish, or fail)
  const choices = [...shown, ...state.experiments.filter((e) => e.status === "pending" && !e.instrument)];
  const wanted = choices.map((e) => `${e.id}:${e.status}:${e.retracted}`).join(" ");
  if (select.dataset.shown === wanted) return;
  const chosen = select.value;
  select.replaceChildren(...choices.map((e) => new Option(`#${e.seq} (${[e.status, marks(e)].filter(Boolean).join(", ")})`, e.id)));
  if (choices.some((e) => e.id === chosen)) select.value = chosen;
  select.dataset.shown = wanted;
}

class NeedWriteToken extends Error {}

async function apiWrite(path, body) {
  const token = state.writeToken || state.token;
  const headers = { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) };
  const response = await fetch(API + path, { method: "POST", headers, body: JSON.stringify(body) });
  const answer = await response.json().catch(() => ({}));
  const message = (answer.detail && answer.detail.message) || response.statusText;
  if (response.status === 401 || response.status === 403) throw new NeedWriteToken(message);
  if (!response.ok) throw new Error(message);
  return answer;
}

async function correct(event) {
  event.preventDefault();
  const note = document.getElementById("correct-note");
  const id = document.getElementById("correct-id").value;
  const action = document.getElementById("correct-action").value;
  const reason = document.getElementById("correct-reason").value.trim();
  const value = document.getElementById("correct-value").value.trim();
  const tokenField = document.getElementById("write-token");
  if (!tokenField.closest("label").hidden && tokenField.value.trim()) {
    state.writeToken = tokenField.value.trim();
    sessionStorage.setItem("kiln-write-token", state.writeToken);
  }
  const named = quantities().length > 1 ? resultsOf(value) : null;
  const bodies = {
    amend: named ? { results: named, reason } : { value: Number(value), reason },
    fail: { failure: value, reason },
    retract: { reason },
    unretract: { reason, undo: true },
    discard: { reason },
  };
  const route = { amend: "amend", fail: "amend", retract: "retract", unretract: "retract", discard: "discard" }[action];
  if (action === "amend" && named && !Object.keys(named).length) {
    note.textContent = `give each corrected quantity as name=value, e.g. ${quantities()[0]}=1.5, not "${value}"`;
    return;
  }
  if (action === "amend" && !named && (value === "" || !Number.isFinite(Number(value)))) {
    note.textContent = `the new value must be a number, not "${value}"`;
    return;
  }
  try {
    const path = `/campaigns/${encodeURIComponent(state.campaign)}/experiments/${encodeURIComponent(id)}/${route}`;
    const changed = await apiWrite(path, bodies[action]);
    note.textContent = `#${changed.seq}: ${[changed.status, marks(changed)].filter(Boolean).join(", ")}`;
    tokenField.closest("label").hidden = true;
    await guarded(poll, true);
  } catch (error) {
    if (error instanceof NeedWriteToken) {
      tokenField.closest("label").hidden = false;
      note.textContent = `${error.message}. To change results, paste an access token that may write: whoever runs the server makes one with kiln token create NAME --scope write.`;
    } else {
      note.textContent = error.message;
    }
  }
}

function resultsOf(text) {
  // "yield=83 cost=2.5" (or comma-separated) -> {yield: 83, cost: 2.5}; {} when a part is not name=number.
  const results = {};
  for (const part of text.split(/[\s,;]+/).filter(Boolean)) {
    const [name, number, ...rest] = part.split("=");
    if (!name || number === undefined || rest.length || number === "" || !Number.isFinite(Number(number))) return {};
    results[name] = Number(number);
  }
  return results;
}

function showValueField() {
  const action = document.getElementById("correct-action").value;
  const field = document.getElementById("correct-value");
  field.closest("label").hidden = action !== "amend" && action !== "fail";
  const example = state.info && quantities().length > 1 ? `e.g. ${quantities()[0]}=1.5` : "new value";
  field.placeholder = action === "fail" ? "why it failed" : example;
}

async function loadCampaign(generation = state.generation) {
  const path = `/campaigns/${encodeURIComponent(state.campaign)}`;
  const info = await api(`${path}?config=false`); // the state only: a pool's rows and image stay on the server
  const experiments = await api(`${path}/experiments`);
  stillCurrent(generation);
  state.experiments = experiments;
  state.info = info;
  state.cursor = Math.max(state.cursor, info.cursor);
  document.getElementById("campaign-name").textContent = info.name;
  show("campaign-view");
  const manyTargets = several();
  document.getElementById("card-progress").hidden = manyTargets;
  document.getElementById("card-front").hidden = !manyTargets;
  document.getElementById("card-hv").hidden = !manyTargets;
  document.getElementById("card-image-map").hidden = !info.image;
  document.getElementById("card-map").hidden = info.goal !== "map";
  drawSummary();
  if (manyTargets) drawFront();
  else drawProgress();
  drawParameters();
  drawTables();
  showValueField();
  fillModelChoices();
  if (manyTargets) await drawHypervolume(generation);
  state.modelStale = true;
  await maybeDrawModel(generation);
  markLive();
}

async function maybeDrawModel(generation = state.generation) {
  if (state.modelStale && Date.now() - state.modelDrawnAt >= MODEL_EVERY_MS) {
    await drawModel(generation);
    if (state.info && state.info.image) await drawImageMap(generation); // image_map.js
    if (state.info && state.info.goal === "map") await drawMapError(generation); // map_error.js
  }
}

async function poll() {
  const generation = state.generation;
  if (!state.campaign) return drawCampaignList(generation);
  if (!state.info) return loadCampaign(generation);
  const answer = await api(`/campaigns/${encodeURIComponent(state.campaign)}/events?after=${state.cursor}&limit=1000`);
  stillCurrent(generation);
  if (answer.events.length) {
    await loadCampaign(generation);
  } else {
    drawTables(); // refresh the "ago" columns
    await maybeDrawModel(generation);
    markLive();
  }
}

// ------------------------------------------------------------------------------------------------ routing
async function guarded(work, always = false) {
  if (state.busy && !always) return;
  state.busy = true;
  try {
    await work();
    setError("");
  } catch (error) {
    if (error instanceof Superseded) return; // a newer route's work runs, or has run, instead
    if (error instanceof NeedToken) {
      document.getElementById("login-reason").textContent = `${error.message}. ${TOKEN_HELP}`;
      show("login");
    } else {
      setError(`${error.message}`);
    }
  } finally {
    state.busy = false;
  }
}

function campaignOfHash() {
  const match = location.hash.match(/^#\/campaign\/(.+)$/);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1]; // not percent-encoded text: take it as written
  }
}

async function route() {
  state.generation += 1;
  state.campaign = campaignOfHash();
  state.info = null;
  state.front = null;
  state.experiments = [];
  state.cursor = 0;
  state.modelDrawnAt = 0;
  for (const id of ["model-parameter", "model-quantity", "front-x", "front-y", "parameters-quantity"]) {
    document.getElementById(id).replaceChildren();
  }
  const generation = state.generation;
  await guarded(() => (state.campaign ? loadCampaign(generation) : drawCampaignList(generation)), true);
}

document.getElementById("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  state.token = document.getElementById("token").value.trim();
  sessionStorage.setItem("kiln-token", state.token);
  route();
});
document.getElementById("correct-form").addEventListener("submit", correct);
document.getElementById("correct-action").addEventListener("change", showValueField);
showValueField();
document.getElementById("model-quantity").addEventListener("change", () => {
  state.modelDrawnAt = 0;
  state.modelStale = true;
  guarded(drawModel);
});
document.getElementById("model-parameter").addEventListener("change", () => {
  state.modelDrawnAt = 0; // drawn now, or by the next poll if the page is busy
  state.modelStale = true;
  guarded(drawModel);
});
for (const id of ["front-x", "front-y"]) {
  document.getElementById(id).addEventListener("change", () => state.info && drawFront());
}
document.getElementById("parameters-quantity").addEventListener("change", () => state.info && drawParameters());
window.addEventListener("hashchange", route);
setInterval(() => {
  if (document.getElementById("login").hidden) guarded(poll);
}, POLL_MS);
route();
