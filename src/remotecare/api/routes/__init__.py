"""Routes that are not plain records: logins, the practice, API keys and the audit trail."""
