#!/usr/bin/python3
"""A researcher's first session with the lake, from Python.

    build/release/dl demo --dir /tmp/dl-walk          # a small sample lake
    PYTHONPATH=python /usr/bin/python3 python/examples/walkthrough.py /tmp/dl-walk/lake [URL TOKEN]

Reads minute bars, resamples them to hours, builds a point-in-time training
set from a feature set (no look-ahead), and plots the closes when
matplotlib is installed.  With URL and TOKEN it does the same through the
data server (`dl serve`), which must give the same numbers.
"""
import os
import sys
import tempfile

import numpy as np
import pandas as pd

import datalake

BTC = "BINANCE/SPOT/BTCUSDT/raw/1m"


def main(root, url=None, token=None):
    lake = datalake.DataLakeClient(url=url, token=token) if url else datalake.DataLakeClient(root=root)
    print(lake.datasets()[["name", "first_ts", "last_ts", "rows", "missing"]].to_string(index=False))

    bars = lake.read(BTC, start="2024-01-02", end="2024-01-03", columns=["ts", "close", "volume"])
    print("\n1m bars on 2024-01-02: %d rows (the outage removed %d)" % (len(bars), 1440 - len(bars)))
    print(lake.gaps(BTC).to_string(index=False))

    hourly = lake.resample(BTC, "1h", start="2024-01-02", end="2024-01-03")
    print("\nhourly bars:\n%s" % hourly[["ts", "open", "high", "low", "close", "volume"]].head().to_string(index=False))

    # a feature computed in pandas, published as a versioned feature set (local lake only)
    if not url:
        rets = lake.read(BTC, columns=["ts", "close"])
        rets["ret_15m"] = np.log(rets["close"]).diff(15)
        rets["symbol"] = "BTCUSDT"
        with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
            rets.dropna()[["symbol", "ts", "ret_15m"]].assign(ts=lambda d: d["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")).to_csv(f, index=False)
        import shutil
        import subprocess

        here = os.path.dirname(os.path.abspath(__file__))
        dl = os.environ.get("DL") or shutil.which("dl") or os.path.join(here, "..", "..", "build", "release", "dl")
        cmd = [dl, "features", "import", f.name, "--name", "momentum", "--version", "1.0.0",
               "--entity-col", "symbol", "--ts-col", "ts", "--interval", "1m", "--root", root]
        print("\n$ " + " ".join(cmd[:1] + ["features", "import", "...", "--name", "momentum", "--version", "1.0.0"]))
        subprocess.run(cmd, check=False)
        os.unlink(f.name)
        try:
            listed = lake.features.list()
        except datalake.DataLakeError:
            listed = []
        if any(v["name"] == "momentum" for v in listed):
            entities = pd.DataFrame({"symbol": ["BTCUSDT"] * 3, "ts": pd.to_datetime(["2024-01-02T09:00Z", "2024-01-02T11:00Z", "2024-01-02T13:00Z"], utc=True)})
            print("point-in-time training rows (what was known at each ts):")
            print(lake.features.get_historical(entities, ["momentum@latest"], ttl="30m").to_string(index=False))

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        ax = bars.plot(x="ts", y="close", title="BTCUSDT 1m close, 2024-01-02 (UTC)", legend=False)
        png = os.path.join(tempfile.gettempdir(), "dl-walkthrough.png")
        ax.figure.savefig(png, dpi=80)
        print("\nplot: " + png)
    except ImportError:
        print("\n(matplotlib is not installed: no plot)")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 4):
        sys.exit(__doc__)
    main(*sys.argv[1:])
