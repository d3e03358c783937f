"""The ASGI application: the Networking API v2.0."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import APIRouter, FastAPI

from neutrino import dashboard, policy
from neutrino.api import keystone
from neutrino.api import (address_groups, agents, default_security_group_rules, errors,
                          explain, extensions, flavors, health, instances, l3_lists,
                          network_logs, nul, openapi,
                          ip_availability, metrics, port_bindings, port_forwardings, qos, quotas,
                          rbac, resources, routers, scheduler, segment_ranges, subnetpools, tags,
                          telemetry, trunks)
from neutrino.api.responses import JSONResponse
from neutrino.metrics import exposition
from neutrino.metrics.database import DatabaseCollector
from neutrino.services import segment_ranges as segment_range_service
from neutrino.services.env import Env


class NeutrinoApp(FastAPI):
    """FastAPI with ``api.telemetry`` outside everything, Starlette's error middleware
    included: a 500 carries its request id too, and the traceback logged with it."""

    def build_middleware_stack(self):
        return telemetry.TelemetryMiddleware(super().build_middleware_stack())


def create_app(env: Env) -> FastAPI:
    """Build the app around an Env (database + settings). Starting it (the ASGI
    lifespan) writes the default network segment ranges of these settings; its end
    marks this process's metrics dead (``metrics.exposition.process_exit``). Serves
    ``GET /metrics`` unless ``metrics_listen`` is set."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        await asyncio.to_thread(segment_range_service.sync_default_ranges, env)
        yield
        exposition.process_exit()

    app = NeutrinoApp(title="neutrino", version="2.0", default_response_class=JSONResponse,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json", lifespan=lifespan,
                      generate_unique_id_function=openapi.operation_id)
    app.state.env = env
    errors.install(app)
    policy.init(env.settings.policy_file)
    app.add_middleware(nul.NulGuard)  # inside the Keystone middleware: auth first
    if env.settings.auth_strategy == "keystone":
        app.add_middleware(keystone.KeystoneMiddleware, auth=keystone.KeystoneAuth(env.settings))
    core = APIRouter()
    for collection in resources.COLLECTIONS:
        resources.add_collection(core, collection)
    # Routes are matched in order, each a regular expression: the core collections
    # (ports, networks, subnets...: most requests) come first, so a request to them
    # is not tried against the ~200 routes of the other routers (0.5 ms a request).
    # No path of those routers is also a core collection's path. Network IP
    # availability follows them (issue 22 wants it answered within 1 ms); no other
    # router has a path under /v2.0/network-ip-availabilities.
    app.include_router(core)
    app.include_router(ip_availability.router)
    app.include_router(extensions.router)
    app.include_router(health.router)
    if not env.settings.metrics_listen:
        app.state.metrics_registry = exposition.registry(DatabaseCollector(env))
        app.include_router(metrics.router)
    app.include_router(routers.router)
    app.include_router(subnetpools.router)
    app.include_router(address_groups.router)
    app.include_router(network_logs.router)
    app.include_router(trunks.router)
    app.include_router(qos.router)
    app.include_router(default_security_group_rules.router)
    app.include_router(agents.router)
    app.include_router(l3_lists.router)
    app.include_router(flavors.router)
    app.include_router(segment_ranges.router)
    app.include_router(port_bindings.router)
    app.include_router(explain.router)
    app.include_router(port_forwardings.router)  # /v2.0/floatingips/{id}/port_forwardings
    app.include_router(tags.router)
    app.include_router(quotas.router)
    app.include_router(rbac.router)
    app.include_router(scheduler.router)
    app.include_router(instances.router)
    openapi.install(app)  # /openapi.json: schemas from the request models
    dashboard.install(app)  # /dashboard: the web dashboard, its login and assets
    logging.getLogger(__name__).debug("API ready on %s", env.db.url)
    return app
