"""Use cases that several edges share (CLI, API, web)."""
