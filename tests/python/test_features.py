"""features.get_historical against `dl features get`: the same point-in-time
rows, in entity order, with nulls where nothing was known yet."""
import io

import numpy as np
import pandas as pd
import pytest

import datalake
from conftest import run_dl

FEATURES = """sym,time,mom,label
BTCUSDT,2024-01-01T00:00:00Z,1.5,a
BTCUSDT,2024-01-01T00:01:00Z,2.5,b
ETHUSDT,2024-01-01T00:00:00Z,-0.5,c
"""
ENTITIES = pd.DataFrame(
    {
        "symbol": ["BTCUSDT", "ETHUSDT", "BTCUSDT", "XRPUSDT", "BTCUSDT", "BTCUSDT"],
        "ts": pd.to_datetime(
            ["2024-01-01T00:01:30Z", "2024-01-01T00:00:30Z", "2024-01-01T00:00:59Z", "2024-01-01T00:05:00Z",
             "2024-01-01T00:02:00Z", "2024-01-03T00:00:00Z"], utc=True),
    }
)


@pytest.fixture(scope="module")
def feature_lake(lake, tmp_path_factory):
    d = tmp_path_factory.mktemp("feat")
    (d / "f.csv").write_text(FEATURES)
    run_dl("features", "import", str(d / "f.csv"), "--name", "mom", "--version", "1.0.0", "--entity-col", "sym",
           "--ts-col", "time", "--interval", "1m", lake=lake)
    run_dl("features", "alias", "mom", "production", "1.0.0", lake=lake)
    ENTITIES.assign(ts=ENTITIES["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")).to_csv(d / "entities.csv", index=False)
    return lake, d


def cli_get(lake, d, *extra):
    out = run_dl("features", "get", "--entities", str(d / "entities.csv"), "--features", "mom@production",
                 "--format", "csv", *extra, lake=lake).stdout
    return pd.read_csv(io.StringIO(out), keep_default_na=True)


@pytest.mark.parametrize("ttl", [None, "1m"])
def test_get_historical_equals_cli(feature_lake, ttl):
    lake, d = feature_lake
    c = datalake.DataLakeClient(root=lake)
    got = c.features.get_historical(ENTITIES, ["mom@production"], ttl=ttl)
    ref = cli_get(lake, d, *(["--ttl", ttl] if ttl else []))
    assert list(got.columns) == ["symbol", "ts", "mom__mom", "mom__label"] == list(ref.columns)
    assert list(got["symbol"].astype(str)) == list(ENTITIES["symbol"])
    assert list(got["ts"]) == list(ENTITIES["ts"])
    assert np.array_equal(got["mom__mom"].to_numpy(), ref["mom__mom"].to_numpy(), equal_nan=True)
    labels = [None if pd.isna(x) else x for x in ref["mom__label"]]
    assert list(got["mom__label"]) == labels
    # no look-ahead: the 00:00:59 entity must not see the 00:00 bar (known at 00:01)
    assert np.isnan(got["mom__mom"].iloc[2])


def test_features_list_and_errors(feature_lake):
    lake, _ = feature_lake
    c = datalake.DataLakeClient(root=lake)
    listed = c.features.list()
    assert any(v["name"] == "mom" and v["version"] == "1.0.0" and v["rows"] == 3 for v in listed)
    with pytest.raises(datalake.DataLakeError):
        c.features.get_historical(ENTITIES, ["nope@production"])
    with pytest.raises(TypeError):
        c.features.get_historical(ENTITIES.to_dict(), ["mom@production"])
    with pytest.raises(ValueError):
        c.features.get_historical(ENTITIES, ["mom@production"], ttl="soon")
