"""The three fixture campaigns (tests/report/report_fixtures.py) and their findings, built once per test session."""

from __future__ import annotations

import pytest
import report_fixtures as fixtures

from kiln import Campaign
from kiln.report.findings import Findings, campaign_findings


@pytest.fixture(scope="session")
def report_campaigns(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Campaign]:
    tmp = tmp_path_factory.mktemp("reports")
    return {
        "win": fixtures.clear_win(tmp),
        "flat": fixtures.nothing_better(tmp),
        "rising": fixtures.still_improving(tmp),
    }


@pytest.fixture(scope="session")
def report_findings(report_campaigns: dict[str, Campaign]) -> dict[str, Findings]:
    return {name: campaign_findings(campaign) for name, campaign in report_campaigns.items()}
