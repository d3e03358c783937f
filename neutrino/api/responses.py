"""JSON responses encoded with orjson (lists of 1,000 ports are the hot path)."""

from typing import Any

import orjson
from starlette.responses import JSONResponse as _StarletteJSON
from starlette.responses import Response


class JSONResponse(_StarletteJSON):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def no_content() -> Response:
    """204 with no body, as Neutron answers DELETE."""
    return Response(status_code=204)
