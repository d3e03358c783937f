"""JSON responses encoded with orjson (lists of 1,000 ports are the hot path)."""

import json
from typing import Any

import orjson
from starlette.responses import JSONResponse as _StarletteJSON
from starlette.responses import Response


class JSONResponse(_StarletteJSON):
    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except TypeError:
            # orjson stops at 64-bit integers; an IPv6 /64 holds 2**64 addresses
            # (network-ip-availability's total_ips), which the stdlib encodes.
            return json.dumps(content, separators=(",", ":")).encode()


def no_content() -> Response:
    """204 with no body, as Neutron answers DELETE."""
    return Response(status_code=204)
