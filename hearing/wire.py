"""The API's wire format: JSON that keeps Chinese readable (times: control.iso8601)."""

from __future__ import annotations

import json
from typing import Any


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)
