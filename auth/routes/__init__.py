"""The account pages under ``/.account/``: one router for the app to include."""

from __future__ import annotations

from fastapi import APIRouter

from auth.routes import account, credentials, grants, log, signin

router = APIRouter()
router.include_router(signin.router)
router.include_router(account.router)
router.include_router(credentials.router)
router.include_router(log.router)  # /.account/log, /.api/log
router.include_router(grants.router)  # /.account/grants, /.api/grants
