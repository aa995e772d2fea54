"""Routes: time (being written)."""

from fastapi import APIRouter

router = APIRouter(tags=["time"])
