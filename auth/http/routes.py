"""The account pages under ``/.account/``: one router for the app to include."""

from __future__ import annotations

from fastapi import APIRouter

from auth.http import (
    account,
    contributions,
    credentials,
    deletion,
    grants,
    log,
    pod_forms,
    portability,
    profile,
    sharing,
    signin,
    statements,
)

router = APIRouter()
router.include_router(signin.router)
router.include_router(account.router)
router.include_router(credentials.router)
router.include_router(deletion.router)  # /.account/delete
router.include_router(log.router)  # /.account/log, /.api/log
router.include_router(grants.router)  # /.account/grants, /.api/grants
router.include_router(sharing.router)  # /.account/share, /.account/shared
router.include_router(portability.router)  # /.account/export, /.account/import
router.include_router(profile.router)  # /.account/profile
router.include_router(contributions.router)  # /.account/contributions…
router.include_router(statements.router)  # /.account/statements
router.include_router(pod_forms.router)  # /.account/pod/…: the pod browser's actions
