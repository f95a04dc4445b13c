# The wire codec against the shared vectors in test/vectors/: encoding each .json's messages
# gives the .bin byte for byte, decoding the .bin gives the .json; framing edge cases.
import json
import os
import struct
import unittest

from support import VECTORS

from tracelens import wire


def cases():
    names = sorted(f[:-5] for f in os.listdir(VECTORS) if f.endswith(".json"))
    assert names, "no vectors in " + VECTORS
    return names


class VectorTest(unittest.TestCase):
    def test_vectors_exist(self):
        self.assertEqual(cases(), ["control", "every_kind", "hello_run", "new_kinds", "text"])

    def test_encoding_matches_vectors(self):
        for name in cases():
            with self.subTest(vector=name):
                with open(os.path.join(VECTORS, name + ".json"), encoding="utf-8") as f:
                    messages = json.load(f)
                with open(os.path.join(VECTORS, name + ".bin"), "rb") as f:
                    expected = f.read()
                self.assertEqual(b"".join(wire.encode_frame(m) for m in messages), expected)

    def test_decoding_matches_vectors(self):
        for name in cases():
            with self.subTest(vector=name):
                with open(os.path.join(VECTORS, name + ".json"), encoding="utf-8") as f:
                    messages = json.load(f)
                with open(os.path.join(VECTORS, name + ".bin"), "rb") as f:
                    data = f.read()
                decoded, rest = wire.decode_frames(data)
                self.assertEqual(decoded, messages)
                self.assertIsNone(rest)
                # Fed one byte at a time, the reader gives the same messages.
                reader = wire.FrameReader()
                got = []
                for i in range(len(data)):
                    got.extend(reader.feed(data[i:i + 1]))
                self.assertEqual(got, messages)

    def test_generator_is_deterministic(self):
        import importlib.util
        spec = importlib.util.spec_from_file_location("make_vectors",
                                                      os.path.join(VECTORS, "make_vectors.py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name, messages in module.CASES.items():
            with open(os.path.join(VECTORS, name + ".json"), encoding="utf-8") as f:
                self.assertEqual(f.read(), module.dump_json(messages) + "\n")


class FrameTest(unittest.TestCase):
    def test_frame_layout(self):
        frame = wire.encode_frame({"t": "end", "exit_code": None, "reason": "exit"})
        payload = b'{"t":"end","exit_code":null,"reason":"exit"}'
        self.assertEqual(frame, struct.pack(">I", len(payload)) + payload)

    def test_non_ascii_is_utf8_not_escaped(self):
        frame = wire.encode_frame({"t": "error", "message": "caf\u00e9 \U0001F600"})
        self.assertIn("caf\u00e9 \U0001F600".encode("utf-8"), frame)

    def test_lone_surrogate_is_escaped(self):
        frame = wire.encode_frame({"t": "error", "message": "bad \udc80"})
        self.assertEqual(json.loads(frame[4:].decode("ascii"))["message"], "bad \udc80")

    def test_oversized_frame_is_refused(self):
        reader = wire.FrameReader(max_frame=10)
        with self.assertRaises(wire.WireError):
            reader.feed(struct.pack(">I", 11) + b"x" * 11)

    def test_constants_mirror_wire_ts(self):
        here = os.path.dirname(os.path.abspath(__file__))
        with open(os.path.join(here, "..", "..", "adapter", "protocol", "wire.ts")) as f:
            ts = f.read()
        self.assertIn("export const WIRE_VERSION = %d;" % wire.WIRE_VERSION, ts)
        self.assertIn("export const MAX_FRAME = 64 * 1024 * 1024;", ts)
        self.assertEqual(wire.MAX_FRAME, 64 * 1024 * 1024)
        self.assertIn("export const TOKEN_ENV = '%s';" % wire.TOKEN_ENV, ts)
        self.assertIn("export const CHILD_ENV = '%s';" % wire.CHILD_ENV, ts)
        self.assertIn("export const STRUCTURED_PREFIX = '\\u%04x';" % ord(wire.STRUCTURED_PREFIX), ts)
        for name, value in (("Call", wire.CALL), ("Return", wire.RETURN), ("Raise", wire.RAISE),
                            ("Unwind", wire.UNWIND), ("Handled", wire.HANDLED),
                            ("Yield", wire.YIELD), ("Resume", wire.RESUME),
                            ("Probe", wire.PROBE), ("Task", wire.TASK), ("CCall", wire.CCALL),
                            ("CReturn", wire.CRETURN),
                            ("Generator", wire.GENERATOR), ("Coroutine", wire.COROUTINE),
                            ("AsyncGenerator", wire.ASYNC_GENERATOR), ("VarArgs", wire.VARARGS),
                            ("VarKeywords", wire.VARKEYWORDS)):
            self.assertIn("  %s = %d," % (name, value), ts)


class PackedEventsTest(unittest.TestCase):
    """Packed events (trace-file batches): every event back as it was, broken bytes refused."""

    def test_round_trip(self) -> None:
        events = [[1, 1, 2, 30], [1, 1, 3, 31, 5, 6, 7] + list(range(40)),
                  [2, 1, 3, 32, 9, 2 ** 62], [3, 2, 3, -4, 1, 2, 3], [7, 1, 2, 2 ** 63 - 1]]
        data = wire.pack_events(events)
        self.assertEqual(len(data), 8 * sum(1 + len(e) for e in events))
        self.assertEqual(wire.unpack_events(data), events)
        self.assertEqual(wire.unpack_events(b""), [])

    def test_broken(self) -> None:
        data = wire.pack_events([[1, 1, 2, 30, 4]])
        for bad in (data[:-1], data[:-8], wire.pack_events([[1, 2, 3]]),
                    struct.pack("=q", -1) + data):
            with self.assertRaises(wire.WireError):
                wire.unpack_events(bad)


if __name__ == "__main__":
    unittest.main()
