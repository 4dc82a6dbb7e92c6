"""The community's rules, governed by its members: the rules document (one RDF document per
version in the community's pod), proposals, approvals and the versions in force."""
