"""The API's JSON parser: orjson, with a bound on nesting depth.

DRF's parser hands the body to the standard library, whose recursive decoder raises
``RecursionError`` (a 500) on a body nested about 1,000 levels deep. orjson parses without
recursion in Python and stops at 1,024 levels; on top of that no MediTrack body is deeper than a
few levels, so anything past ``MAX_JSON_DEPTH`` is refused before a serializer walks it. Both are
a 400 like any other malformed body.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Deepest accepted body: {"taper": [{"from_day": 0}]} is 3 levels; the margin is generous.
MAX_JSON_DEPTH = 32


def nesting_depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests objects/arrays more than ``limit`` levels (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def loads(data: bytes | str) -> Any:
    """JSON text to Python, or ``ValueError`` saying why not (malformed, or nested deeper than
    ``MAX_JSON_DEPTH``). The one JSON reader for untrusted input: HTTP bodies and WebSocket
    messages alike."""
    value = orjson.loads(data)  # orjson.JSONDecodeError is a ValueError
    if nesting_depth_exceeds(value, MAX_JSON_DEPTH):
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels.")
    return value


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            body = stream.read()
            if encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
                body = body.decode(encoding).encode()
            return loads(body)
        except (ValueError, LookupError) as exc:  # UnicodeError is a ValueError
            raise ParseError(f"JSON parse error - {exc}") from None
