"""Routes: alerts (being written)."""

from fastapi import APIRouter

router = APIRouter(tags=["alerts"])
