"""Dashboard (R12, R15): on-time shares, response and resolution times, rankings, as SVG and CSV."""

from fastapi import APIRouter

router = APIRouter()
