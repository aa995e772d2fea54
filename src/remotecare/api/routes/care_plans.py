"""Routes: care-plans (being written)."""

from fastapi import APIRouter

router = APIRouter(tags=["care-plans"])
