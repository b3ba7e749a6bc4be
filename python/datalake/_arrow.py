"""Arrow C Data Interface arrays -> numpy arrays and pandas columns.

A batch from libdatalake's ArrowArrayStream is a struct array; each child
column becomes a numpy array.  Fixed-width columns without nulls are views
of the Arrow buffers (no copy): every such view keeps a BatchOwner alive
through its base chain, and the owner calls the array's release callback
when the last view is gone.  Other layouts (strings, bit-packed booleans,
nullable columns) are converted.
"""

import ctypes
import re

import numpy as np

from . import _native, errors

_FIXED = {
    b"c": np.int8,
    b"C": np.uint8,
    b"s": np.int16,
    b"S": np.uint16,
    b"i": np.int32,
    b"I": np.uint32,
    b"l": np.int64,
    b"L": np.uint64,
    b"f": np.float32,
    b"g": np.float64,
    b"tdD": np.int32,
}
_TS_UNIT = {b"tss": "s", b"tsm": "ms", b"tsu": "us", b"tsn": "ns"}


class BatchOwner:
    """Owns one exported ArrowArray; releases it when garbage collected."""

    def __init__(self, array):
        self.array = array  # an _native.ArrowArray (ctypes), moved in
        self.released = False

    def release(self):
        if not self.released and self.array.release:
            self.array.release(ctypes.byref(self.array))
        self.released = True

    def __del__(self):
        try:
            self.release()
        except Exception:
            pass


class Field:
    """A column's name, Arrow format and what pandas makes of it."""

    def __init__(self, name, fmt, nullable, dictionary_fmt=None):
        self.name = name
        self.format = fmt
        self.nullable = nullable
        self.dictionary_format = dictionary_fmt

    @property
    def timestamp_unit(self):
        return _TS_UNIT.get(self.format[:3]) if self.format.startswith(b"ts") else None

    @property
    def timestamp_tz(self):
        if not self.format.startswith(b"ts"):
            return None
        tz = self.format[4:].decode()
        return tz or None

    def __repr__(self):
        return "Field(%r, %r)" % (self.name, self.format.decode())


def fields_of_schema(schema):
    """The fields of a struct ArrowSchema (ctypes) as Field objects."""
    if schema.format != b"+s":
        raise errors.CorruptData("Arrow stream: top-level schema is %r, expected a struct" % schema.format)
    out = []
    for i in range(schema.n_children):
        child = schema.children[i].contents
        dict_fmt = child.dictionary.contents.format if child.dictionary else None
        out.append(Field(child.name.decode("utf-8"), child.format, bool(child.flags & 2), dict_fmt))
    return out


def _view(owner, address, dtype, count):
    """A numpy array over `count` items at `address`, keeping owner alive."""
    dtype = np.dtype(dtype)
    if count == 0 or not address:
        return np.zeros(0, dtype=dtype)
    raw = (ctypes.c_char * (count * dtype.itemsize)).from_address(address)
    raw._dl_owner = owner  # base chain: array -> raw -> owner -> ArrowArray
    return np.frombuffer(raw, dtype=dtype, count=count)


def _validity(owner, arr):
    """Boolean numpy mask of valid rows, or None when all rows are valid."""
    if arr.null_count == 0 or not arr.buffers[0]:
        return None
    n, off = arr.length, arr.offset
    nbytes = (off + n + 7) // 8
    bits = np.unpackbits(_view(owner, arr.buffers[0], np.uint8, nbytes), bitorder="little")
    return bits[off : off + n].astype(bool)


_GATHER_ROWS = 65536  # rows gathered at once by decode_strings (bounds its scratch memory)


def decode_strings(offsets, data, valid, binary):
    """Arrow string/binary values -> an object array of str (or bytes).

    offsets: n+1 integers; data: a uint8 array; valid: bool mask or None.
    Short values without NUL bytes (symbols, venues, labels) are gathered
    into fixed-width rows and each distinct value is decoded once."""
    n = len(offsets) - 1
    out = np.empty(max(n, 0), dtype=object)
    if n <= 0:
        return out
    starts = offsets[:-1].astype(np.int64)
    lens = np.diff(offsets).astype(np.int64)
    width = int(lens.max())
    if width and lens.min() == width and starts[0] == 0 and len(data) == n * width:
        # every value has the same length: a constant column (a query's
        # symbol column holds one symbol per batch) is one comparison
        rows = data[: n * width].reshape(n, width)
        if (rows == rows[0]).all():
            first = rows[0].tobytes()
            out[:] = first if binary else first.decode("utf-8", "replace")
            if valid is not None:
                out[~valid] = None
            return out
    if 0 < width <= 32 and n > 64 and len(data) and not (data == 0).any():
        cols = np.arange(width)
        for lo in range(0, n, _GATHER_ROWS):
            hi = min(n, lo + _GATHER_ROWS)
            idx = np.minimum(starts[lo:hi, None] + cols, len(data) - 1)
            rows = np.where(cols < lens[lo:hi, None], data[idx], 0).astype(np.uint8)
            uniq, inverse = np.unique(rows.view("S%d" % width).ravel(), return_inverse=True)
            decoded = np.array([u if binary else u.decode("utf-8", "replace") for u in uniq] + [None], dtype=object)[:-1]
            out[lo:hi] = decoded[inverse]
    else:
        raw = data.tobytes()
        for i in range(n):
            piece = raw[starts[i] : starts[i] + lens[i]]
            out[i] = piece if binary else piece.decode("utf-8", "replace")
    if valid is not None:
        out[~valid] = None
    return out


def _strings(owner, arr, large, binary):
    n, off = arr.length, arr.offset
    offsets = _view(owner, arr.buffers[1], np.int64 if large else np.int32, off + n + 1)[off:]
    total = int(offsets[-1]) if len(offsets) else 0
    data = _view(owner, arr.buffers[2], np.uint8, total)
    return decode_strings(offsets, data, _validity(owner, arr), binary)


def column_to_numpy(owner, field, arr):
    """(values, mask) for one child array: values a numpy array (a view when
    the layout allows), mask a boolean validity array or None."""
    fmt = field.format
    n, off = arr.length, arr.offset
    if field.dictionary_format is not None:
        indices = _view(owner, arr.buffers[1], _FIXED[fmt], off + n)[off:]
        dictionary = column_to_numpy(owner, Field("", field.dictionary_format, True), arr.dictionary.contents)[0]
        return ("dictionary", indices, dictionary), _validity(owner, arr)
    if fmt in _FIXED:
        return _view(owner, arr.buffers[1], _FIXED[fmt], off + n)[off:], _validity(owner, arr)
    if field.timestamp_unit:
        return _view(owner, arr.buffers[1], np.int64, off + n)[off:], _validity(owner, arr)
    if fmt == b"b":
        bits = np.unpackbits(_view(owner, arr.buffers[1], np.uint8, (off + n + 7) // 8), bitorder="little")
        return bits[off : off + n].astype(bool), _validity(owner, arr)
    if fmt in (b"u", b"U", b"z", b"Z"):
        return _strings(owner, arr, fmt in (b"U", b"Z"), fmt in (b"z", b"Z")), None
    raise errors.DataLakeError("column %r: Arrow type %r is not supported by the Python client" % (field.name, fmt))


_NS_PER = {"s": 1000000000, "ms": 1000000, "us": 1000, "ns": 1}


def to_pandas_column(field, values, mask):
    """A pandas-ready column (numpy array or pandas extension array)."""
    import pandas as pd

    if isinstance(values, tuple) and values[0] == "dictionary":
        _, indices, dictionary = values
        codes = indices.astype(np.int64)
        if mask is not None:
            codes = np.where(mask, codes, -1)
        return pd.Categorical.from_codes(codes, categories=pd.Index(dictionary))
    unit = field.timestamp_unit
    if unit:
        # pandas 1.5 holds nanoseconds only: one multiply (a copy) is unavoidable
        ns = values.astype(np.int64) * _NS_PER[unit]
        if mask is not None:
            ns[~mask] = np.iinfo(np.int64).min  # NaT
        tz = field.timestamp_tz
        if not tz:
            return pd.arrays.DatetimeArray(ns.view("datetime64[ns]"))
        # the values are UTC instants already: no tz_localize pass over them
        out = pd.arrays.DatetimeArray(ns.view("datetime64[ns]"), dtype=pd.DatetimeTZDtype(tz="UTC"))
        return out if tz in ("UTC", "+00:00", "Z") else out.tz_convert(tz)
    if field.format == b"tdD":
        out = pd.to_datetime(values.astype(np.int64), unit="D")
        return out.where(mask) if mask is not None else out
    if mask is None or values.dtype == object:
        return values
    if values.dtype.kind == "f":
        out = values.astype(values.dtype, copy=True)
        out[~mask] = np.nan
        return out
    if values.dtype.kind in "iu":
        return pd.arrays.IntegerArray(values.copy(), ~mask)
    if values.dtype.kind == "b":
        return pd.arrays.BooleanArray(values.copy(), ~mask)
    return values


class Batch:
    """One batch of rows: `columns` maps name -> (values, mask)."""

    def __init__(self, fields, columns, num_rows):
        self.fields = fields
        self.columns = columns
        self.num_rows = num_rows

    def to_pandas(self):
        import pandas as pd

        data = {f.name: to_pandas_column(f, *self.columns[f.name]) for f in self.fields}
        return pd.DataFrame(data, copy=False)


def batch_from_array(fields, array):
    """Converts one exported struct array (moved into a BatchOwner)."""
    owner = BatchOwner(array)
    if array.n_children != len(fields):
        owner.release()
        raise errors.CorruptData("Arrow stream: a batch has %d columns, the schema %d" % (array.n_children, len(fields)))
    columns = {}
    for i, f in enumerate(fields):
        child = array.children[i].contents
        columns[f.name] = column_to_numpy(owner, f, child)
    return Batch(fields, columns, array.length)


def concat_batches(fields, batches):
    """One Batch of all rows (the single batch itself, uncopied, when there is one)."""
    if len(batches) == 1:
        return batches[0]
    columns = {}
    for f in fields:
        parts = [b.columns[f.name] for b in batches]
        values = [p[0] for p in parts]
        if values and isinstance(values[0], tuple):  # dictionary: decode to plain values
            values = [v[2][v[1]] for v in values]
        masks = [p[1] if p[1] is not None else np.ones(len(v), dtype=bool) for p, v in zip(parts, values)]
        merged = np.concatenate(values) if values else np.zeros(0)
        mask = np.concatenate(masks) if any(p[1] is not None for p in parts) else None
        columns[f.name] = (merged, mask)
    return Batch(fields, columns, sum(b.num_rows for b in batches))


def empty_batch(fields):
    cols = {}
    for f in fields:
        if f.format in _FIXED:
            cols[f.name] = (np.zeros(0, dtype=_FIXED[f.format]), None)
        elif f.timestamp_unit:
            cols[f.name] = (np.zeros(0, dtype=np.int64), None)
        elif f.format == b"b":
            cols[f.name] = (np.zeros(0, dtype=bool), None)
        else:
            cols[f.name] = (np.zeros(0, dtype=object), None)
    return Batch(fields, cols, 0)


class NativeStream:
    """Iterates an ArrowArrayStream exported by libdatalake, batch by batch.

    The stream is released when iteration ends, on close() and on garbage
    collection; batches stay valid after that (each owns its arrays).
    """

    def __init__(self, stream):
        self._stream = stream  # _native.ArrowArrayStream, owned
        schema = _native.ArrowSchema()
        rc = stream.get_schema(ctypes.byref(stream), ctypes.byref(schema))
        if rc != 0:
            msg = self._last_error()
            self.close()
            raise errors.DataLakeError(msg or "Arrow stream: get_schema failed (errno %d)" % rc)
        try:
            self.fields = fields_of_schema(schema)
        finally:
            schema.release(ctypes.byref(schema))

    def _last_error(self):
        s = self._stream
        if s is None or not s.get_last_error:
            return None
        msg = s.get_last_error(ctypes.byref(s))
        return msg.decode("utf-8", "replace") if msg else None

    def __iter__(self):
        return self

    def __next__(self):
        s = self._stream
        if s is None:
            raise StopIteration
        array = _native.ArrowArray()
        rc = s.get_next(ctypes.byref(s), ctypes.byref(array))
        if rc != 0:
            msg = self._last_error() or "Arrow stream error (errno %d)" % rc
            self.close()
            raise errors.error_for(msg, is_filter=msg.startswith("filter:"))
        if not array.release:
            self.close()
            raise StopIteration
        return batch_from_array(self.fields, array)

    def detach(self):
        """Hands the raw stream to a new owner (the PyCapsule protocol)."""
        s, self._stream = self._stream, None
        return s

    def close(self):
        s, self._stream = self._stream, None
        if s is not None and s.release:
            s.release(ctypes.byref(s))

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


# The destructor gets the capsule as a raw pointer: it runs while the capsule
# is being deallocated, and a py_object argument would revive it.
_PyCapsule_Destructor = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


def _capsule_destructor(capsule):
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype = ctypes.c_void_p
    get.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    ptr = get(capsule, b"arrow_array_stream")
    if ptr:
        stream = _native.ArrowArrayStream.from_address(ptr)
        if stream.release:
            stream.release(ctypes.byref(stream))
        ctypes.pythonapi.PyMem_RawFree.argtypes = [ctypes.c_void_p]
        ctypes.pythonapi.PyMem_RawFree(ptr)


_DESTRUCTOR = _PyCapsule_Destructor(_capsule_destructor)


def stream_capsule(native_stream):
    """A PyCapsule "arrow_array_stream" owning the stream (Arrow PyCapsule protocol)."""
    raw = native_stream.detach()
    if raw is None:
        raise errors.ClientClosed("the result was already consumed or closed")
    malloc = ctypes.pythonapi.PyMem_RawMalloc
    malloc.restype = ctypes.c_void_p
    malloc.argtypes = [ctypes.c_size_t]
    ptr = malloc(ctypes.sizeof(_native.ArrowArrayStream))
    if not ptr:
        raw.release(ctypes.byref(raw))
        raise MemoryError()
    ctypes.memmove(ptr, ctypes.addressof(raw), ctypes.sizeof(raw))  # move: raw must not be released
    new = ctypes.pythonapi.PyCapsule_New
    new.restype = ctypes.py_object
    new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, _PyCapsule_Destructor]
    return new(ptr, b"arrow_array_stream", _DESTRUCTOR)


_TYPE_NAMES = {
    b"b": "bool",
    b"i": "int32",
    b"l": "int64",
    b"f": "float",
    b"g": "double",
    b"u": "string",
    b"U": "string",
    b"z": "binary",
    b"Z": "binary",
    b"tdD": "date",
}


def type_name(field):
    """The library's spelling of a column type ("double", "timestamp[us, UTC]")."""
    if field.timestamp_unit:
        tz = field.timestamp_tz
        return "timestamp[%s%s]" % (field.timestamp_unit, ", " + tz if tz else "")
    return _TYPE_NAMES.get(field.format, re.sub(r"[^ -~]", "?", field.format.decode("ascii", "replace")))


# ---- producer side: a pandas DataFrame as an Arrow C struct array (borrowed by the library)


def _noop_schema_release(ptr):
    ptr.contents.release = _native.ArrowSchema.release.__class__()  # NULL: released


def _noop_array_release(ptr):
    ptr.contents.release = _native.ArrowArray.release.__class__()


_SCHEMA_RELEASE = _native.ArrowSchema._fields_[7][1](_noop_schema_release)
_ARRAY_RELEASE = _native.ArrowArray._fields_[8][1](_noop_array_release)


def _bitmap(valid):
    return np.packbits(valid.astype(bool), bitorder="little")


def _column_buffers(name, series):
    """(format, validity or None, [buffers as numpy arrays], null_count) of one column."""
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        series = series.astype(object)
        dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or (hasattr(dtype, "kind") and dtype.kind == "M"):
        ts = pd.to_datetime(series, utc=True)
        valid = ts.notna().to_numpy()
        # the lake keeps microseconds: pandas' nanoseconds are floored to them
        values = ts.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").view(np.int64) // 1000
        values[~valid] = 0
        return b"tsu:UTC", valid, [values], int((~valid).sum())
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind in "iub":
        valid = series.notna().to_numpy()
        np_type = {"b": np.bool_}.get(dtype.kind, np.int64)
        values = series.to_numpy(dtype=np_type, na_value=0)
        if dtype.kind == "b":
            return b"b", valid, [_bitmap(values)], int((~valid).sum())
        return b"l", valid, [values.astype(np.int64)], int((~valid).sum())
    if dtype.kind == "f":
        values = np.ascontiguousarray(series.to_numpy(dtype=np.float64))
        return b"g", None, [values], 0
    if dtype.kind in "iu":
        return b"l", None, [np.ascontiguousarray(series.to_numpy(dtype=np.int64))], 0
    if dtype.kind == "b":
        return b"b", None, [_bitmap(series.to_numpy())], 0
    if dtype.kind in "OSU" or isinstance(dtype, pd.StringDtype):
        objs = series.to_numpy(dtype=object)
        valid = np.array([v is not None and not (isinstance(v, float) and np.isnan(v)) for v in objs], dtype=bool)
        encoded = [str(v).encode("utf-8") if ok else b"" for v, ok in zip(objs, valid)]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        if offsets[-1] >= 2**31:
            raise errors.DataLakeError("column %r holds more than 2 GiB of text; write it in parts" % name)
        data = np.frombuffer(b"".join(encoded) or b"\0", dtype=np.uint8)
        nulls = int((~valid).sum())
        return b"u", valid if nulls else None, [offsets.astype(np.int32), data], nulls
    raise TypeError("column %r: dtype %s cannot be written to the lake" % (name, dtype))


def export_frame(df):
    """(ArrowSchema, ArrowArray, keepalive): df as a struct array whose
    buffers point into numpy arrays kept alive by `keepalive`."""
    keep = []
    n = len(df)
    children_s, children_a = [], []
    for name in df.columns:
        if not isinstance(name, str):
            raise TypeError("column names must be strings, not %r" % (name,))
        fmt, valid, buffers, nulls = _column_buffers(name, df[name])
        validity = _bitmap(valid) if valid is not None and nulls else None
        bufs = [validity] + buffers
        keep.extend(b for b in bufs if b is not None)
        ptrs = (ctypes.c_void_p * len(bufs))(*[b.ctypes.data if b is not None else None for b in bufs])
        keep.append(ptrs)
        fmt_c, name_c = ctypes.c_char_p(fmt), ctypes.c_char_p(name.encode("utf-8"))
        keep.extend([fmt_c, name_c])
        s = _native.ArrowSchema(fmt_c.value, name_c.value, None, 2, 0, None, None, _SCHEMA_RELEASE, None)
        a = _native.ArrowArray(n, nulls, 0, len(bufs), 0, ptrs, None, None, _ARRAY_RELEASE, None)
        children_s.append(s)
        children_a.append(a)
    keep.extend(children_s + children_a)
    sp = (ctypes.POINTER(_native.ArrowSchema) * max(len(children_s), 1))(*[ctypes.pointer(s) for s in children_s])
    ap = (ctypes.POINTER(_native.ArrowArray) * max(len(children_a), 1))(*[ctypes.pointer(a) for a in children_a])
    parent_bufs = (ctypes.c_void_p * 1)(None)
    keep.extend([sp, ap, parent_bufs])
    schema = _native.ArrowSchema(b"+s", b"", None, 0, len(children_s), sp, None, _SCHEMA_RELEASE, None)
    array = _native.ArrowArray(n, 0, 0, 1, len(children_a), parent_bufs, ap, None, _ARRAY_RELEASE, None)
    return schema, array, keep
