"""Write the sample report of docs/report.md: the built-in P3HT/CNT campaign (examples/p3ht.yaml, 40 experiments
on the emulator of the measured films), its report as PDF, every figure as PNG, and the three levels of text as
Markdown (docs/report/p3ht-sample.md), so the docs show what `kiln report` writes.

    .venv/bin/python docs/report/make_sample.py

The run and the report are seeded (the spec's seed 0, report seed 0); the comparison with random sampling is
exact on the dataset's values (``--truth p3ht``). The HTML page is not kept in the repository (plotly.js is
inlined: 4 MB); `kiln report p3ht-demo --truth p3ht` after `make run` writes it.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
NAME = "p3ht-demo"


def main() -> None:
    from kiln import Campaign
    from kiln.report.figures import report_figures
    from kiln.report.findings import campaign_findings
    from kiln.report.pdf import figure_png, report_pdf
    from kiln.report.truth import pool_values_from_dataset
    from kiln.report.words import expert_section, plain_summary, question_section, scientist_section

    kiln = str(Path(sys.executable).with_name("kiln"))
    with tempfile.TemporaryDirectory() as tmp:
        store = f"sqlite:///{Path(tmp) / 'p3ht.db'}"
        subprocess.run([kiln, "run", str(ROOT / "examples" / "p3ht.yaml"), "--store", store], check=True)
        campaign = Campaign.open(NAME, store=store)
        values = pool_values_from_dataset(campaign.domain, campaign.objective.target.name, "p3ht")
        findings = campaign_findings(
            campaign, seed=0, pool_values=values, store_url="sqlite:///kiln-demo.db", truth="p3ht"
        )
    (HERE / "p3ht-report.pdf").write_bytes(report_pdf(findings))
    figures = report_figures(findings)
    lines = [
        "# Sample report: the built-in P3HT/CNT campaign",
        "",
        "Written by `docs/report/make_sample.py` (`kiln run examples/p3ht.yaml`, then `kiln report p3ht-demo "
        "--truth p3ht --pdf`): the same words and figures as the HTML page and the PDF "
        "([p3ht-report.pdf](p3ht-report.pdf)). Regenerate with `.venv/bin/python docs/report/make_sample.py`.",
        "",
        "## In plain words",
        "",
        plain_summary(findings),
        "",
        "## The question",
        "",
    ]
    searched, params, targets, constraints = question_section(findings)
    lines += [searched, "", "Parameters:", ""] + [f"- {p}" for p in params]
    lines += ["", "Targets:", ""] + [f"- {t}" for t in targets]
    lines += ["", "Constraints:", ""] + [f"- {c}" for c in constraints]
    lines += ["", "## For a scientist in the field", ""]
    for line in scientist_section(findings):
        lines += [line, ""]
    lines += ["## Figures", ""]
    for spec in figures:
        (HERE / f"{spec.key}.png").write_bytes(figure_png(spec, dpi=100))
        lines += [f"![{spec.caption}]({spec.key}.png)", "", f"*{spec.caption}*", ""]
    lines += ["## For an expert", ""]
    for line in expert_section(findings):
        lines += [line, ""]
    (HERE / "p3ht-sample.md").write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    print(f"wrote {HERE / 'p3ht-sample.md'}, {HERE / 'p3ht-report.pdf'} and {len(figures)} figures")


if __name__ == "__main__":
    main()
