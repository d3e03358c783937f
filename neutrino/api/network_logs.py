"""``/v2.0/log/logs`` and ``/v2.0/log/loggable-resources`` (extension ``logging``,
neutron-lib ``api/definitions/logging.py``, ``API_PREFIX = '/log'``): the standard
five routes of a collection for logs, and the list of loggable resource types
(``{"loggable_resources": [{"type": "security_group"}]}``)."""

from __future__ import annotations

from fastapi import APIRouter

from neutrino.api.deps import ContextDep, EnvDep, call
from neutrino.api.resources import Collection, add_collection
from neutrino.api.responses import JSONResponse
from neutrino.api.schemas.network_logs import LogCreate, LogUpdate
from neutrino.api.wire.network_logs import NETWORK_LOG
from neutrino.services import network_log_reads, network_logs

router = APIRouter()


@router.get("/v2.0/log/loggable-resources")
@router.get("/v2.0/log/loggable-resources.json")
async def loggable_resources(env: EnvDep, ctx: ContextDep) -> JSONResponse:
    return JSONResponse({"loggable_resources": await call(
        env, network_logs.list_loggable_resources, ctx)})


add_collection(router, Collection(
    "logs", "log", LogCreate, LogUpdate, network_logs.create_logs, network_logs.update_log,
    network_logs.delete_log, path="log/logs",
    wire=NETWORK_LOG, reads=network_log_reads.READER))
