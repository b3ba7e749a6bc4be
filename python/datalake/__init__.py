"""datalake -- the Python client of dl-datalake.

    import datalake
    lake = datalake.DataLakeClient(root="/data/lake")            # local: libdatalake via ctypes
    lake = datalake.DataLakeClient(url="http://host:8080", token=T)  # remote: the data server
    df = lake.read("BINANCE/SPOT/BTCUSDT/raw/1m", start="2024-01-01", end="2024-02-01",
                   columns=["ts", "close"], where="volume > 0")

Needs numpy and pandas (Debian: python3-numpy, python3-pandas) and, in local
mode, libdatalake.so (the build tree's, $DL_LIBRARY, or an installed one).
"""

from .client import DataLakeClient, Result
from .errors import BadFilter, ClientClosed, Conflict, CorruptData, DataLakeError, NotFound, Unauthorized

__all__ = [
    "DataLakeClient",
    "Result",
    "DataLakeError",
    "NotFound",
    "BadFilter",
    "Conflict",
    "CorruptData",
    "Unauthorized",
    "ClientClosed",
]
__version__ = "0.1.0"
