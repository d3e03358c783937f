"""Request bodies for ``/v2.0/instances`` (neutrino extension ``instance-metadata``)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from neutrino.api.schemas.common import Name, NeutronBody, ProjectId, UUIDStr

INSTANCE_ATTRIBUTES = frozenset({"id", "project_id", "tenant_id", "name", "hostname",
                                 "availability_zone", "launch_index", "public_keys", "user_data",
                                 "vendor_data", "created_at", "updated_at"})


def _base64(value: Any) -> bytes:
    try:
        if not isinstance(value, str):
            raise ValueError
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("user_data must be a base64-encoded string") from None


# RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens.
_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def _hostname(value: str) -> str:
    if len(value) > 255 or not all(_LABEL.match(label) for label in value.split(".")):
        raise ValueError(f"'{value}' is not a valid hostname")
    return value


Hostname = Annotated[str, AfterValidator(_hostname)]


class PublicKey(BaseModel):
    """One SSH public key: ``{"name": "mykey", "key": "ssh-ed25519 AAAA... user@host"}``."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\s=/]+$")]
    key: Annotated[str, StringConstraints(min_length=1, max_length=16384)]


class InstanceUpdate(NeutronBody):
    """PUT /v2.0/instances/{id}: the whole instance (omitted attributes get defaults)."""

    ATTRIBUTES = INSTANCE_ATTRIBUTES
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None
    name: Name = ""
    hostname: Hostname | None = None
    availability_zone: Annotated[str, StringConstraints(min_length=1, max_length=255)] = "nova"
    launch_index: int = Field(0, ge=0, strict=True)
    public_keys: list[PublicKey] = Field(default_factory=list, max_length=100)
    # base64 of the bytes, as Nova's API takes it; decoded here.
    user_data: Annotated[bytes, BeforeValidator(_base64)] | None = None
    vendor_data: dict[str, Any] = Field(default_factory=dict)


class InstanceCreate(InstanceUpdate):
    """POST /v2.0/instances: as PUT, plus the instance UUID (the ports' device_id)."""

    id: UUIDStr
