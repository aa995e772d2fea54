"""Documents for people: the audit packet behind a claim line."""
