"""Care plans' history: every saved version, who saved it and what changed.

The plans themselves are served by the generic routes (`/care-plans`, see resources.py), which keep a
version on every create and update. `/care-plans/{item_id}/versions` has one segment more than the
generic `/care-plans/{item_id}`, so the two never match the same path.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from remotecare.api.crud import ItemId, versions_read
from remotecare.api.deps import Principal, SessionDep, require
from remotecare.api.schemas.care import CarePlanVersionPublic
from remotecare.services import care_plans
from remotecare.store.models import CarePlan

router = APIRouter(tags=["care_plan"])
reader = require("care:read")


@router.get(
    "/care-plans/{item_id}/versions",
    response_model=list[CarePlanVersionPublic],
    summary="Every version of a care plan, oldest first",
)
def list_versions(
    item_id: ItemId, request: Request, session: SessionDep, principal: Annotated[Principal, Depends(reader)]
) -> Any:
    """Who saved each version (user id and name), when, which fields changed (from, to), and the plan as saved."""
    return versions_read(session, request, principal, CarePlan, "care_plan", item_id, care_plans.versions)
