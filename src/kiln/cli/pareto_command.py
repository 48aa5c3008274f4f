"""``kiln pareto NAME``: the experiments no other beats in every target (the Pareto front), as a table or JSON."""

from __future__ import annotations

from typing import Any

from kiln.cli.options import JsonOption, NameArgument, StoreOption


def pareto(name: NameArgument, json_output: JsonOption = False, store: StoreOption = None) -> None:
    """Show the Pareto front of NAME: the completed experiments within every outcome constraint that no other
    beats in every target, with the hypervolume they dominate."""
    from kiln.cli.app import open_campaign, out, print_json
    from kiln.cli.render import describe_objective, experiments_json, experiments_table, fmt
    from kiln.report.front import front_report

    campaign = open_campaign(name, store)
    objective = campaign.objective
    report = front_report(objective, campaign.experiments())
    volume = report.hypervolume[-1][1] if report.hypervolume else None
    if json_output:
        print_json(
            {
                "name": campaign.name,
                "targets": [t.to_config() for t in objective.targets],
                "constraints": [c.to_config() for c in objective.constraints],
                "front": experiments_json(report.front, objective),
                "reference_scores": report.reference,
                "hypervolume": volume,
            }
        )
        return
    out.print(f"{describe_objective(objective)}", highlight=False, markup=False)
    if not report.front:
        out.print(
            f"no Pareto front yet: no completed experiment of {name} has every quantity measured within the "
            "constraints",
            highlight=False,
            markup=False,
        )
        return
    units = {**campaign.domain.units, **objective.units}
    ordered = sorted(report.front, key=lambda e: objective.scores(e.results)[0], reverse=True)
    title = f"Pareto front of {name}: {len(ordered)} experiment(s), best {objective.targets[0].name} first"
    out.print(
        experiments_table(
            ordered, campaign.domain.names, objective.quantities, title=title, units=units, width=out.width
        )
    )
    if volume is not None:
        out.print(
            f"hypervolume {fmt(volume)}: the volume the front dominates above the reference point "
            f"{reference_text(objective, report.reference)}",
            highlight=False,
            markup=False,
        )


def reference_text(objective: Any, scores: dict[str, float]) -> str:
    """The reference point in the targets' own units: ``yield 68, cost 4.2, size 3 outside its window``."""
    from kiln.cli.render import fmt

    parts = []
    for target in objective.targets:
        score = scores[target.name]
        if target.direction.value == "max":
            parts.append(f"{target.name} {fmt(score)}")
        elif target.direction.value == "min":
            parts.append(f"{target.name} {fmt(-score)}")
        else:
            where = "from the middle" if target.prefer == "centre" else "outside"
            parts.append(f"{target.name} {fmt(-score)} {where} of its window")
    return ", ".join(parts)
