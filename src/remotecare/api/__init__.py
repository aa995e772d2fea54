"""The HTTP API: authenticated, role-based, scoped to the caller's practice, audited."""
