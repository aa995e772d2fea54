"""Turning what devices, apps, EHRs and files send into readings: one module per source.

Every path produces `IncomingReading`s (or `Refusal`s for what it could not
parse); `remotecare.services.ingestion` checks and stores them the same way
whatever the source.
"""
