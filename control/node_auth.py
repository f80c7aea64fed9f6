"""Node credentials: how one node of the province proves itself to another.

A node-to-node request (a relay pulling a stream by WHEP, a segment fetched from the node
that recorded it) carries `Authorization: Node <node id>.<expiry>.<signature>`, an HMAC-SHA256
over the id and expiry with the province's node secret. Every node shares that secret through
the environment (`COURTAV_NODE_SECRET`, never a committed file); a node started without one
makes up its own, so it works alone and nobody else can speak for it.

The principal of a verified request is `Principal("node:<id>", "node")`: the policy lets a
node view streams and recordings everywhere (it serves users that the policy has already
checked on their own node), and nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import time
from collections.abc import Callable
from typing import Final

from control.policy import Principal

log = logging.getLogger(__name__)

SECRET_ENV: Final = "COURTAV_NODE_SECRET"  # noqa: S105  (the variable's name)
SCHEME: Final = "Node"
TTL_S: Final = 300.0
_ID: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


def node_principal(node_id: str) -> Principal:
    return Principal(f"node:{node_id}", "node")


class NodeCredential:
    """Signs this node's requests to its peers and verifies theirs."""

    def __init__(self, node_id: str, secret: str | None = None, *,
                 clock: Callable[[], float] = time.time) -> None:
        if not _ID.match(node_id):
            raise ValueError(f"bad node id {node_id!r}")
        configured = secret if secret is not None else os.environ.get(SECRET_ENV, "")
        self.shared = bool(configured)
        if not configured:
            log.info("no %s: this node's credential is its own; set one secret on every node "
                     "so that they relay streams and recordings to each other", SECRET_ENV)
        self._key = (configured or secrets.token_hex(32)).encode()
        self.node_id = node_id
        self._clock = clock

    def _sign(self, node_id: str, expires: int) -> str:
        return hmac.new(self._key, f"{node_id}.{expires}".encode(), hashlib.sha256).hexdigest()

    def header(self) -> str:
        """The `Authorization` value for a request from this node, valid for TTL_S."""
        expires = int(self._clock() + TTL_S)
        return f"{SCHEME} {self.node_id}.{expires}.{self._sign(self.node_id, expires)}"

    def verify(self, value: str) -> Principal | None:
        """The node a credential (the part after `Node `) was issued to, if it is valid now."""
        head, _, signature = value.strip().rpartition(".")
        node_id, _, expiry = head.rpartition(".")
        if not (_ID.match(node_id) and expiry.isdigit() and len(expiry) <= 12
                and len(signature) == 64):
            return None
        if int(expiry) < self._clock():
            return None
        if not hmac.compare_digest(signature, self._sign(node_id, int(expiry))):
            return None
        return node_principal(node_id)
