# The tracer wire protocol, Python side: mirrors adapter/protocol/wire.ts exactly (framing,
# constants, event kinds, code flags). Both sides are checked against test/vectors/.
# Holds constants and the frame codec only; knows nothing of tracing or sockets.
from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up time
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Tuple

__all__ = [
    "WIRE_VERSION", "MAX_FRAME", "TOKEN_ENV",
    "CALL", "RETURN", "RAISE", "UNWIND", "HANDLED", "YIELD", "RESUME", "PROBE", "TASK",
    "CCALL", "CRETURN", "STRUCTURED_PREFIX", "CHILD_ENV",
    "GENERATOR", "COROUTINE", "ASYNC_GENERATOR", "VARARGS", "VARKEYWORDS",
    "encode_payload", "encode_frame", "FrameReader", "decode_frames", "WireError", "json_text",
    "pack_events", "unpack_events",
]

WIRE_VERSION = 1
MAX_FRAME = 64 * 1024 * 1024
#: Environment variable through which the adapter hands the session token to the tracer.
TOKEN_ENV = "TRACELENS_TOKEN"

# Event kinds: the first element of every event array (wire.ts EventKind).
CALL = 1      # [1, thread, code, ts, *argValue]
RETURN = 2    # [2, thread, code, ts, line, value]
RAISE = 3     # [3, thread, code, ts, line, excType, excMessage]
UNWIND = 4    # [4, thread, code, ts, line, excType, excMessage]
HANDLED = 5   # [5, thread, code, ts, line, excType, excMessage]
YIELD = 6     # [6, thread, code, ts, line, value]
RESUME = 7    # [7, thread, code, ts]
PROBE = 8     # [8, thread, code, ts, line, name, detail] (string ids; code 0 / line 0: no frame)
TASK = 9      # [9, thread, code, ts, taskName]: the next Call/Resume of code runs in that task
CCALL = 10    # [10, thread, code, ts]: a call into the C function named by code (file 0)
CRETURN = 11  # [11, thread, code, ts]: that C call returned (or raised)

# A `lines` message: {"t": "lines", "sampled": bool, "stats": [[file, line, hits, own_ns,
# total_ns], ...]}, deltas since the previous one; file ids from batches already sent.

#: Value strings that start with this character hold a structured snapshot as compact JSON
#: (--values structured; see wire.ts "Structured values"). Plain reprs never start with it.
STRUCTURED_PREFIX = "\u001e"
#: Environment variable handing child processes what they need to connect back (see children.py).
CHILD_ENV = "TRACELENS_CHILD"

# Bits of CodeDef flags (wire.ts CodeFlags).
GENERATOR = 1
COROUTINE = 2
ASYNC_GENERATOR = 4
VARARGS = 8
VARKEYWORDS = 16


# Packed events: a batch bound only for a trace file (the command line's --output, the API's
# output=, never the adapter's socket) may carry its events as "packed" bytes instead of (after)
# the "events" list: native int64s, each event its field count then its fields. The writer then
# reads them without a Python object per field. Same machine only: native byte order.


def pack_events(events: List[List[int]]) -> bytes:
    """The packed form of wire events (the C builder makes the same bytes)."""
    from array import array
    out = array("q")
    for ev in events:
        out.append(len(ev))
        out.extend(ev)
    return out.tobytes()


def unpack_events(data: bytes) -> List[List[int]]:
    """Wire events from their packed form; WireError when the bytes are not whole events."""
    from array import array
    values = array("q")
    if len(data) % values.itemsize:
        raise WireError("packed events of %d bytes" % len(data))
    values.frombytes(data)
    out: List[List[int]] = []
    at, end = 0, len(values)
    while at < end:
        k = values[at]
        if k < 4 or at + 1 + k > end:
            raise WireError("a broken packed event at %d" % at)
        out.append(values[at + 1:at + 1 + k].tolist())
        at += 1 + k
    return out


class WireError(Exception):
    """A broken frame or message: the connection that carried it is closed."""


def encode_payload(message: Dict[str, Any]) -> bytes:
    """The UTF-8 JSON of one message, byte for byte what wire.ts's JSON.stringify produces."""
    import json  # here, not at the top: a trace file alone never needs it (start-up time)
    text = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (from a user __repr__): escape them as JSON.stringify does.
        return json.dumps(message, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def json_text(value: Any, ensure_ascii: bool = True, compact: bool = True) -> str:
    """json.dumps(value, ensure_ascii=..., separators=(",", ":") if compact else None), the
    same text, for the plain values of the tracer's own small documents (argv, argument names,
    the child configuration) without importing json, which imports re (start-up time)."""
    try:
        import _json
        encode = _json.encode_basestring_ascii if ensure_ascii else _json.encode_basestring
        return _json_text(value, encode, "," if compact else ", ", ":" if compact else ": ")
    except (ImportError, _NotPlain):
        import json
        return json.dumps(value, ensure_ascii=ensure_ascii,
                          separators=(",", ":") if compact else None)


class _NotPlain(Exception):
    pass


def _json_text(value: Any, encode: Callable[[str], str], comma: str, colon: str) -> str:
    t = type(value)
    if t is str:
        return encode(value)
    if value is None:
        return "null"
    if t is bool:
        return "true" if value else "false"
    if t is int:
        return int.__repr__(value)
    if t is float and value == value and value not in (float("inf"), float("-inf")):
        return float.__repr__(value)
    if t is list or t is tuple:
        return "[" + comma.join([_json_text(v, encode, comma, colon) for v in value]) + "]"
    if t is dict and all(type(k) is str for k in value):
        return "{" + comma.join([encode(k) + colon + _json_text(v, encode, comma, colon)
                                 for k, v in value.items()]) + "}"
    raise _NotPlain()


def encode_frame(message: Dict[str, Any]) -> bytes:
    """Encodes one message as a frame: 4-byte big-endian payload length, then the payload."""
    payload = encode_payload(message)
    if len(payload) > MAX_FRAME:
        raise WireError("frame of %d bytes exceeds the limit of %d" % (len(payload), MAX_FRAME))
    return len(payload).to_bytes(4, "big") + payload


class FrameReader:
    """Splits a byte stream into messages; feed() returns the messages completed so far."""

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self._buf = bytearray()
        self._max = max_frame

    def feed(self, data: bytes) -> List[Dict[str, Any]]:
        self._buf += data
        out: List[Dict[str, Any]] = []
        while len(self._buf) >= 4:
            n = int.from_bytes(self._buf[:4], "big")
            if n > self._max:
                raise WireError("frame of %d bytes exceeds the limit of %d" % (n, self._max))
            if len(self._buf) < 4 + n:
                break
            payload = bytes(self._buf[4:4 + n])
            del self._buf[:4 + n]
            import json
            try:
                message = json.loads(payload.decode("utf-8"))
            except ValueError as exc:
                raise WireError("frame is not valid JSON: %s" % exc) from None
            if not isinstance(message, dict) or not isinstance(message.get("t"), str):
                raise WireError("frame is not a message object")
            out.append(message)
        return out


def decode_frames(data: bytes) -> Tuple[List[Dict[str, Any]], Optional[bytes]]:
    """Decodes a whole byte stream; returns the messages and the incomplete tail (or None)."""
    reader = FrameReader()
    messages = reader.feed(data)
    rest = bytes(reader._buf)
    return messages, (rest or None)
