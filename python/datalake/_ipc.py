"""A small reader of the Arrow IPC stream format (numpy only, no pyarrow).

Reads what the data server sends (`GET /v1/query?format=arrow`): a Schema
message, then RecordBatch messages, message by message from a file-like
object, so memory stays bounded by one batch.  The input is treated as
hostile: every flatbuffer offset and buffer range is bounds-checked, sizes
are capped, and anything malformed raises CorruptData naming the message.
"""

import struct

import numpy as np

from . import _arrow, errors

MAX_METADATA = 16 << 20  # bytes of one message's flatbuffer
MAX_BODY = 2 << 30  # bytes of one batch body

_HEADER_SCHEMA, _HEADER_DICTIONARY, _HEADER_BATCH = 1, 2, 3
_TS_FORMAT = {0: b"tss", 1: b"tsm", 2: b"tsu", 3: b"tsn"}


class _Table:
    """A flatbuffer table: fields by index, every access bounds-checked."""

    def __init__(self, buf, pos, what):
        self.buf, self.pos, self.what = buf, pos, what
        self._need(pos, 4)
        vt = pos - struct.unpack_from("<i", buf, pos)[0]
        self._need(vt, 4)
        vt_size, _ = struct.unpack_from("<HH", buf, vt)
        self._need(vt, vt_size)
        self.vt, self.vt_size = vt, vt_size

    def _need(self, pos, n):
        if pos < 0 or n < 0 or pos + n > len(self.buf):
            raise errors.CorruptData("Arrow IPC: %s: offset %d+%d outside the %d-byte message" % (self.what, pos, n, len(self.buf)))

    def _field(self, i):
        if 4 + 2 * i + 2 > self.vt_size:
            return None
        off = struct.unpack_from("<H", self.buf, self.vt + 4 + 2 * i)[0]
        return self.pos + off if off else None

    def scalar(self, i, fmt, default=0):
        at = self._field(i)
        if at is None:
            return default
        self._need(at, struct.calcsize(fmt))
        return struct.unpack_from("<" + fmt, self.buf, at)[0]

    def _deref(self, i):
        at = self._field(i)
        if at is None:
            return None
        self._need(at, 4)
        return at + struct.unpack_from("<I", self.buf, at)[0]

    def table(self, i, what):
        at = self._deref(i)
        return _Table(self.buf, at, what) if at is not None else None

    def string(self, i):
        at = self._deref(i)
        if at is None:
            return None
        self._need(at, 4)
        n = struct.unpack_from("<I", self.buf, at)[0]
        self._need(at + 4, n)
        return bytes(self.buf[at + 4 : at + 4 + n]).decode("utf-8", "replace")

    def vector(self, i):
        """(start, count) of a vector field, or (0, 0)."""
        at = self._deref(i)
        if at is None:
            return 0, 0
        self._need(at, 4)
        return at + 4, struct.unpack_from("<I", self.buf, at)[0]

    def tables(self, i, what):
        start, n = self.vector(i)
        self._need(start, 4 * n)
        return [_Table(self.buf, start + 4 * k + struct.unpack_from("<I", self.buf, start + 4 * k)[0], what) for k in range(n)]

    def structs(self, i, fmt):
        start, n = self.vector(i)
        size = struct.calcsize("<" + fmt)
        self._need(start, size * n)
        return [struct.unpack_from("<" + fmt, self.buf, start + size * k) for k in range(n)]


def _field_format(field):
    name = field.string(0) or ""
    if field.table(4, "dictionary") is not None:
        raise errors.DataLakeError("Arrow IPC: column %r is dictionary-encoded, which this reader does not support" % name)
    kind = field.scalar(2, "B")
    t = field.table(3, "type of " + name)
    if kind == 2 and t is not None:  # Int
        width, signed = t.scalar(0, "i"), t.scalar(1, "?")
        fmt = {(8, True): b"c", (16, True): b"s", (32, True): b"i", (64, True): b"l", (8, False): b"C", (16, False): b"S", (32, False): b"I", (64, False): b"L"}.get((width, signed))
    elif kind == 3 and t is not None:  # FloatingPoint
        fmt = {1: b"f", 2: b"g"}.get(t.scalar(0, "h"))
    elif kind == 4:
        fmt = b"z"
    elif kind == 5:
        fmt = b"u"
    elif kind == 6:
        fmt = b"b"
    elif kind == 8 and t is not None and t.scalar(0, "h") == 0:
        fmt = b"tdD"
    elif kind == 10 and t is not None:  # Timestamp
        unit = _TS_FORMAT.get(t.scalar(0, "h"))
        fmt = unit + b":" + (t.string(1) or "").encode() if unit else None
    elif kind == 19:
        fmt = b"Z"
    elif kind == 20:
        fmt = b"U"
    else:
        fmt = None
    if fmt is None:
        raise errors.DataLakeError("Arrow IPC: column %r has a type (%d) this reader does not support" % (name, kind))
    return _arrow.Field(name, fmt, field.scalar(1, "?"))


def _buffer(body, spec, what):
    off, length = spec
    if off < 0 or length < 0 or off + length > len(body):
        raise errors.CorruptData("Arrow IPC: %s: buffer %d+%d outside the %d-byte body" % (what, off, length, len(body)))
    return body[off : off + length]


def _mask(body, spec, n, null_count, what):
    if null_count == 0 or spec[1] == 0:
        return None
    raw = np.frombuffer(_buffer(body, spec, what), dtype=np.uint8)
    if len(raw) * 8 < n:
        raise errors.CorruptData("Arrow IPC: %s: validity bitmap too short" % what)
    return np.unpackbits(raw, bitorder="little")[:n].astype(bool)


def _column(field, node, bufs, body):
    n, nulls = node
    what = "column " + field.name
    if n < 0 or nulls < 0 or nulls > n:
        raise errors.CorruptData("Arrow IPC: %s: bad length %d / null count %d" % (what, n, nulls))
    mask = _mask(body, bufs[0], n, nulls, what)
    fmt = field.format
    if fmt in _arrow._FIXED or field.timestamp_unit:
        dtype = np.dtype(_arrow._FIXED.get(fmt, np.int64))
        data = _buffer(body, bufs[1], what)
        if len(data) < n * dtype.itemsize:
            raise errors.CorruptData("Arrow IPC: %s: %d values need %d bytes, got %d" % (what, n, n * dtype.itemsize, len(data)))
        return np.frombuffer(data, dtype=dtype, count=n), mask
    if fmt == b"b":
        raw = np.frombuffer(_buffer(body, bufs[1], what), dtype=np.uint8)
        if len(raw) * 8 < n:
            raise errors.CorruptData("Arrow IPC: %s: boolean buffer too short" % what)
        return np.unpackbits(raw, bitorder="little")[:n].astype(bool), mask
    large = fmt in (b"U", b"Z")
    offsets = np.frombuffer(_buffer(body, bufs[1], what), dtype=np.int64 if large else np.int32)
    data = bytes(_buffer(body, bufs[2], what))
    if len(offsets) < n + 1 or (n and (offsets[0] < 0 or offsets[n] > len(data) or np.any(np.diff(offsets[: n + 1]) < 0))):
        raise errors.CorruptData("Arrow IPC: %s: string offsets out of range" % what)
    return _arrow.decode_strings(offsets[: n + 1], np.frombuffer(data, dtype=np.uint8), mask, fmt in (b"z", b"Z")), None


def _buffers_per_field(field):
    return 3 if field.format in (b"u", b"U", b"z", b"Z") else 2


class IpcStreamReader:
    """Iterates the batches of an Arrow IPC stream read from `f`."""

    def __init__(self, f, source="the response"):
        self._f = f
        self._source = source
        self.fields = None
        self.error_message = None
        message = self._next_message()
        if message is None:
            raise errors.CorruptData("Arrow IPC: %s is empty (no schema)" % source)
        kind, header, _ = message
        if kind != _HEADER_SCHEMA:
            raise errors.CorruptData("Arrow IPC: %s does not start with a schema" % source)
        self.fields = [_field_format(f) for f in header.tables(1, "field")]

    def _read_exact(self, n):
        chunks, left = [], n
        while left > 0:
            chunk = self._f.read(left)
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        return data

    def _next_message(self):
        head = self._read_exact(8)
        if not head:
            raise errors.CorruptData("Arrow IPC: %s ended without the end-of-stream marker (truncated)" % self._source)
        if len(head) < 4:
            raise errors.CorruptData("Arrow IPC: %s: truncated message header" % self._source)
        cont = struct.unpack_from("<I", head)[0]
        if cont == 0xFFFFFFFF:
            if len(head) < 8:
                raise errors.CorruptData("Arrow IPC: %s: truncated message header" % self._source)
            size = struct.unpack_from("<i", head, 4)[0]
            rest = b""
        else:  # legacy framing: the length alone
            size = struct.unpack_from("<i", head)[0]
            rest = head[4:]
        if size == 0:
            return None
        if size < 0 or size > MAX_METADATA:
            raise errors.CorruptData("Arrow IPC: %s: message of %d bytes" % (self._source, size))
        meta = rest + self._read_exact(size - len(rest))
        if len(meta) < size:
            raise errors.CorruptData("Arrow IPC: %s: truncated message" % self._source)
        msg = _Table(meta, struct.unpack_from("<I", meta, 0)[0], "message")
        custom = msg.tables(4, "custom_metadata")
        for kv in custom:
            if kv.string(0) in ("error", "dl:error", "dl.error"):
                self.error_message = kv.string(1) or "the server reported an error"
        kind = msg.scalar(1, "B")
        header = msg.table(2, "message header")
        body_len = msg.scalar(3, "q")
        if body_len < 0 or body_len > MAX_BODY:
            raise errors.CorruptData("Arrow IPC: %s: body of %d bytes" % (self._source, body_len))
        body = self._read_exact(body_len)
        if len(body) < body_len:
            raise errors.CorruptData("Arrow IPC: %s: truncated body" % self._source)
        if header is None and self.error_message is None:
            raise errors.CorruptData("Arrow IPC: %s: a message without a header" % self._source)
        return kind, header, body

    def __iter__(self):
        return self

    def __next__(self):
        while True:
            message = self._next_message()
            if self.error_message is not None:
                raise errors.DataLakeError("the server failed mid-stream: " + self.error_message)
            if message is None:
                raise StopIteration
            kind, header, body = message
            if kind == _HEADER_DICTIONARY:
                raise errors.DataLakeError("Arrow IPC: dictionary batches are not supported by this reader")
            if kind != _HEADER_BATCH:
                continue
            return self._batch(header, body)

    def _batch(self, header, body):
        n = header.scalar(0, "q")
        if header.table(3, "compression") is not None:
            raise errors.DataLakeError("Arrow IPC: compressed batches are not supported by this reader")
        nodes = header.structs(1, "qq")
        bufs = header.structs(2, "qq")
        if len(nodes) != len(self.fields):
            raise errors.CorruptData("Arrow IPC: a batch has %d columns, the schema %d" % (len(nodes), len(self.fields)))
        columns, b = {}, 0
        for field, node in zip(self.fields, nodes):
            k = _buffers_per_field(field)
            if b + k > len(bufs):
                raise errors.CorruptData("Arrow IPC: a batch lists too few buffers")
            columns[field.name] = _column(field, node, bufs[b : b + k], body)
            b += k
            if node[0] != n:
                raise errors.CorruptData("Arrow IPC: column %s has %d rows, the batch %d" % (field.name, node[0], n))
        return _arrow.Batch(self.fields, columns, n)

    def close(self):
        f, self._f = self._f, None
        if f is not None and hasattr(f, "close"):
            f.close()
