"""The auditors' violation log: list, evidence, rulings, penalties, export."""

from fastapi import APIRouter

router = APIRouter()
