#!/usr/bin/python3
"""Reading the lake into pandas: the Python client, locally and through the
data server, in the same run as `dl query --format arrow > /dev/null` and as
pandas.read_csv of the same rows (what a Debian Python user has today).

    /usr/bin/python3 bench/py_read.py --lake LAKE [--dataset 'BINANCE/SPOT/*/raw/1m'] [--runs 3]

Prints one JSON line per measurement (median seconds, rows, rows/s) and a
last line with the ratios to the CLI's time.  The server is started from
the same dl on a random loopback port (skipped when dl has no serve).
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))

import pandas as pd  # noqa: E402

import datalake  # noqa: E402


def timed(fn, runs):
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def start_server(dl, lake):
    with tempfile.TemporaryDirectory() as d:
        port_file = os.path.join(d, "port")
        proc = subprocess.Popen([dl, "serve", "--root", lake, "--listen", "127.0.0.1:0", "--no-auth",
                                 "--port-file", port_file, "--log", "-", "--max-page-rows", "100000000"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                return None, None
            time.sleep(0.05)
        return proc, "http://127.0.0.1:" + open(port_file).read().strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lake", required=True)
    ap.add_argument("--dataset", default="BINANCE/SPOT/*/raw/1m")
    ap.add_argument("--columns", default="ts,close,volume")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dl", default=os.path.join(ROOT, "build", "release", "dl"))
    a = ap.parse_args()
    cols = a.columns.split(",")
    out = {}

    def cli():
        with open(os.devnull, "wb") as null:
            subprocess.run([a.dl, "query", a.dataset, "--root", a.lake, "--columns", a.columns, "--format", "arrow"],
                           stdout=null, check=True)

    out["cli_arrow"], _ = timed(cli, a.runs)
    local = datalake.DataLakeClient(root=a.lake)
    out["local"], df = timed(lambda: local.read(a.dataset, columns=cols), a.runs)
    rows = len(df)
    del df
    proc, url = (None, None)
    if subprocess.run([a.dl, "serve", "--help"], capture_output=True).returncode == 0:
        proc, url = start_server(a.dl, a.lake)
    if url:
        try:
            remote = datalake.DataLakeClient(url=url)
            out["remote"], df = timed(lambda: remote.read(a.dataset, columns=cols), a.runs)
            assert len(df) == rows, "remote returned %d rows, local %d" % (len(df), rows)
            del df
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    with tempfile.NamedTemporaryFile(suffix=".csv") as f:
        subprocess.run([a.dl, "query", a.dataset, "--root", a.lake, "--columns", a.columns, "--format", "csv"],
                       stdout=f, check=True)
        out["pandas_read_csv"], _ = timed(lambda: pd.read_csv(f.name, parse_dates=["ts"]), a.runs)
    for k, v in out.items():
        print(json.dumps({"case": k, "seconds": round(v, 4), "rows": rows, "rows_per_s": round(rows / v)}))
    print(json.dumps({"ratio_to_cli": {k: round(v / out["cli_arrow"], 2) for k, v in out.items()}}))


if __name__ == "__main__":
    main()
