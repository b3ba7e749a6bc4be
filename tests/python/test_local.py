"""The local client against the CLI: same rows, right dtypes, no copies
where the layout allows, bounded batches, clear errors."""
import ctypes
import io

import numpy as np
import pandas as pd
import pytest

import datalake
from conftest import run_dl

BTC = "BINANCE/SPOT/BTCUSDT/raw/1m"


def cli_csv(lake, *args):
    out = run_dl("query", *args, "--format", "csv", lake=lake).stdout
    return pd.read_csv(io.StringIO(out), float_precision="round_trip")


def iso(series):
    return series.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_contract_read_equals_cli(client, lake):
    df = client.read(BTC, start="2024-01-02", end="2024-01-03", columns=["ts", "close"])
    assert list(df.columns) == ["ts", "close"]
    assert str(df["ts"].dtype) == "datetime64[ns, UTC]"
    assert df["close"].dtype == np.float64
    ref = cli_csv(lake, BTC, "--from", "2024-01-02", "--to", "2024-01-03", "--columns", "ts,close")
    assert len(df) == len(ref) == 1320  # 1440 minutes less the two-hour outage
    assert list(iso(df["ts"])) == list(ref["ts"])
    assert np.array_equal(df["close"].to_numpy(), ref["close"].to_numpy())


def test_filter_glob_limit_equal_cli(client, lake):
    where = "volume > 30 and close > 2000"
    df = client.read("BINANCE/SPOT/*/raw/1m", where=where, columns=["ts", "close", "volume"])
    ref = cli_csv(lake, "BINANCE/SPOT/*/raw/1m", "--where", where, "--columns", "ts,close,volume")
    assert list(df.columns) == ["symbol", "ts", "close", "volume"]
    assert len(df) == len(ref) and len(df) > 0
    assert list(df["symbol"].astype(str)) == list(ref["symbol"])
    assert np.array_equal(df["volume"].to_numpy(), ref["volume"].to_numpy())
    assert len(client.read(BTC, limit=7)) == 7
    assert len(client.read(BTC, limit=0)) == 0


def test_dtypes_all_columns(client):
    df = client.read(BTC, start="2024-01-01", end="2024-01-01T00:10:00Z")
    assert len(df) == 10
    assert df["trade_count"].dtype == np.int64
    for c in ("open", "high", "low", "close", "volume"):
        assert df[c].dtype == np.float64
    assert df["ts"].iloc[0] == pd.Timestamp("2024-01-01T00:00:00Z")


def _owner_in_base_chain(arr):
    base = arr
    while base is not None:
        if hasattr(base, "_dl_owner"):
            return base._dl_owner
        base = getattr(base, "base", None) if not isinstance(base, ctypes.Array) else getattr(base, "_b_base_", None)
        if isinstance(base, ctypes.Array) and hasattr(base, "_dl_owner"):
            return base._dl_owner
    return None


def test_zero_copy_numeric_columns(client):
    # one day with no nulls is one batch: float64/int64 columns are views of the Arrow buffers
    df = client.read(BTC, start="2024-01-01", end="2024-01-02", columns=["close", "trade_count"])
    for col in ("close", "trade_count"):
        values = df[col].to_numpy()
        owner = _owner_in_base_chain(values)
        assert owner is not None, "%s was copied" % col
        assert not owner.released
    # the Arrow array is released once the last view is gone
    import gc
    import weakref

    owner_ref = weakref.ref(_owner_in_base_chain(df["close"].to_numpy()))
    owner = None
    assert owner_ref() is not None
    del df, values
    gc.collect()
    assert owner_ref() is None


def test_iter_batches_bounded(client, lake):
    sizes = [len(b) for b in client.iter_batches(BTC)]
    assert len(sizes) >= 3  # one or more per day file
    assert max(sizes) <= 1440
    assert sum(sizes) == client.info(BTC)["rows"] == 4200


def test_as_of_version_and_time(client):
    assert len(client.read(BTC, as_of=1)) == 4200
    with pytest.raises(datalake.DataLakeError):
        client.read(BTC, as_of=99)
    assert len(client.read(BTC, as_of="2100-01-01")) == 4200


def test_resample_equals_persisted_agg(client):
    on_the_fly = client.resample(BTC, "1h")
    persisted = client.read("BINANCE/SPOT/BTCUSDT/agg/1h")
    assert len(on_the_fly) == 70
    pd.testing.assert_frame_equal(on_the_fly, persisted)


def test_metadata(client, lake):
    names = list(client.datasets()["name"])
    assert BTC in names and "BINANCE/SPOT/ETHUSDT/raw/1m" in names
    info = client.info(BTC)
    assert info["rows"] == 4200 and info["missing"] == 120
    assert info["first_ts"] == pd.Timestamp("2024-01-01T00:00:00Z")
    gaps = client.gaps("BINANCE/SPOT/ETHUSDT/raw/1m")
    assert list(gaps["missing"]) == [1440]
    assert gaps["from_ts"].iloc[0] == pd.Timestamp("2024-01-02T00:00:00Z")
    hist = client.history(BTC)
    assert list(hist["version"]) == [1]
    schema = client.schema(BTC)
    assert schema["ts"] == "timestamp[us, UTC]" and schema["close"] == "double"


def test_errors(client, lake):
    with pytest.raises(datalake.NotFound):
        client.read("NOPE/SPOT/X/raw/1m")
    with pytest.raises(datalake.BadFilter) as e:
        client.read(BTC, where="close >> 3")
    assert e.value.position == 7 and "offset 7" in str(e.value)
    with pytest.raises(datalake.BadFilter):
        client.read(BTC, where="nope > 1")
    with pytest.raises(TypeError):
        client.read(123)
    with pytest.raises(TypeError):
        client.read(BTC, columns=[1, 2])
    with pytest.raises(TypeError):
        client.read(BTC, limit="5")
    with pytest.raises(datalake.DataLakeError):
        client.read(BTC, start="yesterday-ish")
    with pytest.raises(ValueError):
        datalake.DataLakeClient()
    with pytest.raises(datalake.NotFound):
        datalake.DataLakeClient(root=lake + "/no-such-lake")


def test_closed_client_never_crashes(lake):
    c = datalake.DataLakeClient(root=lake)
    batches = c.iter_batches(BTC)
    first = next(batches)
    c.close()
    with pytest.raises(datalake.ClientClosed):
        c.read(BTC)
    assert len(first) > 0  # a batch already read stays valid


def test_arrow_c_stream_capsule(client):
    res = client.query(BTC, columns=["ts", "close"])
    capsule = res.__arrow_c_stream__()
    valid = ctypes.pythonapi.PyCapsule_IsValid
    valid.restype = ctypes.c_int
    valid.argtypes = [ctypes.py_object, ctypes.c_char_p]
    assert valid(capsule, b"arrow_array_stream") == 1
    # a consumer takes the stream: read it through the C struct
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype = ctypes.c_void_p
    get.argtypes = [ctypes.py_object, ctypes.c_char_p]
    from datalake import _arrow, _native

    raw = _native.ArrowArrayStream.from_address(get(capsule, b"arrow_array_stream"))
    rows = 0
    while True:
        arr = _native.ArrowArray()
        assert raw.get_next(ctypes.byref(raw), ctypes.byref(arr)) == 0
        if not arr.release:
            break
        rows += arr.length
        arr.release(ctypes.byref(arr))
    assert rows == 4200
    with pytest.raises(datalake.ClientClosed):
        res.__arrow_c_stream__()  # moved out
    del capsule  # the destructor releases the stream


def test_write_ingest_verify(tmp_path, lake):
    import shutil

    root = tmp_path / "lake"
    shutil.copytree(lake, root)
    c = datalake.DataLakeClient(root=str(root))
    df = pd.DataFrame(
        {
            "ts": pd.to_datetime(["2024-02-01T00:00:00Z", "2024-02-01T00:01:00Z", "2024-02-01T00:02:00Z"], utc=True),
            "price": [1.5, 2.5, np.nan],
            "qty": pd.array([1, None, 3], dtype="Int64"),
            "venue": ["a", None, "c"],
        }
    )
    res = c.write("MYFEED/SPOT/ABC/raw/1m", df, message="from pandas")
    assert res["rows_in"] == 3 and res["versions_created"] == 1
    back = c.read("MYFEED/SPOT/ABC/raw/1m")
    assert list(back.columns) == ["ts", "price", "qty", "venue"]
    assert list(back["ts"]) == list(df["ts"])
    assert np.array_equal(back["price"].to_numpy(), df["price"].to_numpy(), equal_nan=True)
    assert list(back["qty"]) == [1, pd.NA, 3]
    assert list(back["venue"]) == ["a", None, "c"]
    assert client_history_message(c, "MYFEED/SPOT/ABC/raw/1m") == "from pandas"
    again = c.write("MYFEED/SPOT/ABC/raw/1m", df)
    assert again["versions_created"] == 0  # the same rows: unchanged, no new version
    # ingest a Binance file of the demo's format: one more day for BTCUSDT
    sample = tmp_path / "BTCUSDT-1m-2024-01-04.csv"
    sample.write_text("".join("%d,1,2,0.5,1.5,10,%d,15,3,5,7.5,0\n" % (t, t + 59999) for t in range(1704326400000, 1704326400000 + 60 * 60000, 60000)))
    out = c.ingest([str(sample)])
    assert out["rows_read"] == 60
    assert c.info(BTC)["rows"] == 4260
    v = c.verify()
    assert v["ok"] is True and v["files_checked"] > 0
    with pytest.raises(datalake.DataLakeError):
        c.ingest([str(tmp_path / "missing-1m-2024-01-01.csv")])
    with pytest.raises(TypeError):
        c.write(BTC, {"ts": []})
    c.close()


def client_history_message(c, ds):
    return c.history(ds)["message"].iloc[-1]
