"""Device-vendor webhooks: one adapter per vendor payload shape, found by its url-safe name.

Each adapter turns a (signature-checked) body into `Parsed` items; see
`base.VendorAdapter`. Signatures are checked by `remotecare.ingest.signing`,
the same way for every vendor.
"""

from __future__ import annotations

from remotecare.ingest.vendors.base import VendorAdapter
from remotecare.ingest.vendors.bodytrace import BodyTraceAdapter
from remotecare.ingest.vendors.tenovi import TenoviAdapter

ADAPTERS: dict[str, VendorAdapter] = {adapter.vendor: adapter for adapter in (TenoviAdapter(), BodyTraceAdapter())}

__all__ = ["ADAPTERS", "BodyTraceAdapter", "TenoviAdapter", "VendorAdapter"]
