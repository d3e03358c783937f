"""The demo's view of API answers: a refused call is ``commands.LabError``, and a
delete may find the resource gone already."""

from __future__ import annotations

import httpx

from neutrino.lab import commands

ok = commands._ok  # LabError naming the Neutron error of a refused call


def ok_or_404(resp: httpx.Response) -> httpx.Response:
    return resp if resp.status_code == 404 else ok(resp)
