"""Request and response bodies: one family per entity (XCreate, XUpdate, XPublic)."""
