"""The campaign owns each experiment's run state: dispatch (a compare-and-set over the store), flag, and reading
one experiment as it is now."""

from __future__ import annotations

import pytest

from kiln import Campaign, CandidatePool, ExperimentStatus, NotFoundError, Objective, StateError


@pytest.fixture
def campaign(pool: CandidatePool, store_url: str) -> Campaign:
    return Campaign.create("c", space=pool, objective=Objective.maximize("y"), strategy="random", store=store_url)


def test_dispatch_records_the_instrument_then_its_handle(campaign: Campaign) -> None:
    (experiment,) = campaign.ask(1)
    sending = campaign.dispatch(experiment.id, "robot")
    assert (sending.instrument, sending.handle) == ("robot", "") and sending.dispatched_at is not None
    accepted = campaign.dispatch(experiment.id, "robot", "job-7", expect=("robot", ""))
    assert accepted.handle == "job-7" and accepted.status is ExperimentStatus.PENDING
    assert Campaign.open("c", store=campaign.store).experiment(experiment.id) == accepted


def test_dispatch_is_a_compare_and_set(campaign: Campaign) -> None:
    (experiment,) = campaign.ask(1)
    campaign.dispatch(experiment.id, "robot", expect=("", ""))
    with pytest.raises(StateError, match="dispatched meanwhile"):
        campaign.dispatch(experiment.id, "other", expect=("", ""))  # a second run finds it taken
    assert campaign.experiment(experiment.id).instrument == "robot"
    campaign.tell(experiment.id, 1.0)
    with pytest.raises(StateError, match="already completed"):
        campaign.dispatch(experiment.id, "robot", "job-1", expect=("robot", ""))


def test_flag_marks_a_pending_experiment_and_clears(campaign: Campaign) -> None:
    first, second = campaign.ask(2)
    assert campaign.flag(first.id, "check the vial").attention == "check the vial"
    assert campaign.experiment(first.id).status is ExperimentStatus.PENDING
    assert campaign.flag(first.id, "").attention == ""
    campaign.fail(second.id, "spilled")
    with pytest.raises(StateError):
        campaign.flag(second.id, "too late")


def test_an_unknown_id_is_not_found(campaign: Campaign) -> None:
    for call in (
        lambda: campaign.experiment("exp-0000000000"),
        lambda: campaign.dispatch("exp-0000000000", "robot"),
        lambda: campaign.flag("exp-0000000000", "note"),
    ):
        with pytest.raises(NotFoundError, match="exp-0000000000"):
            call()
