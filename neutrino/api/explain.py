"""``POST /v2.0/ports/{port_id}/explain`` (extension ``explain``): why the port can or
cannot reach a destination, from ``ovn-trace`` on the SB (``ovn/explain.py``).

Body ``{"explain": {"destination": <address or port UUID>, "protocol": "icmp"|"tcp"|
"udp", "port": <1-65535 or null>, "raw": false}}``; answer ``{"explain": {"verdict",
"reason", "steps", ["raw"]}}``. Policy rule ``explain_port`` (admins and the port's
project members). The only route of the API that reads OVN: the server needs
``ovn_sb_connection`` and the ``ovn-trace`` binary (Debian ``ovn-common``).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request

from neutrino import errors
from neutrino.api import body, openapi
from neutrino.api.deps import ContextDep, EnvDep
from neutrino.api.responses import JSONResponse
from neutrino.ovn import explain
from neutrino.ovn.explain_facts import ExplainRequest

router = APIRouter()


@router.post("/v2.0/ports/{port_id}/explain",
             openapi_extra=openapi.body_operation({"explain": {"type": "object"}}))
async def explain_port(port_id: str, request: Request, env: EnvDep,
                       ctx: ContextDep) -> JSONResponse:
    data = await body.read_json(request)
    if not isinstance(data, dict) or "explain" not in data:
        raise errors.HTTPBadRequest("Unable to find 'explain' in request body")
    req = ExplainRequest.from_body(data["explain"])
    # subprocesses (ovn-trace, ovn-sbctl): never on the event loop
    result = await asyncio.to_thread(explain.explain, env, ctx, port_id, req)
    return JSONResponse({"explain": result})
