"""The server's side of verifiable statements: per-pod signing keys sealed in its store
(:mod:`~pod.statements.keys`), issuers' keys read from its store or fetched through its guarded
fetcher (:mod:`~pod.statements.resolver`), and the check of statements written into registered
containers (:mod:`~pod.statements.checking`).

Signing, verifying, canonicalisation, Multikey and the builders are pure and live in
:mod:`apps.sdk.statements`, which the SDK and the server share (docs/sdk.md).
"""
