"""The account pages' cookies: the session (``cp_session``) and the known device (``cp_device``).

Both are HttpOnly, SameSite=Lax, and Secure when the server is reached over https (the setting
``secure_cookies``). The session cookie holds the token :class:`~auth.sessions.Sessions` keeps
only a hash of; the device cookie, a value :class:`~auth.devices.Devices` signed, goes only to
``/.account/`` pages. (The CSRF cookie ``cp_csrf`` is :mod:`auth.http.csrf`'s.)
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from auth import devices, sessions
from auth.accounts import Account
from auth.devices import Device, Devices
from auth.sessions import Session, Sessions

SESSION = "cp_session"
DEVICE = "cp_device"
DEVICE_PATH = "/.account/"  # sign-in and password pages only: never sent with pod requests


class Cookies:
    """Reads and sets the session and device cookies."""

    def __init__(self, sessions: Sessions, devices: Devices, *, secure: bool):
        self.sessions, self.devices, self._secure = sessions, devices, secure

    async def session(self, request: Request) -> Session | None:
        """The session of the request's ``cp_session`` cookie, if it is live."""
        return await self.sessions.find(request.cookies.get(SESSION))

    def start_session(self, response: Response, token: str) -> None:
        response.set_cookie(SESSION, token, max_age=sessions.LIFETIME, path="/",
                            secure=self._secure, httponly=True, samesite="lax")

    def end_session(self, response: Response) -> None:
        response.delete_cookie(SESSION, path="/", secure=self._secure, httponly=True,
                               samesite="lax")

    async def device(self, request: Request) -> Device | None:
        """The browser's device cookie, if it is one of ours, intact and unexpired."""
        return await self.devices.verify(request.cookies.get(DEVICE, ""))

    async def remember_device(self, response: Response, device: Device | None,
                              account: Account) -> None:
        """Set (or renew) the device cookie of a browser that just signed in to ``account``."""
        value = await self.devices.issue(device, account)
        response.set_cookie(DEVICE, value, max_age=devices.LIFETIME, path=DEVICE_PATH,
                            secure=self._secure, httponly=True, samesite="lax")
