"""DataLakeClient: one API over a local lake (libdatalake through ctypes) or
a data server (`dl serve`, Arrow over HTTP), returning the same DataFrames.
"""

import ctypes
import json

import numpy as np

from . import _arrow, _native, errors

_UNSET = object()


def _check_str(name, value, optional=True):
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise TypeError("%s must be a str, not %s" % (name, type(value).__name__))
    return value


def _check_columns(columns):
    if columns is None:
        return None
    if isinstance(columns, str):
        columns = [columns]
    columns = list(columns)
    for c in columns:
        if not isinstance(c, str):
            raise TypeError("columns must be strings, not %s" % type(c).__name__)
    return columns


def _check_limit(limit):
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)):
        raise TypeError("limit must be an int, not %s" % type(limit).__name__)
    if limit < 0:
        raise ValueError("limit must be >= 0")
    return int(limit)


def _as_of(as_of):
    """ArcticDB-like as_of: an int is a version number, anything else a time."""
    if as_of is None:
        return None, None
    if isinstance(as_of, bool):
        raise TypeError("as_of must be a version number (int) or a time, not bool")
    if isinstance(as_of, (int, np.integer)):
        if as_of < 1:
            raise ValueError("as_of version numbers start at 1")
        return int(as_of), None
    return None, _native.parse_time_us(as_of)


def _to_utc(values):
    """Epoch milliseconds or ISO-8601 text (None for unknown) -> a UTC datetime Series."""
    import pandas as pd

    values = list(values)
    if any(isinstance(v, str) for v in values):
        return pd.to_datetime(pd.Series(values, dtype=object), utc=True)
    return pd.to_datetime(pd.Series(values, dtype="Int64"), unit="ms", utc=True)


def _normalise_dataset(d):
    """One dataset's metadata from either JSON rendering, with UTC times."""
    import pandas as pd

    out = dict(d)
    out["name"] = d.get("name") or d.get("dataset")
    out.pop("dataset", None)
    for key in ("first_ts", "last_ts"):
        ms = d.get(key + "_ms", d.get(key))
        out.pop(key + "_ms", None)
        if ms is None:
            out[key] = None
        elif isinstance(ms, str):
            out[key] = pd.Timestamp(ms).tz_convert("UTC")
        else:
            out[key] = pd.Timestamp(int(ms), unit="ms", tz="UTC")
    return out


class _Features:
    """client.features: the feature store (list, point-in-time retrieval)."""

    def __init__(self, client):
        self._client = client

    def list(self):
        return self._client._backend.features_list()

    def get_historical(self, entities, refs, ttl=None, as_of_system_time=None):
        """Point-in-time join: for each entity row (symbol, ts), the latest
        feature row known at ts (event ts <= ts and available_at <= ts, within
        ttl), as a DataFrame in entity order: symbol, ts, NAME__COLUMN..."""
        import pandas as pd

        if not isinstance(entities, pd.DataFrame):
            raise TypeError("entities must be a pandas.DataFrame with columns symbol and ts")
        if isinstance(refs, str):
            refs = [refs]
        refs = _check_columns(refs)
        if not refs:
            raise ValueError("name at least one feature set: ['NAME@production', ...]")
        _check_str("ttl", ttl)
        if "symbol" not in entities.columns or "ts" not in entities.columns:
            raise ValueError("entities need the columns 'symbol' and 'ts'")
        return self._client._backend.features_get(entities, refs, ttl, as_of_system_time)


class DataLakeClient:
    """A client of the lake: DataLakeClient(root=DIR) reads a local lake
    through libdatalake; DataLakeClient(url=URL, token=T) talks to a data
    server.  Both have the same methods and return equal results.

    read() returns a pandas.DataFrame with UTC-aware timestamps; numeric
    columns of a single-batch local result share memory with the library's
    Arrow buffers (no copy); iter_batches() yields one DataFrame per batch
    in bounded memory.
    """

    def __init__(self, root=None, url=None, token=None, threads=0):
        if (root is None) == (url is None):
            raise ValueError("give exactly one of root= (a local lake) or url= (a data server)")
        if root is not None:
            import os

            if not isinstance(root, (str, os.PathLike)):
                raise TypeError("root must be a path, not %s" % type(root).__name__)
            self._backend = _LocalBackend(os.fspath(root), threads)
        else:
            _check_str("url", url, optional=False)
            _check_str("token", token)
            from ._remote import RemoteBackend

            self._backend = RemoteBackend(url, token)
        self.features = _Features(self)

    # ---- lifecycle
    def close(self):
        if self._backend is not None:
            self._backend.close()
            self._backend = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def _live(self):
        if self._backend is None:
            raise errors.ClientClosed("this DataLakeClient is closed")
        return self._backend

    def version(self):
        return self._live.version()

    # ---- metadata
    def datasets(self):
        """All datasets: a DataFrame (name, first_ts, last_ts, rows, bytes, files, version, missing, ...)."""
        import pandas as pd

        rows = [_normalise_dataset(d) for d in self._live.datasets()]
        cols = ["name", "first_ts", "last_ts", "rows", "bytes", "files", "version", "missing"]
        return pd.DataFrame([{k: r.get(k) for k in cols} for r in rows], columns=cols)

    def info(self, ds):
        """One dataset's catalog facts as a dict (first_ts/last_ts UTC Timestamps)."""
        _check_str("ds", ds, optional=False)
        return _normalise_dataset(self._live.info(ds))

    def schema(self, ds):
        """The dataset's columns: a dict name -> type name ("double", "timestamp[us, UTC]")."""
        _check_str("ds", ds, optional=False)
        return self._live.schema(ds)

    def gaps(self, ds):
        """Missing periods: a DataFrame (from_ts, to_ts, missing); times UTC."""
        import pandas as pd

        _check_str("ds", ds, optional=False)
        g = self._live.gaps(ds)
        return pd.DataFrame(
            {
                "from_ts": _to_utc([x.get("from_ts", x.get("from")) for x in g]),
                "to_ts": _to_utc([x.get("to_ts", x.get("to")) for x in g]),
                "missing": pd.Series([x["missing"] for x in g], dtype="int64"),
            }
        )

    def history(self, ds):
        """The dataset's versions, oldest first: a DataFrame."""
        import pandas as pd

        _check_str("ds", ds, optional=False)
        cols = ["version", "committed_at", "rows_written", "files_added", "files_replaced", "vacuumed", "message"]
        h = self._live.history(ds)
        df = pd.DataFrame([{k: v.get(k) for k in cols} for v in h], columns=cols)
        df["committed_at"] = _to_utc(df["committed_at"])
        return df

    # ---- data
    def _args(self, ds, start, end, columns, where, as_of, limit):
        _check_str("ds", ds, optional=False)
        _check_str("where", where)
        version, at = _as_of(as_of)
        return dict(
            ds=ds,
            start=_native.parse_time_us(start),
            end=_native.parse_time_us(end),
            columns=_check_columns(columns),
            where=where,
            as_of_version=version,
            as_of_time=at,
            limit=_check_limit(limit),
        )

    def iter_batches(self, ds, start=None, end=None, columns=None, where=None, as_of=None, limit=None):
        """Yields the rows as DataFrames, one per batch (bounded memory)."""
        args = self._args(ds, start, end, columns, where, as_of, limit)
        for batch in self._live.batches(**args):
            yield batch.to_pandas()

    def read(self, ds, start=None, end=None, columns=None, where=None, as_of=None, limit=None):
        """The rows of a dataset (name or glob) in [start, end) as a DataFrame.

        columns: a projection; where: the library's filter language
        ("close > 50000 and volume > 0"); as_of: a version number (int) or a
        time (str/datetime) to read the dataset as it was; limit: first N rows.
        """
        args = self._args(ds, start, end, columns, where, as_of, limit)
        stream = self._live.batches(**args)
        batches = list(stream)
        fields = stream.fields
        batch = _arrow.concat_batches(fields, batches) if batches else _arrow.empty_batch(fields)
        return batch.to_pandas()

    def write(self, ds, df, message=None):
        """Upserts the rows of df (a `ts` column of timestamps, then any
        columns) into dataset ds, one atomic commit: rows of an existing
        (day, ts) are replaced, new ones added.  Returns the write summary."""
        import pandas as pd

        _check_str("ds", ds, optional=False)
        _check_str("message", message)
        if not isinstance(df, pd.DataFrame):
            raise TypeError("df must be a pandas.DataFrame, not %s" % type(df).__name__)
        if "ts" not in df.columns:
            raise ValueError("df needs a 'ts' column of timestamps")
        return self._live.write(ds, df, message)

    def ingest(self, paths):
        """Ingests Binance archives (.zip or .csv, names as on data.binance.vision)
        in one all-or-nothing commit.  Returns the ingest summary."""
        import os

        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        paths = [os.fspath(p) for p in paths]
        if not paths:
            raise ValueError("name at least one file to ingest")
        return self._live.ingest(paths)

    def verify(self):
        """Re-hashes every file against the catalog: {"ok": bool, "issues": [...], ...}."""
        return self._live.verify()

    def query(self, ds, start=None, end=None, columns=None, where=None, as_of=None, limit=None):
        """A lazy result: iterate it for DataFrames, or hand it to any consumer
        of the Arrow PyCapsule protocol (__arrow_c_stream__), local mode."""
        args = self._args(ds, start, end, columns, where, as_of, limit)
        return Result(self._live.batches(**args))

    def resample(self, ds, period, start=None, end=None, as_of=None):
        """OHLCV bars of `period` ("5m", "1h", "1d") computed from a kline or
        tick dataset by the library's resampler, as a DataFrame."""
        _check_str("period", period, optional=False)
        args = self._args(ds, start, end, None, None, as_of, None)
        args.pop("columns")
        args.pop("where")
        args.pop("limit")
        stream = self._live.resample(period=period, **args)
        batches = list(stream)
        fields = stream.fields
        batch = _arrow.concat_batches(fields, batches) if batches else _arrow.empty_batch(fields)
        return batch.to_pandas()


class Result:
    """A query result not yet read: iterate it (DataFrames) or export it
    through the Arrow PyCapsule protocol."""

    def __init__(self, stream):
        self._stream = stream

    def __iter__(self):
        for batch in self._stream:
            yield batch.to_pandas()

    def to_pandas(self):
        batches = list(self._stream)
        fields = self._stream.fields
        batch = _arrow.concat_batches(fields, batches) if batches else _arrow.empty_batch(fields)
        return batch.to_pandas()

    def __arrow_c_stream__(self, requested_schema=None):
        if requested_schema is not None:
            raise NotImplementedError("requested_schema is not supported: the stream has the query's schema")
        if not isinstance(self._stream, _arrow.NativeStream):
            raise NotImplementedError("__arrow_c_stream__ is available on local results")
        return _arrow.stream_capsule(self._stream)

    def close(self):
        self._stream.close()


class _LocalBackend:
    """libdatalake through ctypes; the lake is opened read-only per call
    sequence and kept open until close()."""

    def __init__(self, root, threads):
        self._lib = _native.library()
        self._root = root
        self._threads = int(threads)
        self._lake = ctypes.c_void_p()
        self._open(read_only=True)

    def _open(self, read_only):
        err = _native.DlError()
        rc = self._lib.dl_lake_open(self._root.encode(), read_only, ctypes.byref(self._lake), ctypes.byref(err))
        if rc != 0:
            _native.raise_for(rc, err)

    def close(self):
        if self._lake:
            self._lib.dl_lake_close(self._lake)
            self._lake = ctypes.c_void_p()
        if getattr(self, "_writer", None):
            self._lib.dl_lake_close(self._writer)
            self._writer = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def version(self):
        return self._lib.dl_version().decode()

    def _json(self, fill):
        """Runs fill(text) -> status with a dl_text and returns the parsed JSON."""
        text = _native.DlText()
        try:
            rc = fill(ctypes.byref(text))
            if rc != 0 or text.status != 0:
                raise errors.DataLakeError("out of memory rendering metadata", status=errors.DL_ENOMEM)
            return json.loads(ctypes.string_at(text.data, text.len).decode("utf-8"))
        finally:
            self._lib.dl_text_free(ctypes.byref(text))

    def _owned_array(self, call, ctype, ds):
        P = ctypes.POINTER
        items = P(ctype)()
        count = ctypes.c_int64()
        err = _native.DlError()
        rc = call(self._lake, ds.encode(), ctypes.byref(items), ctypes.byref(count), ctypes.byref(err))
        if rc != 0:
            _native.raise_for(rc, err)
        return items, count.value

    def datasets(self):
        items = ctypes.POINTER(_native.DlDatasetInfo)()
        count = ctypes.c_int64()
        err = _native.DlError()
        rc = self._lib.dl_lake_datasets(self._lake, ctypes.byref(items), ctypes.byref(count), ctypes.byref(err))
        if rc != 0:
            _native.raise_for(rc, err)
        try:
            return self._json(lambda t: self._lib.dl_json_datasets(t, items, count.value))
        finally:
            self._lib.dl_py_free(items)

    def _info_struct(self, ds):
        info = _native.DlDatasetInfo()
        err = _native.DlError()
        rc = self._lib.dl_lake_dataset_info(self._lake, ds.encode(), ctypes.byref(info), ctypes.byref(err))
        if rc != 0:
            _native.raise_for(rc, err)
        return info

    def info(self, ds):
        info = self._info_struct(ds)
        return self._json(lambda t: self._lib.dl_json_dataset(t, ctypes.byref(info), None))

    def schema(self, ds):
        # the schema of a zero-row query: the same union schema reads return
        stream = self.batches(ds, None, None, None, None, None, None, 0)
        try:
            return {f.name: _arrow.type_name(f) for f in stream.fields}
        finally:
            stream.close()

    def gaps(self, ds):
        items, n = self._owned_array(self._lib.dl_lake_gaps, _native.DlLakeGap, ds)
        try:
            return self._json(lambda t: self._lib.dl_json_gaps(t, items, n))
        finally:
            self._lib.dl_py_free(items)

    def history(self, ds):
        items, n = self._owned_array(self._lib.dl_lake_history, _native.DlLakeVersion, ds)
        try:
            return self._json(lambda t: self._lib.dl_json_history(t, items, n))
        finally:
            self._lib.dl_py_free(items)

    def _open_query(self, ds, start, end, columns, where, as_of_version, as_of_time):
        spec = _native.DlQuerySpec()
        self._lib.dl_query_spec_default(ctypes.byref(spec))
        names = (ctypes.c_char_p * 1)(ds.encode())
        spec.datasets = names
        spec.num_datasets = 1
        if start is not None:
            spec.ts_from = start
        if end is not None:
            spec.ts_to = end
        col_array = None
        if columns is not None:
            col_array = (ctypes.c_char_p * max(len(columns), 1))(*[c.encode() for c in columns])
            spec.columns = col_array
            spec.num_columns = len(columns)
        spec.filter = where.encode() if where is not None else None
        if as_of_version is not None:
            spec.as_of_version = as_of_version
        if as_of_time is not None:
            spec.as_of_time = as_of_time
        spec.threads = self._threads
        query = ctypes.c_void_p()
        err = _native.DlError()
        # the spec's strings and arrays are only read during dl_query_open
        rc = self._lib.dl_query_open(self._lake, ctypes.byref(spec), ctypes.byref(query), ctypes.byref(err))
        if rc != 0:
            _native.raise_for(rc, err, is_filter=False)
        return query

    def _stream_of(self, query):
        stream = _native.ArrowArrayStream()
        err = _native.DlError()
        rc = self._lib.dl_query_arrow_stream(query, ctypes.byref(stream), ctypes.byref(err))
        if rc != 0:
            self._lib.dl_query_close(query)
            _native.raise_for(rc, err)
        native = _arrow.NativeStream(stream)
        native._lake_keepalive = self  # the lake must outlive the stream
        return native

    def batches(self, ds, start, end, columns, where, as_of_version, as_of_time, limit):
        if self._lake is None or not self._lake:
            raise errors.ClientClosed("this DataLakeClient is closed")
        query = self._open_query(ds, start, end, columns, where, as_of_version, as_of_time)
        stream = self._stream_of(query)
        return _Limited(stream, limit) if limit is not None else stream

    def resample(self, ds, period, start, end, as_of_version, as_of_time):
        bucket = self._lib.dl_dataset_period_us(period.encode())
        if bucket <= 0:
            raise ValueError("period %r is not a fixed interval (5m, 1h, 1d ...)" % period)
        query = self._open_query(ds, start, end, None, None, as_of_version, as_of_time)
        stream = _native.ArrowArrayStream()
        err = _native.DlError()
        rc = self._lib.dl_query_resample_arrow_stream(query, bucket, ctypes.byref(stream), ctypes.byref(err))
        if rc != 0:
            self._lib.dl_query_close(query)
            _native.raise_for(rc, err)
        native = _arrow.NativeStream(stream)
        native._lake_keepalive = self
        return native

    def _writable(self):
        """A second, read-write handle for writes (opened on first use)."""
        if getattr(self, "_writer", None) is None:
            handle = ctypes.c_void_p()
            err = _native.DlError()
            rc = self._lib.dl_lake_open(self._root.encode(), False, ctypes.byref(handle), ctypes.byref(err))
            if rc != 0:
                _native.raise_for(rc, err)
            self._writer = handle
        return self._writer

    def write(self, ds, df, message):
        schema, array, keep = _arrow.export_frame(df)
        dschema, table = _native.DlSchema(), _native.DlTable()
        err = _native.DlError()
        opts = ctypes.create_string_buffer(_native.OPTIONS_BUFFER)
        result = _native.DlLakeWriteResult()
        rc = self._lib.dl_arrow_import_schema(ctypes.byref(schema), ctypes.byref(dschema), ctypes.byref(err))
        if rc != 0:
            _native.raise_for(rc, err)
        try:
            rc = self._lib.dl_arrow_import_array(ctypes.byref(dschema), ctypes.byref(schema), ctypes.byref(array), ctypes.byref(table), ctypes.byref(err))
            if rc != 0:
                _native.raise_for(rc, err)
            self._lib.dl_lake_write_options_default(opts)
            msg = ctypes.create_string_buffer(message.encode()) if message else None
            if msg is not None:  # borrowed by the library until dl_lake_write returns
                slot = ctypes.c_void_p.from_buffer(opts, _native.LAKE_WRITE_MESSAGE_OFFSET)
                slot.value = ctypes.addressof(msg)
            rc = self._lib.dl_lake_write(self._writable(), ds.encode(), ctypes.byref(table), opts, ctypes.byref(result), ctypes.byref(err))
            if rc != 0:
                _native.raise_for(rc, err)
        finally:
            self._lib.dl_table_free(ctypes.byref(table))
            self._lib.dl_schema_free(ctypes.byref(dschema))
            del keep
        return {k: getattr(result, k) for k, _ in _native.DlLakeWriteResult._fields_}

    def ingest(self, paths):
        opts = ctypes.create_string_buffer(_native.OPTIONS_BUFFER)
        self._lib.dl_ingest_options_default(opts, 0)  # DL_INGEST_BINANCE
        files = (ctypes.c_char_p * len(paths))(*[p.encode() for p in paths])
        result = _native.DlIngestResult()
        err = _native.DlError()
        rc = self._lib.dl_ingest_files(self._writable(), files, len(paths), opts, ctypes.byref(result), ctypes.byref(err))
        if rc != 0:
            _native.raise_for(rc, err)
        out = {k: getattr(result.write, k) for k, _ in _native.DlLakeWriteResult._fields_}
        out.update(rows_read=result.rows_read, rows_skipped=result.rows_skipped, checksums_verified=result.checksums_verified)
        return out

    def verify(self):
        report = _native.DlVerifyReport()
        err = _native.DlError()
        rc = self._lib.dl_lake_verify(self._lake, None, False, ctypes.byref(report), ctypes.byref(err))
        if rc != 0:
            _native.raise_for(rc, err)
        try:
            return self._json(lambda t: self._lib.dl_json_verify(t, ctypes.byref(report)))
        finally:
            self._lib.dl_verify_report_free(ctypes.byref(report))

    def features_list(self):
        items = ctypes.POINTER(_native.DlFeatureVersion)()
        count = ctypes.c_int64()
        err = _native.DlError()
        rc = self._lib.dl_features_versions(self._lake, None, 0, False, ctypes.byref(items), ctypes.byref(count), ctypes.byref(err))
        if rc != 0:
            _native.raise_for(rc, err)
        try:
            return [
                {
                    "name": v.name.decode(),
                    "version": v.version.decode(),
                    "identity": v.identity.decode(),
                    "committed_at": v.committed_at,
                    "rows": v.rows,
                    "symbols": v.symbols,
                    "ts_min": v.ts_min,
                    "ts_max": v.ts_max,
                    "columns": v.num_columns,
                    "message": v.message.decode("utf-8", "replace"),
                }
                for v in (items[i] for i in range(count.value))
            ]
        finally:
            self._lib.dl_py_free(items)

    def features_get(self, entities, refs, ttl, as_of_system_time):
        import os
        import tempfile

        opts = _native.DlFeaturesGetOptions(_duration_us(ttl), _native.parse_time_us(as_of_system_time) or 0)
        table, out = _native.DlTable(), _native.DlTable()
        err = _native.DlError()
        fd, path = tempfile.mkstemp(suffix=".csv", prefix="dl-entities-")
        try:
            with os.fdopen(fd, "w") as f:
                _write_entities_csv(entities, f)
            rc = self._lib.dl_features_read_entities(path.encode(), ctypes.byref(table), ctypes.byref(err))
        finally:
            os.unlink(path)
        if rc != 0:
            _native.raise_for(rc, err)
        try:
            names = (ctypes.c_char_p * len(refs))(*[r.encode() for r in refs])
            rc = self._lib.dl_features_get(self._lake, ctypes.byref(table), names, len(refs), ctypes.byref(opts), ctypes.byref(out), None, ctypes.byref(err))
            if rc != 0:
                _native.raise_for(rc, err)
            schema, array = _native.ArrowSchema(), _native.ArrowArray()
            rc = self._lib.dl_arrow_export(ctypes.byref(out), ctypes.byref(schema), ctypes.byref(array), ctypes.byref(err))
            if rc != 0:
                _native.raise_for(rc, err)
            try:
                fields = _arrow.fields_of_schema(schema)
            finally:
                schema.release(ctypes.byref(schema))
            return _arrow.batch_from_array(fields, array).to_pandas()
        finally:
            self._lib.dl_table_free(ctypes.byref(table))
            self._lib.dl_table_free(ctypes.byref(out))


def _duration_us(ttl):
    """"90m", "2h", "1d", "30s" or a timedelta -> microseconds (0 = none)."""
    import datetime
    import re

    if ttl is None:
        return 0
    if isinstance(ttl, datetime.timedelta):
        return int(ttl / datetime.timedelta(microseconds=1))
    m = re.fullmatch(r"\s*(\d+)\s*(s|m|h|d|w)\s*", ttl)
    if not m:
        raise ValueError("ttl must look like 90m, 2h, 1d (or be a timedelta), not %r" % ttl)
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m.group(2)] * 1000000


def _write_entities_csv(entities, f):
    """The entity frame as the library's entity CSV: symbol,ts (ISO UTC, us)."""
    import pandas as pd

    ts = pd.to_datetime(entities["ts"], utc=True)
    text = ts.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    f.write("symbol,ts\n")
    for sym, t in zip(entities["symbol"].astype(str), text):
        if "," in sym or '"' in sym or "\n" in sym:
            raise ValueError("symbol %r holds a character the entity file cannot carry" % sym)
        f.write("%s,%s\n" % (sym, t))


class _Limited:
    """The first `limit` rows of a stream (stops reading after them)."""

    def __init__(self, stream, limit):
        self._stream = stream
        self._left = limit
        self.fields = stream.fields

    def __iter__(self):
        return self

    def __next__(self):
        if self._left <= 0:
            self._stream.close()
            raise StopIteration
        batch = next(self._stream)
        if batch.num_rows > self._left:
            batch = _slice_batch(batch, self._left)
        self._left -= batch.num_rows
        return batch

    def close(self):
        self._stream.close()

    def detach(self):
        raise errors.DataLakeError("a limited result cannot be exported as an Arrow stream")


def _slice_batch(batch, n):
    cols = {}
    for name, (values, mask) in batch.columns.items():
        if isinstance(values, tuple):
            values = (values[0], values[1][:n], values[2])
        else:
            values = values[:n]
        cols[name] = (values, None if mask is None else mask[:n])
    return _arrow.Batch(batch.fields, cols, n)
