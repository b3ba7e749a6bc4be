"""Exceptions raised by the datalake client.

Every error from libdatalake (local mode) or from the data server (remote
mode, RFC 9457 problem+json) becomes a DataLakeError carrying the library's
message and status, or one of its subclasses for the cases callers handle.
"""

# libdatalake status codes (include/datalake.h, dl_status)
DL_EINVAL = -1
DL_EIO = -2
DL_ECORRUPT = -3
DL_ENOMEM = -4
DL_EUNSUPPORTED = -5
DL_ENOTFOUND = -6
DL_ECONFLICT = -7
DL_EINTERNAL = -8


class DataLakeError(Exception):
    """An error reported by libdatalake or the data server.

    Attributes: ``status`` (the library's status code, or None), ``http_status``
    (remote mode, or None) and ``message`` (the library's text).
    """

    def __init__(self, message, status=None, http_status=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.http_status = http_status


class NotFound(DataLakeError):
    """A dataset, column, version or file does not exist."""


class BadFilter(DataLakeError):
    """A ``where`` expression does not parse or does not fit the schema.

    ``position`` is the 0-based character offset in the expression that the
    library points at ("... at offset 7"), or None when the message names none.
    """

    def __init__(self, message, status=None, http_status=None, position=None):
        super().__init__(message, status, http_status)
        self.position = position


class Conflict(DataLakeError):
    """A schema conflict, an immutable version, or a concurrent writer."""


class CorruptData(DataLakeError):
    """Malformed, truncated or damaged input (a file, a stream, a response)."""


class Unauthorized(DataLakeError):
    """The server refused the token (missing, wrong, expired, revoked, scope)."""


class ClientClosed(DataLakeError):
    """The client was used after close()."""


_BY_STATUS = {DL_ENOTFOUND: NotFound, DL_ECONFLICT: Conflict, DL_ECORRUPT: CorruptData}


def _filter_position(message):
    import re

    m = re.search(r"at offset (\d+)", message)
    return int(m.group(1)) if m else None


def error_for(message, status=None, http_status=None, is_filter=False):
    """The exception object for a library status / HTTP status and message."""
    if is_filter:
        return BadFilter(message, status, http_status, _filter_position(message))
    if http_status in (401, 403):
        return Unauthorized(message, status, http_status)
    if http_status == 404:
        return NotFound(message, status, http_status)
    if http_status == 409:
        return Conflict(message, status, http_status)
    return _BY_STATUS.get(status, DataLakeError)(message, status, http_status)
