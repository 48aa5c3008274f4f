// Kiln dashboard: the Report button of a campaign's page. It fetches GET /campaigns/{name}/report (the page
// `kiln report` writes, docs/report.md) with the page's token, which a plain link could not send, and saves it as
// NAME-report.html: the file opens offline, and its scripts never run in the dashboard's origin (where the token
// is kept). Loaded before dashboard.js, whose globals (API, state) it uses when clicked.
"use strict";

const REPORT_KEEP_URL_MS = 60000; // the saved file's blob URL is released after this

async function reportError(response) {
  // The server's words (a 429 says when to ask again), else the status.
  const body = await response.json().catch(() => ({}));
  return body.detail && body.detail.message ? body.detail.message : `${response.status} ${response.statusText}`;
}

async function saveReport() {
  const button = document.getElementById("report-button");
  const note = document.getElementById("report-note");
  const name = state.campaign;
  if (!name) return;
  button.disabled = true;
  note.textContent = "Making the report (model fits and simulations: this can take a minute)…";
  try {
    const headers = state.token ? { Authorization: `Bearer ${state.token}` } : {};
    const response = await fetch(`${API}/campaigns/${encodeURIComponent(name)}/report`, { headers });
    if (!response.ok) throw new Error(await reportError(response));
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = `${name}-report.html`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), REPORT_KEEP_URL_MS);
    if (state.campaign === name) note.textContent = `Saved as ${name}-report.html (open it in a browser).`;
  } catch (error) {
    if (state.campaign === name) note.textContent = `No report: ${error.message}`;
  } finally {
    button.disabled = false;
  }
}

document.getElementById("report-button").addEventListener("click", saveReport);
window.addEventListener("hashchange", () => {
  document.getElementById("report-note").textContent = "";
});
