"""Routes: outreach (being written)."""

from fastapi import APIRouter

router = APIRouter(tags=["outreach"])
