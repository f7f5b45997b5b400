"""Policy lifecycle for administrators: upload, check, diff, dry run, activate."""

from fastapi import APIRouter

router = APIRouter()
