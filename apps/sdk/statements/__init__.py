"""Verifiable statements: W3C VC 2.0 credentials with ``eddsa-rdfc-2022`` Data Integrity
proofs, Multikey keys and locally resolved ``did:key`` issuers, and builders for Commonpod's
reward and reputation statements (docs/statements.md).

The one implementation: the server's ``commonpod vc`` commands and its check of statements
written into registered containers use it too. Nothing here touches the network except
:class:`~apps.sdk.statements.resolve.HttpResolver`, which finds issuers' keys over HTTP.
"""

from apps.sdk.statements.builders import reputation_statement, reward_statement
from apps.sdk.statements.credentials import Resolver, Verdict, public_key, sign, verify
from apps.sdk.statements.cryptosuite import TransformError
from apps.sdk.statements.multikey import (
    KeyFormatError,
    decode_private_key,
    decode_public_key,
    did_key,
    did_key_vm,
    public_key_multibase,
    resolve_did_key,
)

__all__ = ["KeyFormatError", "Resolver", "TransformError", "Verdict", "decode_private_key",
           "decode_public_key", "did_key", "did_key_vm", "public_key", "public_key_multibase",
           "reputation_statement", "resolve_did_key", "reward_statement", "sign", "verify"]
