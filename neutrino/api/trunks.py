"""``/v2.0/trunks`` (extension ``trunk``): the standard five routes from the
Collection builder and the member actions of neutron-lib's ``ACTION_MAP``:
``PUT .../add_subports`` and ``.../remove_subports`` taking ``{"sub_ports": [...]}``
and answering 200 with the trunk itself (unwrapped, as Neutron answers member
actions), ``GET .../get_subports`` answering ``{"sub_ports": [...]}``."""

from __future__ import annotations

from fastapi import APIRouter

from neutrino.api import openapi
from neutrino.api.deps import ContextDep, EnvDep, call
from neutrino.api.resources import Collection, add_collection, add_member_action
from neutrino.api.responses import JSONResponse
from neutrino.api.schemas.trunks import TrunkCreate, TrunkUpdate
from neutrino.api.wire.trunks import TRUNK
from neutrino.services import trunk_reads, trunks

router = APIRouter()


_SUBPORTS = openapi.body_operation({"sub_ports": {"type": "array", "items": {
    "type": "object", "properties": {"port_id": {"type": "string"},
                                     "segmentation_type": {"type": "string"},
                                     "segmentation_id": {"type": "integer"}}}}})


for _action in (trunks.add_subports, trunks.remove_subports):
    add_member_action(router, "trunks", "trunk_id", _action, _SUBPORTS, wire=TRUNK,
                      reads=trunk_reads.READER)


@router.get("/v2.0/trunks/{trunk_id}/get_subports")
async def get_subports(trunk_id: str, env: EnvDep, ctx: ContextDep) -> JSONResponse:
    return JSONResponse(await call(env, trunks.get_subports, ctx, trunk_id))


add_collection(router, Collection(
    "trunks", "trunk", TrunkCreate, TrunkUpdate,
    trunks.create_trunks, trunks.update_trunk,
    trunks.delete_trunk, wire=TRUNK, reads=trunk_reads.READER))
