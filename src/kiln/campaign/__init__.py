"""The campaign: ask/tell/fail over a durable store."""

from kiln.campaign.campaign import Campaign
from kiln.campaign.config import CampaignConfig

__all__ = ["Campaign", "CampaignConfig"]
