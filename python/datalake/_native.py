"""ctypes binding of libdatalake's public C API (include/datalake.h).

Finds the shared library ($DL_LIBRARY, the build tree next to this package,
or the system's), declares the prototypes the client uses, and mirrors the
few public structs it passes by value or pointer.  The struct mirrors are
checked against the C compiler's layout by tests/python/test_abi.py.
"""

import ctypes
import ctypes.util
import os

from . import errors

DL_ERROR_MESSAGE_MAX = 1024
DL_DATASET_NAME_MAX = 330
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


class DlError(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("message", ctypes.c_char * DL_ERROR_MESSAGE_MAX)]


class DlDatasetId(ctypes.Structure):
    # five NUL-terminated components of DL_LAKE_COMPONENT_MAX + 1 bytes (checked by test_abi)
    _fields_ = [
        ("exchange", ctypes.c_char * 65),
        ("market", ctypes.c_char * 65),
        ("symbol", ctypes.c_char * 65),
        ("type", ctypes.c_char * 65),
        ("period", ctypes.c_char * 65),
    ]


class DlDatasetInfo(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char * DL_DATASET_NAME_MAX),
        ("id", DlDatasetId),
        ("version", ctypes.c_int64),
        ("files", ctypes.c_int64),
        ("rows", ctypes.c_int64),
        ("bytes", ctypes.c_int64),
        ("ts_min", ctypes.c_int64),
        ("ts_max", ctypes.c_int64),
        ("gap_ranges", ctypes.c_int64),
        ("missing", ctypes.c_int64),
        ("period_us", ctypes.c_int64),
    ]


class DlLakeVersion(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_int64),
        ("committed_at", ctypes.c_int64),
        ("run_id", ctypes.c_int64),
        ("rows_written", ctypes.c_int64),
        ("files_added", ctypes.c_int64),
        ("files_replaced", ctypes.c_int64),
        ("vacuumed", ctypes.c_bool),
        ("message", ctypes.c_char * 256),
    ]


class DlLakeGap(ctypes.Structure):
    _fields_ = [("from_ts", ctypes.c_int64), ("to_ts", ctypes.c_int64), ("missing", ctypes.c_int64)]


class DlText(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("len", ctypes.c_size_t),
        ("cap", ctypes.c_size_t),
        ("status", ctypes.c_int),
    ]


class DlSchema(ctypes.Structure):
    _fields_ = [("num_fields", ctypes.c_int), ("fields", ctypes.c_void_p)]


class DlTable(ctypes.Structure):
    """Opaque to Python apart from its size: filled and freed by the library."""

    _fields_ = [("schema", DlSchema), ("columns", ctypes.c_void_p), ("num_rows", ctypes.c_int64)]


DL_FEATURE_NAME_MAX = 48
DL_FEATURE_VERSION_MAX = 48


class DlFeatureVersion(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char * (DL_FEATURE_NAME_MAX + 1)),
        ("version", ctypes.c_char * (DL_FEATURE_VERSION_MAX + 1)),
        ("identity", ctypes.c_char * 65),
        ("committed_at", ctypes.c_int64),
        ("deleted_at", ctypes.c_int64),
        ("rows", ctypes.c_int64),
        ("symbols", ctypes.c_int64),
        ("ts_min", ctypes.c_int64),
        ("ts_max", ctypes.c_int64),
        ("num_columns", ctypes.c_int),
        ("message", ctypes.c_char * 256),
    ]


class DlFeaturesGetOptions(ctypes.Structure):
    _fields_ = [("ttl_us", ctypes.c_int64), ("as_of_system_time", ctypes.c_int64)]


class DlLakeWriteResult(ctypes.Structure):
    _fields_ = [
        ("run_id", ctypes.c_int64),
        ("rows_in", ctypes.c_int64),
        ("days_written", ctypes.c_int64),
        ("days_unchanged", ctypes.c_int64),
        ("versions_created", ctypes.c_int64),
        ("last_version", ctypes.c_int64),
        ("missing", ctypes.c_int64),
    ]


class DlIngestResult(ctypes.Structure):
    _fields_ = [
        ("write", DlLakeWriteResult),
        ("rows_read", ctypes.c_int64),
        ("rows_skipped", ctypes.c_int64),
        ("checksums_verified", ctypes.c_int),
        ("first_skip_reason", ctypes.c_char * 512),
    ]


class DlIngestOptionsHead(ctypes.Structure):
    """The leading fields of dl_ingest_options.  The whole struct lives in an
    OPTIONS_BUFFER-byte buffer initialised by dl_ingest_options_default; only
    these fields are set from Python (offsets checked by test_abi)."""

    _fields_ = [
        ("format", ctypes.c_int),
        ("exchange", ctypes.c_char_p),
        ("market", ctypes.c_char_p),
        ("dataset", ctypes.c_char_p),
        ("ts_column", ctypes.c_char_p),
        ("ts_format", ctypes.c_char_p),
    ]


class DlVerifyReport(ctypes.Structure):
    _fields_ = [
        ("issues", ctypes.c_void_p),
        ("count", ctypes.c_int64),
        ("files_checked", ctypes.c_int64),
        ("bytes_checked", ctypes.c_int64),
    ]


class DlWriteOptions(ctypes.Structure):
    _fields_ = [
        ("codec", ctypes.c_int),
        ("compression_level", ctypes.c_int),
        ("row_group_rows", ctypes.c_int64),
        ("page_bytes", ctypes.c_int64),
        ("page_rows", ctypes.c_int64),
        ("dictionary", ctypes.c_bool),
        ("dictionary_bytes", ctypes.c_int64),
        ("delta_timestamps", ctypes.c_bool),
        ("statistics", ctypes.c_bool),
        ("page_index", ctypes.c_bool),
        ("data_page_version", ctypes.c_int),
        ("threads", ctypes.c_int),
    ]


class DlLakeWriteOptionsHead(ctypes.Structure):
    """The leading fields of dl_lake_write_options (the rest stays opaque)."""

    _fields_ = [("parquet", DlWriteOptions), ("message", ctypes.c_char_p), ("command", ctypes.c_char_p)]


LAKE_WRITE_MESSAGE_OFFSET = DlLakeWriteOptionsHead.message.offset
OPTIONS_BUFFER = 4096  # bytes reserved for options structs Python treats as opaque


class DlQuerySpec(ctypes.Structure):
    _fields_ = [
        ("datasets", ctypes.POINTER(ctypes.c_char_p)),
        ("num_datasets", ctypes.c_int),
        ("ts_from", ctypes.c_int64),
        ("ts_to", ctypes.c_int64),
        ("columns", ctypes.POINTER(ctypes.c_char_p)),
        ("num_columns", ctypes.c_int),
        ("filter", ctypes.c_char_p),
        ("as_of_version", ctypes.c_int64),
        ("as_of_time", ctypes.c_int64),
        ("threads", ctypes.c_int),
        ("symbol_column", ctypes.c_int),
        ("max_buffer_bytes", ctypes.c_int64),
        ("skip_page_crc", ctypes.c_bool),
        ("pool", ctypes.c_void_p),  # dl_pool *: NULL = the query's own threads
    ]


# ---- Arrow C Data / C Stream Interface (arrow.apache.org/docs/format/CDataInterface.html)


class ArrowSchema(ctypes.Structure):
    pass


ArrowSchema._fields_ = [
    ("format", ctypes.c_char_p),
    ("name", ctypes.c_char_p),
    ("metadata", ctypes.c_char_p),
    ("flags", ctypes.c_int64),
    ("n_children", ctypes.c_int64),
    ("children", ctypes.POINTER(ctypes.POINTER(ArrowSchema))),
    ("dictionary", ctypes.POINTER(ArrowSchema)),
    ("release", ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowSchema))),
    ("private_data", ctypes.c_void_p),
]


class ArrowArray(ctypes.Structure):
    pass


ArrowArray._fields_ = [
    ("length", ctypes.c_int64),
    ("null_count", ctypes.c_int64),
    ("offset", ctypes.c_int64),
    ("n_buffers", ctypes.c_int64),
    ("n_children", ctypes.c_int64),
    ("buffers", ctypes.POINTER(ctypes.c_void_p)),
    ("children", ctypes.POINTER(ctypes.POINTER(ArrowArray))),
    ("dictionary", ctypes.POINTER(ArrowArray)),
    ("release", ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowArray))),
    ("private_data", ctypes.c_void_p),
]


class ArrowArrayStream(ctypes.Structure):
    pass


ArrowArrayStream._fields_ = [
    ("get_schema", ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ArrowArrayStream), ctypes.POINTER(ArrowSchema))),
    ("get_next", ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ArrowArrayStream), ctypes.POINTER(ArrowArray))),
    ("get_last_error", ctypes.CFUNCTYPE(ctypes.c_char_p, ctypes.POINTER(ArrowArrayStream))),
    ("release", ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowArrayStream))),
    ("private_data", ctypes.c_void_p),
]


def _candidates():
    env = os.environ.get("DL_LIBRARY")
    if env:
        return [env]
    here = os.path.dirname(os.path.abspath(__file__))
    found = [
        os.path.join(here, "..", "..", "build", "release", "libdatalake.so"),  # the build tree
        os.path.join(here, "..", "..", "..", "libdatalake.so.0"),  # make install: LIBDIR/python3/dist-packages
    ]
    system = ctypes.util.find_library("datalake")
    found.append(system or "libdatalake.so.0")
    return found


_lib = None


def library():
    """The loaded libdatalake (loaded once; raises DataLakeError if absent)."""
    global _lib
    if _lib is not None:
        return _lib
    tried = []
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
            continue
        _declare(lib)
        _lib = lib
        return lib
    raise errors.DataLakeError(
        "libdatalake not found; build it (make) or set DL_LIBRARY to the path of libdatalake.so. Tried: "
        + "; ".join(tried)
    )


def _proto(lib, name, restype, *argtypes):
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)


def _declare(lib):
    P = ctypes.POINTER
    err = P(DlError)
    vp = ctypes.c_void_p
    i64 = ctypes.c_int64
    _proto(lib, "dl_version", ctypes.c_char_p)
    _proto(lib, "dl_lake_open", ctypes.c_int, ctypes.c_char_p, ctypes.c_bool, P(vp), err)
    _proto(lib, "dl_lake_close", None, vp)
    _proto(lib, "dl_lake_datasets", ctypes.c_int, vp, P(P(DlDatasetInfo)), P(i64), err)
    _proto(lib, "dl_lake_dataset_info", ctypes.c_int, vp, ctypes.c_char_p, P(DlDatasetInfo), err)
    _proto(lib, "dl_lake_history", ctypes.c_int, vp, ctypes.c_char_p, P(P(DlLakeVersion)), P(i64), err)
    _proto(lib, "dl_lake_gaps", ctypes.c_int, vp, ctypes.c_char_p, P(P(DlLakeGap)), P(i64), err)
    _proto(lib, "dl_query_spec_default", None, P(DlQuerySpec))
    _proto(lib, "dl_query_open", ctypes.c_int, vp, P(DlQuerySpec), P(vp), err)
    _proto(lib, "dl_query_close", None, vp)
    _proto(lib, "dl_query_arrow_stream", ctypes.c_int, vp, P(ArrowArrayStream), err)
    _proto(lib, "dl_parse_time_us", ctypes.c_int, ctypes.c_char_p, P(i64), err)
    _proto(lib, "dl_status_name", ctypes.c_char_p, ctypes.c_int)
    _proto(lib, "dl_dataset_period_us", i64, ctypes.c_char_p)
    _proto(lib, "dl_query_resample_arrow_stream", ctypes.c_int, vp, i64, P(ArrowArrayStream), err)
    text = P(DlText)
    _proto(lib, "dl_text_free", None, text)
    _proto(lib, "dl_json_datasets", ctypes.c_int, text, P(DlDatasetInfo), i64)
    _proto(lib, "dl_json_dataset", ctypes.c_int, text, P(DlDatasetInfo), vp)
    _proto(lib, "dl_json_history", ctypes.c_int, text, P(DlLakeVersion), i64)
    _proto(lib, "dl_json_gaps", ctypes.c_int, text, P(DlLakeGap), i64)
    _proto(lib, "dl_table_free", None, P(DlTable))
    _proto(lib, "dl_arrow_export", ctypes.c_int, P(DlTable), P(ArrowSchema), P(ArrowArray), err)
    _proto(lib, "dl_features_versions", ctypes.c_int, vp, ctypes.c_char_p, i64, ctypes.c_bool,
           P(P(DlFeatureVersion)), P(i64), err)
    _proto(lib, "dl_ingest_options_default", None, vp, ctypes.c_int)
    _proto(lib, "dl_ingest_files", ctypes.c_int, vp, P(ctypes.c_char_p), ctypes.c_int, vp, P(DlIngestResult), err)
    _proto(lib, "dl_lake_write_options_default", None, vp)
    _proto(lib, "dl_lake_write", ctypes.c_int, vp, ctypes.c_char_p, P(DlTable), vp, P(DlLakeWriteResult), err)
    _proto(lib, "dl_lake_verify", ctypes.c_int, vp, ctypes.c_char_p, ctypes.c_bool, P(DlVerifyReport), err)
    _proto(lib, "dl_verify_report_free", None, P(DlVerifyReport))
    _proto(lib, "dl_json_verify", ctypes.c_int, text, P(DlVerifyReport))
    _proto(lib, "dl_arrow_import_schema", ctypes.c_int, P(ArrowSchema), P(DlSchema), err)
    _proto(lib, "dl_arrow_import_array", ctypes.c_int, P(DlSchema), P(ArrowSchema), P(ArrowArray), P(DlTable), err)
    _proto(lib, "dl_schema_free", None, P(DlSchema))
    _proto(lib, "dl_features_read_entities", ctypes.c_int, ctypes.c_char_p, P(DlTable), err)
    _proto(lib, "dl_features_get", ctypes.c_int, vp, P(DlTable), P(ctypes.c_char_p), ctypes.c_int,
           P(DlFeaturesGetOptions), P(DlTable), vp, err)
    free_name = "dl_free" if hasattr(lib, "dl_free") else None
    if free_name:
        _proto(lib, free_name, None, vp)
        lib.dl_py_free = lib.dl_free
    else:  # older libraries: arrays came from malloc
        libc = ctypes.CDLL(None)
        libc.free.argtypes = [vp]
        libc.free.restype = None
        lib.dl_py_free = libc.free


def raise_for(code, err, is_filter=False):
    """Raises the exception for a non-zero library status with err's message."""
    msg = err.message.decode("utf-8", "replace") or library().dl_status_name(code).decode()
    raise errors.error_for(msg, status=code, is_filter=is_filter or msg.startswith("filter:"))


def parse_time_us(value):
    """A user time (str, int ms, datetime, pandas.Timestamp) -> epoch microseconds."""
    import datetime

    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("a time must be a string, an int (epoch ms) or a datetime, not bool")
    if isinstance(value, int):
        return value * 1000
    if hasattr(value, "value") and hasattr(value, "tz_localize"):  # pandas.Timestamp
        ts = value if value.tzinfo is not None else value.tz_localize("UTC")
        return ts.value // 1000
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        delta = value - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        return (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds
    if isinstance(value, datetime.date):
        return parse_time_us(datetime.datetime(value.year, value.month, value.day))
    if not isinstance(value, str):
        raise TypeError("a time must be a string, an int (epoch ms) or a datetime, not %s" % type(value).__name__)
    out = ctypes.c_int64()
    e = DlError()
    rc = library().dl_parse_time_us(value.encode(), ctypes.byref(out), ctypes.byref(e))
    if rc != 0:
        raise_for(rc, e)
    return out.value
