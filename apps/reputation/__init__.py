"""Reputation anyone can check: scores from members' consented contributions, appreciations
and endorsements under the community's rules, a "why this score" page per member, and a signed
reputation statement appended to each member's pod (apps/reputation/README.md)."""
