"""One module per page family; `pages_router` includes them all."""
