"""The account pages under ``/.account/``: one router for the app to include."""

from __future__ import annotations

from fastapi import APIRouter

from auth.routes import account, credentials, signin

router = APIRouter()
router.include_router(signin.router)
router.include_router(account.router)
router.include_router(credentials.router)
