"""The web interface for care teams and billers: server-rendered pages (Jinja2), made lively with htmx.

Pages live under /app and act through the same services as the API, with the same permissions, scoping
and audit trail; they decide nothing about billing themselves.
"""
