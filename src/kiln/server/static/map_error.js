// Kiln dashboard, campaigns with goal: map: how good the model's map of each target is (GET
// /campaigns/{name}/map): leave-one-out error, mean uncertainty over the pool or space, and where the model is
// least sure. Loaded before dashboard.js, whose globals (api, state, stillCurrent, fillTable) it uses when called.
"use strict";

function mapNumber(value) {
  return value === null || value === undefined ? "-" : Number(value).toPrecision(3);
}

function mapWhere(point) {
  if (!point) return "-";
  return Object.entries(point)
    .map(([name, value]) => `${name}=${typeof value === "number" ? Number(value).toPrecision(3) : value}`)
    .join(", ");
}

async function drawMapError(generation = state.generation) {
  const answer = await api(`/campaigns/${encodeURIComponent(state.campaign)}/map`);
  stillCurrent(generation);
  const units = answer.units || {};
  const rows = answer.targets.map((t) => [
    t.target + (units[t.target] ? ` (${units[t.target]})` : ""),
    String(t.measured),
    mapNumber(t.loo_rmse),
    mapNumber(t.loo_r2),
    mapNumber(t.mean_std),
    mapWhere(t.least_sure),
    mapNumber(t.least_sure_std),
  ]);
  fillTable(
    document.getElementById("map-error"),
    ["target", "measured", "leave-one-out RMSE", "leave-one-out R²", "mean std", "least sure at", "its std"],
    rows,
  );
}
