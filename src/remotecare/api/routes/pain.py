"""Routes: pain (being written)."""

from fastapi import APIRouter

router = APIRouter(tags=["pain"])
