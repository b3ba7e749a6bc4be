"""Remote mode: the data server (`dl serve`) over HTTP with urllib.

Metadata comes from the JSON routes under /v1; rows come from
`GET /v1/query?format=arrow` as an Arrow IPC stream decoded batch by batch
(_ipc.IpcStreamReader), so memory stays bounded by one batch.  Errors are
RFC 9457 problem+json documents carrying the library's message.
"""

import datetime
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request

from . import _ipc, errors


def _iso_us(us):
    """Epoch microseconds -> ISO-8601 UTC with microseconds (the server's time syntax)."""
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=us)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _ClosingStream:
    """An IpcStreamReader that closes its HTTP response at the end."""

    def __init__(self, reader):
        self._reader = reader
        self.fields = reader.fields

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return next(self._reader)
        except StopIteration:
            self.close()
            raise
        except (http.client.IncompleteRead, ConnectionError, OSError) as e:
            self.close()
            raise errors.DataLakeError("the server's stream broke off: %s" % e)
        except BaseException:
            self.close()
            raise

    def close(self):
        self._reader.close()

    def detach(self):
        raise NotImplementedError("__arrow_c_stream__ is available on local results")


class RemoteBackend:
    def __init__(self, url, token, timeout=300):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("url must be http(s)://host:port, not %r" % url)
        self._base = url.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._closed = False

    def close(self):
        self._closed = True

    def _open(self, path, params=None):
        if self._closed:
            raise errors.ClientClosed("this DataLakeClient is closed")
        url = self._base + path
        if params:
            url += "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        req = urllib.request.Request(url)
        if self._token:
            req.add_header("Authorization", "Bearer " + self._token)
        try:
            return urllib.request.urlopen(req, timeout=self._timeout)
        except urllib.error.HTTPError as e:
            raise self._problem(e, params) from None
        except urllib.error.URLError as e:
            raise errors.DataLakeError("cannot reach the data server at %s: %s" % (self._base, e.reason)) from None

    @staticmethod
    def _problem(e, params):
        body = e.read(1 << 16)
        try:
            doc = json.loads(body.decode("utf-8"))
            msg = doc.get("detail") or doc.get("title") or str(e)
        except (ValueError, UnicodeDecodeError, AttributeError):
            msg = "HTTP %d: %s" % (e.code, body[:200].decode("utf-8", "replace"))
        is_filter = e.code == 400 and msg.startswith("filter:")
        return errors.error_for(msg, http_status=e.code, is_filter=is_filter)

    def _json(self, path, params=None):
        with self._open(path, params) as resp:
            return json.loads(resp.read().decode("utf-8"))

    @staticmethod
    def _dataset_path(ds):
        parts = ds.split("/")
        if len(parts) != 5 or not all(parts):
            raise errors.NotFound("dataset %s does not exist (a name is EXCHANGE/MARKET/SYMBOL/TYPE/PERIOD)" % ds)
        return "/v1/datasets/" + "/".join(urllib.parse.quote(p, safe="") for p in parts)

    def version(self):
        doc = self._json("/v1/health")
        return doc.get("version", "")

    def datasets(self):
        return self._json("/v1/datasets")["datasets"]

    def info(self, ds):
        doc = self._json(self._dataset_path(ds))
        return doc.get("dataset", doc) if isinstance(doc.get("dataset"), dict) else doc

    def schema(self, ds):
        doc = self._json(self._dataset_path(ds) + "/schema")
        cols = doc.get("columns", doc.get("schema", []))
        return {c["name"]: c["type"] for c in cols}

    def gaps(self, ds):
        doc = self._json(self._dataset_path(ds) + "/gaps")
        return doc["gaps"] if isinstance(doc, dict) else doc

    def history(self, ds):
        doc = self._json(self._dataset_path(ds) + "/history")
        return doc["versions"] if isinstance(doc, dict) else doc

    def _query(self, ds, start, end, columns, where, as_of_version, as_of_time, limit, period=None):
        params = {
            "dataset": ds,
            "from": _iso_us(start) if start is not None else None,
            "to": _iso_us(end) if end is not None else None,
            "columns": ",".join(columns) if columns is not None else None,
            "where": where,
            "as_of_version": as_of_version,
            "as_of": _iso_us(as_of_time) if as_of_time is not None else None,
            "limit": limit,
            "period": period,
            "format": "arrow",
        }
        resp = self._open("/v1/query", params)
        try:
            return _ClosingStream(_ipc.IpcStreamReader(resp, "the server's answer"))
        except BaseException:
            resp.close()
            raise

    def batches(self, ds, start, end, columns, where, as_of_version, as_of_time, limit):
        return self._query(ds, start, end, columns, where, as_of_version, as_of_time, limit)

    def resample(self, ds, period, start, end, as_of_version, as_of_time):
        return self._query(ds, start, end, None, None, as_of_version, as_of_time, None, period)

    def features_list(self):
        raise errors.DataLakeError("the data server does not serve the feature store yet")

    def features_get(self, entities, refs, ttl, as_of_system_time):
        raise errors.DataLakeError("the data server does not serve the feature store yet")
