// Kiln dashboard, microscope campaigns: the overview image with the pixels measured so far, and the model's
// predicted map of the target with its uncertainty (GET /campaigns/{name}/image-map). Loaded before dashboard.js,
// whose globals (api, state, stillCurrent, NeedToken, PLOT_CONFIG, withUnit) it uses when called.
"use strict";

const MAP_LAYOUT = { margin: { t: 10, r: 10, b: 40, l: 45 }, yaxis: { autorange: "reversed", scaleanchor: "x", title: { text: "y (pixel)" } }, xaxis: { title: { text: "x (pixel)" } } };

function overviewAxes(answer) {
  // pixel coordinates of the (possibly thinned) overview rows and columns
  const step = answer.step;
  const xs = answer.image[0].map((_, j) => j * step);
  const ys = answer.image.map((_, i) => i * step);
  return { xs, ys };
}

function measuredTrace(answer, name) {
  return {
    x: answer.measured.map((p) => p.x),
    y: answer.measured.map((p) => p.y),
    mode: "markers",
    type: "scatter",
    name,
    marker: { color: "#ffffff", size: 7, line: { color: "#2b2d42", width: 1.5 } },
    hovertemplate: "x %{x}, y %{y}<extra>measured</extra>",
  };
}

function pendingTrace(answer) {
  return {
    x: answer.pending.map((p) => p.x),
    y: answer.pending.map((p) => p.y),
    mode: "markers",
    type: "scatter",
    name: "running",
    marker: { color: "#ff7f0e", size: 8, symbol: "x" },
  };
}

async function drawImageMap(generation = state.generation) {
  const note = document.getElementById("image-map-note");
  let answer;
  try {
    answer = await api(`/campaigns/${encodeURIComponent(state.campaign)}/image-map`);
  } catch (error) {
    stillCurrent(generation);
    if (error instanceof NeedToken) throw error;
    note.textContent = `No map yet: ${error.message}`;
    return;
  }
  stillCurrent(generation);
  const { xs, ys } = overviewAxes(answer);
  const label = withUnit(answer.target);
  Plotly.react(
    "plot-overview",
    [
      { z: answer.image, x: xs, y: ys, type: "heatmap", colorscale: "Greys", showscale: false, hoverinfo: "skip" },
      measuredTrace(answer, "measured"),
      pendingTrace(answer),
    ],
    { ...MAP_LAYOUT, legend: { orientation: "h", y: -0.2 } },
    PLOT_CONFIG,
  );
  if (!answer.mean) {
    for (const id of ["plot-map-mean", "plot-map-std"]) Plotly.purge(id);
    note.textContent = "The predicted map appears once a spectrum has been measured.";
    return;
  }
  const grid = { x: answer.xs, y: answer.ys, type: "heatmap" };
  Plotly.react(
    "plot-map-mean",
    [
      { ...grid, z: answer.mean, colorscale: "Viridis", colorbar: { title: { text: label } }, hovertemplate: "x %{x}, y %{y}: %{z:.4g}<extra>predicted</extra>" },
      measuredTrace(answer, "measured"),
    ],
    { ...MAP_LAYOUT, showlegend: false },
    PLOT_CONFIG,
  );
  Plotly.react(
    "plot-map-std",
    [
      { ...grid, z: answer.std, colorscale: "Magma", colorbar: { title: { text: `std, ${label}` } }, hovertemplate: "x %{x}, y %{y}: ±%{z:.3g}<extra>uncertainty</extra>" },
      measuredTrace(answer, "measured"),
    ],
    { ...MAP_LAYOUT, showlegend: false },
    PLOT_CONFIG,
  );
  const unsure = answer.least_sure;
  const best = answer.best_predicted;
  note.textContent =
    `${answer.model}, fitted on ${answer.measured.length} measured pixels. ` +
    `Best predicted at (${best.x}, ${best.y}): ${best.mean.toPrecision(4)}; ` +
    `least sure at (${unsure.x}, ${unsure.y}): ±${unsure.std.toPrecision(3)} (one standard deviation of the mean).`;
}
