"""Rewards: Open Badges 3.0 credentials for members who meet the badges of the community's
rules in force, appended to their pods, revocable through a Bitstring Status List
(apps/rewards/README.md)."""
