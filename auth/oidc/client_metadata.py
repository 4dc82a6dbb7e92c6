"""Client metadata (RFC 7591 §2), checked field by field before anything uses it.

A registration is refused unless every field this server understands has the right JSON type
and a usable value; fields it does not understand are dropped (RFC 7591 §2: "MUST ignore").
Redirect URIs are held to the URL Standard's idea of a host, so that the origin serialised
from one (:func:`origin`, used in the consent page's CSP) can never carry ``;``, ``,`` or
spaces. The same checks read Client ID Documents (Solid-OIDC §5.1) and stored registrations.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import SplitResult, urlsplit

import idna

from auth.oidc.needs import is_iri

SCOPES = ("openid", "webid", "offline_access")
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
GRANT_TYPES = ("authorization_code", "refresh_token")
MAX_URI = 2048
MAX_REDIRECT_URIS = 10
MAX_TEXT = 200
MAX_CONTACTS = 10
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")  # RFC 6749 §3.3
_DEFAULT_PORTS = {"http": 80, "https": 443}
_NUMBER = re.compile(r"[0-9]+|0x[0-9a-f]*")  # a last label that makes a host an IPv4 address


class ClientError(ValueError):
    """Client metadata or a Client ID Document that cannot be used (RFC 7591 §3.2.2
    ``invalid_client_metadata``)."""

    error = "invalid_client_metadata"


class RedirectURIError(ClientError):
    """A redirect URI that cannot be used (RFC 7591 §3.2.2 ``invalid_redirect_uri``)."""

    error = "invalid_redirect_uri"


def is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def _host(parts: SplitResult) -> str:
    """The host of ``parts`` as the URL Standard serialises it (ASCII, lower case, IPv6 in
    brackets); raises ``ValueError`` unless it is a valid IP address or DNS name."""
    host = parts.hostname or ""
    if parts.netloc.startswith("["):
        if "%" in host:
            raise ValueError("an IPv6 zone")
        return f"[{ipaddress.IPv6Address(host).compressed}]"
    if host.endswith("."):
        raise ValueError("a trailing dot")
    if _NUMBER.fullmatch(host.rsplit(".", 1)[-1]):  # URL Standard: "ends in a number"
        return str(ipaddress.IPv4Address(host))
    return idna.encode(host, uts46=False, std3_rules=True).decode("ascii")


def _authority(uri: str) -> tuple[SplitResult, str, int | None]:
    """The parts, host and explicit port of an absolute URL; raises ``ValueError`` unless
    its authority reads exactly as it serialises: a valid host, no user info, no empty,
    padded or out-of-range port."""
    try:
        parts = urlsplit(uri)
        host, port = _host(parts), parts.port
    except ValueError:  # also idna.IDNAError
        raise ValueError("no valid host or port") from None
    if parts.netloc.lower() != host + (f":{port}" if port is not None else ""):
        raise ValueError("user info, or a host or port not written plainly")
    return parts, host, port


def origin(uri: str) -> str:
    """The origin of an http(s) URL, serialised (RFC 6454 §6.2): ``scheme://host[:port]``,
    which cannot hold ``;``, ``,`` or spaces."""
    try:
        parts, host, port = _authority(uri)
    except ValueError:
        raise RedirectURIError(f"{_shown(uri)} has no valid host") from None
    if port is None or port == _DEFAULT_PORTS.get(parts.scheme):
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _web_url(value: object, name: str, error: type[ClientError] = ClientError) -> str:
    """An absolute http(s) URL of ASCII characters with a valid host and no fragment."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_URI or not value.isascii() \
            or not is_iri(value):
        raise error(f"{name} {_shown(value)} is not an absolute URL of at most {MAX_URI} "
                    "ASCII characters")
    try:
        parts = _authority(value)[0]
    except ValueError as exc:
        raise error(f"{name} {_shown(value)} has {exc}") from None
    if parts.scheme not in ("https", "http") or "#" in value:
        raise error(f"{name} {_shown(value)} must be an http(s) URL without a fragment")
    return value


def check_redirect_uri(uri: object) -> str:
    """A redirect URI: absolute https, or http on loopback (RFC 8252 §7.3), with a valid host
    and no user info or fragment (RFC 6749 §3.1.2)."""
    uri = _web_url(uri, "redirect URI", RedirectURIError)
    parts = urlsplit(uri)
    if parts.scheme != "https" and not is_loopback(parts.hostname):
        raise RedirectURIError(f"redirect URI {_shown(uri)} must be https (or http on "
                               "loopback)")
    return uri


def _text(value: object, name: str, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or len(value) > limit or not value.isprintable():
        raise ClientError(f"{name} must be a string of at most {limit} printable characters")
    return value


def client_name(value: object) -> str:
    """The app's name, shown to people on the consent page."""
    return _text(value, "client_name")


def _list(value: object, name: str, limit: int) -> list[Any]:
    if not isinstance(value, list) or not 0 < len(value) <= limit:
        raise ClientError(f"{name} must be a list of 1 to {limit} values")
    return value


def redirect_uris(value: object) -> list[str]:
    if not isinstance(value, list) or not 0 < len(value) <= MAX_REDIRECT_URIS:
        raise RedirectURIError(f"redirect_uris must be a list of 1 to {MAX_REDIRECT_URIS} "
                               "URIs")
    return [check_redirect_uri(uri) for uri in value]


def grant_types(value: object) -> list[str]:
    """Grant types for the code flow: ``authorization_code``, optionally ``refresh_token``
    (RFC 7591 §2.1: the ``code`` response type goes with ``authorization_code``)."""
    found = _list(value, "grant_types", len(GRANT_TYPES))
    if not all(isinstance(g, str) for g in found) or not set(GRANT_TYPES) >= set(found) \
            or len(set(found)) != len(found) or "authorization_code" not in found:
        raise ClientError("grant_types must be authorization_code, and refresh_token if the "
                          "app keeps access while the user is away")
    return found


def response_types(value: object) -> list[str]:
    if value != ["code"]:
        raise ClientError('response_types must be ["code"] (the authorization code flow)')
    return ["code"]


def scope(value: object, *, known_only: bool) -> str:
    """A space-separated list of scope tokens (RFC 6749 §3.3); with ``known_only``, only
    scopes this server supports."""
    text = _text(value, "scope", 1000)
    tokens = text.split(" ")
    if not all(_SCOPE_TOKEN.fullmatch(t) for t in tokens):
        raise ClientError("scope must be scope names separated by single spaces")
    unknown = [t for t in tokens if t not in SCOPES]
    if known_only and unknown:
        raise ClientError(f"scope {unknown[0]!r} is not one of {', '.join(SCOPES)}")
    return text


def _auth_method(value: object) -> str:
    if value not in AUTH_METHODS:
        raise ClientError(f"token_endpoint_auth_method must be one of {', '.join(AUTH_METHODS)}")
    return str(value)


def _contacts(value: object) -> list[str]:
    return [_text(c, "contacts", 320) for c in _list(value, "contacts", MAX_CONTACTS)]


def _refused(value: object) -> None:
    raise ClientError("jwks and jwks_uri are not used here: clients authenticate with a "
                      "secret or not at all")


#: what a registration may say, and how each value is checked
FIELDS = {
    "redirect_uris": redirect_uris,
    "token_endpoint_auth_method": _auth_method,
    "grant_types": grant_types,
    "response_types": response_types,
    "client_name": client_name,
    "client_uri": lambda v: _web_url(v, "client_uri"),
    "logo_uri": lambda v: _web_url(v, "logo_uri"),
    "tos_uri": lambda v: _web_url(v, "tos_uri"),
    "policy_uri": lambda v: _web_url(v, "policy_uri"),
    "scope": lambda v: scope(v, known_only=True),
    "contacts": _contacts,
    "software_id": lambda v: _text(v, "software_id"),
    "software_version": lambda v: _text(v, "software_version"),
    "jwks": _refused,
    "jwks_uri": _refused,
}
#: this server's extensions (checked by :mod:`auth.oidc.needs`), kept as they are
EXTENSIONS = ("access_needs", "agent_webid", "grant_webhook")


def registration(data: object) -> dict[str, Any]:
    """The metadata of a registration request (RFC 7591 §3.1) with every field this server
    understands checked, and only those; ``null`` counts as absent. Raises
    :class:`ClientError` (or :class:`RedirectURIError`) naming the field."""
    if not isinstance(data, dict):
        raise ClientError("the body must be a JSON object")
    if data.get("redirect_uris") is None:
        raise RedirectURIError("redirect_uris is required")
    checked = {name: check(data[name]) for name, check in FIELDS.items()
               if data.get(name) is not None}
    return checked | {name: data[name] for name in EXTENSIONS if data.get(name) is not None}
