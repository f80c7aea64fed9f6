"""`GET /api/nodes`: the province's nodes, their state, last beat and load (admins)."""

from __future__ import annotations

from aiohttp import web

from control.http import require
from control.nodes import NODES
from control.policy import Target

routes = web.RouteTableDef()


@routes.get("/api/nodes")
async def list_nodes(request: web.Request) -> web.Response:
    await require(request, "system.metrics", Target(kind="system"))
    directory = request.config_dict[NODES]
    nodes = [n.to_json(directory.id) for n in await directory.nodes()]
    return web.json_response({"self": directory.id, "nodes": nodes},
                             headers={"Cache-Control": "no-store"})
