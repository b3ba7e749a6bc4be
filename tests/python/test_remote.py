"""Remote mode against a real `dl serve` on a random loopback port: the
same calls return the same DataFrames as local mode."""
import os
import signal
import subprocess
import time

import pandas as pd
import pytest

import datalake
from conftest import DL, run_dl

BTC = "BINANCE/SPOT/BTCUSDT/raw/1m"


def _has_serve():
    return subprocess.run([DL, "serve", "--help"], capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(not _has_serve(), reason="this dl has no serve command")


@pytest.fixture(scope="module")
def server(lake, tmp_path_factory):
    port_file = tmp_path_factory.mktemp("srv") / "port"
    proc = subprocess.Popen(
        [DL, "serve", "--root", lake, "--listen", "127.0.0.1:0", "--port-file", str(port_file), "--log", "-"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 20
    while not (port_file.exists() and port_file.read_text().strip()):
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise AssertionError("dl serve did not start: %s" % proc.stderr.read().decode()[:500])
        time.sleep(0.05)
    token = run_dl("token", "create", "--scope", "read", "--name", "pytest", lake=lake).stdout.strip().splitlines()[-1]
    yield "http://127.0.0.1:%s" % port_file.read_text().strip(), token
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


@pytest.fixture
def remote(server):
    url, token = server
    c = datalake.DataLakeClient(url=url, token=token)
    yield c
    c.close()


CASES = [
    dict(ds=BTC, start="2024-01-02", end="2024-01-03", columns=["ts", "close"]),
    dict(ds=BTC),
    dict(ds="BINANCE/SPOT/*/raw/1m", where="volume > 30 and close > 2000", columns=["ts", "close", "volume"]),
    dict(ds=BTC, start="2024-01-01T12:00:00Z", end="2024-01-01T13:00:00Z", as_of=1),
    dict(ds=BTC, limit=25),
]


@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_read_parity(client, remote, case):
    args = dict(case)
    ds = args.pop("ds")
    local = client.read(ds, **args)
    far = remote.read(ds, **args)
    assert len(local) > 0
    pd.testing.assert_frame_equal(local, far)


def test_contract_remote_read(remote):
    df = remote.read(BTC, start="2023-12-05", end="2023-12-06", columns=["ts", "close"])
    assert list(df.columns) == ["ts", "close"] and len(df) == 0  # the sample starts in 2024
    df = remote.read(BTC, start="2024-01-02", end="2024-01-03", columns=["ts", "close"])
    assert str(df["ts"].dtype) == "datetime64[ns, UTC]" and df["close"].dtype == "float64" and len(df) == 1320


def test_iter_batches_and_resample_parity(client, remote):
    assert sum(len(b) for b in remote.iter_batches(BTC)) == 4200
    pd.testing.assert_frame_equal(client.resample(BTC, "1h"), remote.resample(BTC, "1h"))


def test_metadata_parity(client, remote):
    pd.testing.assert_frame_equal(client.datasets(), remote.datasets())
    pd.testing.assert_frame_equal(client.gaps(BTC), remote.gaps(BTC))
    assert client.schema(BTC) == remote.schema(BTC) or set(client.schema(BTC)) == set(remote.schema(BTC))
    lh, rh = client.history(BTC), remote.history(BTC)
    assert list(lh["version"]) == list(rh["version"])
    # the library's JSON carries milliseconds, the server's ISO text microseconds
    assert list(lh["committed_at"].dt.floor("ms")) == list(rh["committed_at"].dt.floor("ms"))


def test_remote_errors(server):
    url, token = server
    r = datalake.DataLakeClient(url=url, token=token)
    with pytest.raises(datalake.BadFilter) as e:
        r.read(BTC, where="close >> 3")
    assert e.value.position == 7 and e.value.http_status == 400
    with pytest.raises(datalake.NotFound):
        r.read("NOPE/SPOT/X/raw/1m")
    with pytest.raises(datalake.Unauthorized):
        datalake.DataLakeClient(url=url, token="wrong").read(BTC)
    with pytest.raises(datalake.Unauthorized):
        datalake.DataLakeClient(url=url).datasets()
    with pytest.raises(datalake.DataLakeError):
        datalake.DataLakeClient(url="http://127.0.0.1:1").datasets()
    r.close()
    with pytest.raises(datalake.ClientClosed):
        r.read(BTC)
