"""``instance`` as the API shows it: the registry behind the metadata service
(neutrino's extension ``instance-metadata``, admin only, so every reader sees every
attribute).

Columns are ``db.models.Instance``'s. ``user_data`` is base64, as Nova's API takes it
(None without); ``public_keys`` is ``[{"name", "key"}]``.
"""

from __future__ import annotations

import base64

from neutrino.api.wire.declare import Attribute, Resource

INSTANCE = Resource("instance", "instances", (
    Attribute("id", "uuid", "id"),
    Attribute("project_id", "string", "project_id"),
    Attribute("tenant_id", "string", "project_id"),
    Attribute("name", "string", "name", default=""),
    Attribute("hostname", "string", "hostname"),
    Attribute("availability_zone", "string", "availability_zone", default="nova"),
    Attribute("launch_index", "integer", "launch_index", default=0),
    Attribute("public_keys", "list", needs=("public_keys",), default=[],
              value=lambda row, rel: list(row["public_keys"] or [])),
    Attribute("user_data", "string", needs=("user_data",),
              value=lambda row, rel: None if row["user_data"] is None
              else base64.b64encode(row["user_data"]).decode()),
    Attribute("vendor_data", "dict", needs=("vendor_data",), default={},
              value=lambda row, rel: row["vendor_data"] or {}),
    Attribute("created_at", "datetime", "created_at"),
    Attribute("updated_at", "datetime", "updated_at"),
))
