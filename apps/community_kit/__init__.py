"""What the community apps share: the web pages' plumbing and templates (:mod:`.site`), the
command-line options and start (:mod:`.cli`), signing in as the community (:mod:`.signin`)."""
