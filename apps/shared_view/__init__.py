"""Shared view: the first community app, built only on :mod:`apps.sdk` (issue #12 §2).

A community — an account on a Commonpod server — lets its members join from a web page (each
signs in on their own server and grants the app "read your contributions"), reads their
contributions as itself, and shows a dashboard by project, kind and month in which any figure
drawn from fewer than k members is suppressed, with optional OpenDP noise under a privacy
budget. Everything it keeps lives as RDF in the community's own pod; what it read from members
is cached in memory and forgotten when they leave or revoke. apps/shared_view/README.md says
how to run it.
"""
