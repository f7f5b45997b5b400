"""Sign-in, sign-out and account administration pages."""

from fastapi import APIRouter

router = APIRouter()
