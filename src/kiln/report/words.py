"""The report in words, at three levels: a plain summary, a section for a scientist, a section for an expert.

Rules the text keeps: it says "the best found", never "the optimum"; it never uses a word of ``HYPE_WORDS``;
every number comes with its uncertainty (``±``) or its count ("measured once", "over 14 experiments"). The plain
summary uses short sentences and everyday words, states what was tried, what came out, what it means and what it
does not mean.
"""

from __future__ import annotations

import json

from kiln.report.findings import POOR_R2, Findings, Found, Gap, Measured, shown_label
from kiln.report.question import number, plus_minus

HYPE_WORDS = (
    "breakthrough",
    "revolutionary",
    "optimal",
    "optimum",
    "guarantee",
    "guaranteed",
    "proves",
    "proven",
    "unprecedented",
    "game-changing",
    "groundbreaking",
    "perfect",
    "best possible",
    "definitive",
    "remarkable",
    "dramatic",
    "significant",
    "significantly",
    "excellent",
    "superior",
    "ideal",
    "confirmed",
)
"""Words the generated text never contains (a test checks reports of several campaigns)."""


def _unit(unit: str) -> str:
    return f" {unit}" if unit else ""


def measured_text(m: Measured) -> str:
    """``9.81 mg (measured once)`` or ``9.8 ± 0.05 mg (mean of 3 measurements)``."""
    if m.replicates > 1:
        return f"{plus_minus(m.mean, m.spread)}{_unit(m.unit)} (mean ± spread of {m.replicates} measurements)"
    return f"{number(m.value)}{_unit(m.unit)} (measured once)"


def predicted_text(m: Measured) -> str:
    if m.predicted is None or m.predicted_std is None:
        return "no model prediction (too few experiments)"
    return f"the model predicts {plus_minus(m.predicted, m.predicted_std)}{_unit(m.unit)} there"


def _params(found: Found, units: dict[str, str]) -> str:
    return _point(found.params, units)


def _units(findings: Findings) -> dict[str, str]:
    return {p.name: p.unit for p in findings.question.parameters}


def _map_quality(r2: float) -> str:
    if r2 >= 0.8:
        return "So the map follows the results well."
    if r2 >= POOR_R2:
        return "So the map shows the broad trend but not the details."
    return "So the map is not yet good enough to trust."


def plain_map_summary(findings: Findings) -> str:
    """The plain summary of a ``goal: map`` campaign: how good the map is and where it is least sure."""
    q = findings.question
    b = q.budget
    names = " and ".join(t.name for t in q.targets)
    where = f"a set of {q.pool_size} choices" if q.pool_size is not None else "the whole range of settings"
    sentences = [f"This project ran {b.completed + b.failed} tests to map {names} across {where}."]
    if b.failed:
        sentences.append(f"{b.failed} of them failed.")
    units = {t.name: t.unit for t in q.targets}
    error = findings.map_error
    for t in error.targets if error is not None else ():
        if t.loo_rmse is None or t.loo_r2 is None:
            sentences.append(f"There are too few results of {t.target} yet to tell how good its map is.")
            continue
        sentences.append(
            f"When each test is hidden in turn and guessed from the others, the guesses of {t.target} are off by "
            f"about {number(t.loo_rmse)}{_unit(units.get(t.target, ''))}, over {t.measured} tests."
        )
        sentences.append(_map_quality(t.loo_r2))
        if t.least_sure is not None:
            sentences.append(
                f"The part for scientists names the spot where the map of {t.target} is least sure. "
                "A test there would teach it the most."
            )
    sentences.append("The map is a model's guess between the tests, not a measurement.")
    sentences.extend(_unclear(findings))
    return " ".join(sentences)


def _point(params: dict[str, object], units: dict[str, str]) -> str:
    parts = []
    for name, value in params.items():
        shown = number(float(value)) if isinstance(value, int | float) else str(value)
        parts.append(f"{name} = {shown}{_unit(units.get(name, ''))}")
    return ", ".join(parts)


def _unclear(findings: Findings) -> list[str]:
    unclear = [g.subject for g in findings.gaps if g.what == "effect"]
    if not unclear:
        return []
    verb = "changes" if len(unclear) == 1 else "change"
    names = unclear[0] if len(unclear) == 1 else f"{', '.join(unclear[:-1])} and {unclear[-1]}"
    return [f"It is not yet clear how {names} {verb} the result."]


def plain_summary(findings: Findings) -> str:
    """A few short sentences for a general reader (module docstring)."""
    if findings.goal == "map":
        return plain_map_summary(findings)
    q = findings.question
    b = q.budget
    wanted = " and ".join(f"{t.name} {t.wanted}" for t in q.targets)
    sentences = [f"This project ran {b.completed + b.failed} tests to get {wanted}."]
    if b.failed:
        sentences.append(f"{b.failed} of them failed.")
    if findings.best is not None and findings.best.measured:
        measured = findings.best.measured
        if len(measured) == 1:
            sentences.append(f"The best result found so far is {measured_text(measured[0])}.")
        else:
            parts = " and ".join(f"{m.target} {measured_text(m)}" for m in measured)
            sentences.append(f"The best result found so far has {parts}.")
    elif findings.front:
        sentences.append(f"No one test was best at every goal. {len(findings.front)} tests each did well on some goal.")
    else:
        sentences.append("No test has a full result yet.")
    progress, random = findings.progress, findings.random
    if progress is not None and progress.best_is_initial and progress.after_initial > 0:
        sentences.append(
            f"This best came from one of the first {progress.initial} tests. The {progress.after_initial} later "
            "tests did not beat it."
        )
    if progress is not None and progress.too_few:
        sentences.append("There are too few tests yet to tell whether the results are still getting better.")
    elif progress is not None and progress.rising:
        sentences.append(
            f"The best was still getting better in the last {progress.window} tests. More tests may find a better one."
        )
    if random is not None:
        if random.beats_random:
            sentences.append("Picking tests at random would most likely have done worse.")
        else:
            sentences.append("We cannot yet say that this did better than picking tests at random.")
        if random.method == "exact" and random.pool_share_better is not None and random.pool_size:
            better = round(random.pool_share_better * random.pool_size)
            if better == 0:
                sentences.append(f"None of the {random.pool_size} choices in the set would have done better.")
            else:
                verb = "was" if better == 1 else "were"
                sentences.append(f"Of all {random.pool_size} choices in the set, {better} {verb} better than this.")
    if findings.best is not None or findings.front:
        sentences.append("This is the best found among the tests run, not the best that can exist.")
    sentences.extend(_unclear(findings))
    return " ".join(sentences)


def question_section(findings: Findings) -> tuple[str, list[str], list[str], list[str]]:
    """The question in words: where it searched and its experiments by state; the parameters, the targets and
    the constraints, one line each."""
    q = findings.question
    b = q.budget
    planned = f" of a budget of {b.planned}" if b.planned is not None else ""
    where = f"a pool of {q.pool_size} candidates" if q.pool_size is not None else "a search space"
    searched = (
        f"Searched {where}. {b.completed} completed, {b.failed} failed, {b.pending} pending, {b.discarded} "
        f"discarded, {b.retracted} retracted: {b.total} experiments{planned}."
    )
    params = [f"{p.name}: {p.allowed}{_unit(p.unit)} ({p.kind})" for p in q.parameters]
    targets = [f"{t.name}{f' ({t.unit})' if t.unit else ''}: {t.wanted}" for t in q.targets]
    return searched, params, targets, list(q.constraints) or ["none"]


def target_unit(findings: Findings, name: str) -> str:
    """The unit the report shows for target ``name`` (``question.unit_of``), "" when it has none."""
    return next((t.unit for t in findings.question.targets if t.name == name), "")


def gap_text(gap: Gap, *, subject: bool = True) -> str:
    """One not-established item with the experiments that would help and the rule used (``subject``: begin
    with what it is about; the scientist section groups the items of one subject after it)."""
    amount = f"{'at least ' if gap.at_least else ''}{gap.more_experiments}"
    noun = "experiment" if gap.more_experiments == 1 else "experiments"
    count = f"{amount} {noun} in all" if gap.more_is_total else f"{amount} more {noun}"
    text = f"{gap.detail}; {count} would help (rule: {gap.rule})"
    return f"{gap.subject}: {text}." if subject else text


def scientist_section(findings: Findings) -> list[str]:
    """Paragraphs for a scientist in the field: the result with uncertainty, against random, effects, failures."""
    units = _units(findings)
    lines: list[str] = []
    n = findings.counted
    if findings.best is not None:
        for m in findings.best.measured:
            lines.append(
                f"Best found {m.target}: {measured_text(m)} at {_params(findings.best, units)} (experiment "
                f"{findings.best.seq}); {predicted_text(m)}, from {n} counted experiments."
            )
    for found in findings.front:
        values = "; ".join(f"{m.target} {measured_text(m)}, {predicted_text(m)}" for m in found.measured)
        lines.append(f"Pareto front, experiment {found.seq} at {_params(found, units)}: {values}.")
    r = findings.random
    if r is not None and r.measure == "hypervolume":
        how = (
            f"{r.repeats} random draws of {r.draws} of the pool's {r.pool_size} candidates, scored by the measured "
            "values where measured and the model's mean elsewhere"
            if r.method == "simulated-pool"
            else f"{r.repeats} random campaigns of {r.draws} points, scored by the model with its noise"
        )
        exact = "exact" if findings.hypervolume_exact else "estimated from random points"
        lines.append(
            f"Hypervolume dominated by the {r.draws} completed experiments: {number(r.found)} (score units, "
            f"{exact}); random sampling with as many: expected {plus_minus(r.expected, r.expected_std)} "
            f"(simulated: {how}); chance that it dominates at least as much: {100 * r.chance:.1f} % of "
            f"{r.repeats} simulated campaigns."
        )
    if r is not None and findings.target is not None and r.measure == "best":
        tunit = _unit(target_unit(findings, findings.target.name))
        what = shown_label(findings.target)
        what = "best" if what.startswith("best ") else f"smallest {what}"
        how = {
            "exact": f"exact, over the {r.pool_size} candidates' known values",
            "exact-estimate": f"exact over the {r.pool_size} candidates, with the model's mean for unmeasured ones",
            "simulated": f"simulated: {r.repeats} random campaigns scored by the model",
        }[r.method]
        lines.append(
            f"Random sampling with the same {r.draws} experiments: expected {what} "
            f"{plus_minus(r.expected, r.expected_std)}{tunit} ({how}); chance that it finds at least the best found "
            f"({number(r.found)}{tunit}): "
            f"{100 * r.chance:.1f} %{f' of {r.repeats} simulated campaigns' if r.repeats else ''}."
        )
        if r.pool_share_better is not None:
            basis = "" if r.method == "exact" else " (by the model's mean for the unmeasured candidates)"
            lines.append(
                f"Share of the pool's {r.pool_size} candidates with a better value{basis}: "
                f"{100 * r.pool_share_better:.1f} %."
            )
    if findings.map_error is not None:
        from kiln.campaign.map_error import map_error_lines

        units_all = {**units, **{t.name: t.unit for t in findings.question.targets}}  # units shown (unit_of)
        for line in map_error_lines(findings.map_error, units_all):
            lines.append(f"Map (the campaign's map model, as kiln show reports it): {line}.")
    p = findings.progress
    if p is not None:
        if p.too_few:
            state = f"not yet told rising or level: {len(p.best)} counted experiments, the window is {p.window}"
        elif p.rising:
            state = (
                f"still rising: it improved by {number(p.improvement)}"
                f"{_unit(target_unit(findings, findings.target.name) if findings.target else '')} "
                f"within the last {p.window} experiments"
            )
        else:
            state = f"unchanged over the last {p.window} experiments"
        origin = f"one of the {p.initial} initial points" if p.best_is_initial else "not an initial point"
        after = f", with {p.after_initial} counted experiments after them" if p.best_is_initial else ""
        lines.append(f"The best so far is {state}; the best found is {origin}{after}.")
    eunit = _unit(target_unit(findings, findings.effects_target or ""))
    for e in findings.effects:
        verdict = "clear" if e.established else "cannot tell yet"
        lines.append(
            f"Effect of {e.parameter} on {findings.effects_target}: partial dependence moves by "
            f"{number(e.size)}{eunit} against a band of ± {number(e.average_band)}{eunit} ({verdict}; model of "
            f"{e.experiments} experiments)."
        )
    fails = findings.failures
    if fails.count:
        reasons = "; ".join(f"{reason} ({count})" for reason, count in fails.reasons)
        lines.append(
            f"Failures: {fails.count} of {findings.question.budget.total} experiments failed. Reasons: {reasons}."
        )
    else:
        lines.append("Failures: none of the experiments failed.")
    by_subject: dict[str, list[Gap]] = {}
    for gap in findings.gaps:
        by_subject.setdefault(gap.subject, []).append(gap)
    for subject, gaps in by_subject.items():
        lines.append(f"Not established: {subject}: " + "; ".join(gap_text(g, subject=False) for g in gaps) + ".")
    return lines


def expert_section(findings: Findings) -> list[str]:
    """Paragraphs for an expert: settings, model diagnostics, seeds and versions, commands, the store."""
    s = findings.settings
    lines = [
        f"Kiln {s.version}; strategy {json.dumps(s.strategy)}; campaign seed {s.seed}; report seed {s.report_seed}.",
        "Libraries: " + ", ".join(f"{name} {v}" for name, v in s.libraries.items()) + ".",
        f"Report model: one GP per target ({s.kernel} kernel, Kiln's fit_gp) on the measured values in their units.",
    ]
    for name, info in s.models.items():
        converged = "converged" if info["converged"] else "did not converge (prior modes kept)"
        lines.append(
            f"Model of {name}: {info['experiments']} experiments, fit {converged}, "
            f"noise std {number(info['noise_std'])}{_unit(target_unit(findings, name))}."
        )
        if info.get("lengthscales"):
            scales = ", ".join(f"{p} {number(v)}" for p, v in info["lengthscales"].items())
            lines.append(
                f"Lengthscales of the model of {name} (a parameter's range = 1; above 1 the model sees little "
                f"change across it): {scales}."
            )
    for cv in findings.cross_validation:
        lines.append(
            f"Leave-one-out ({cv.target}, {cv.n} experiments): R^2 {cv.r2:.2f}, "
            f"RMSE {number(cv.rmse)}{_unit(cv.unit)}; "
            f"{100 * cv.inside1:.0f} % within ± 1 std (68 % if calibrated), {100 * cv.inside2:.0f} % within ± 2 std "
            "(95 % if calibrated)."
        )
    lines.append(f"Store: {s.store}")
    lines.extend(f"Reproduce: {command}" for command in s.commands)
    return lines
