"""Public names of kiln and kiln.lab load on first use and then stay; unknown names are AttributeErrors."""

from __future__ import annotations

import subprocess
import sys

import pytest

CODE = """
import sys
import kiln, kiln.lab
assert "kiln.campaign.campaign" not in sys.modules and "kiln.lab.loop" not in sys.modules
assert set(dir(kiln)) == set(kiln.__all__) and set(dir(kiln.lab)) == set(kiln.lab.__all__)
from kiln.campaign.campaign import Campaign
assert kiln.Campaign is Campaign and "Campaign" in vars(kiln)
from kiln.lab.loop import run_loop
assert kiln.lab.run_loop is run_loop
"""


def test_names_load_on_first_use_and_stay() -> None:
    subprocess.run([sys.executable, "-c", CODE], check=True, timeout=120)


def test_an_unknown_name_is_an_attribute_error_naming_the_package() -> None:
    import kiln
    import kiln.lab

    with pytest.raises(AttributeError, match="module 'kiln' has no attribute 'Campain'"):
        _ = kiln.Campain  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match=r"module 'kiln\.lab' has no attribute 'loop_run'"):
        _ = kiln.lab.loop_run  # type: ignore[attr-defined]
