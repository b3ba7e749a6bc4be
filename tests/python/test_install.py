"""`make install` puts the package beside the library, and it works from there."""
import os
import subprocess
import sys

from conftest import ROOT


def test_installed_package_finds_installed_library(tmp_path, lake):
    prefix = tmp_path / "prefix"
    subprocess.run(["make", "-s", "install", "PREFIX=" + str(prefix)], cwd=ROOT, check=True, capture_output=True)
    site = prefix / "lib" / "python3" / "dist-packages"
    code = (
        "import datalake, datalake._native as n; c = datalake.DataLakeClient(root=%r);"
        "print(n._lib._name); print(len(c.read('BINANCE/SPOT/BTCUSDT/raw/1m')))" % lake
    )
    env = {k: v for k, v in os.environ.items() if k != "DL_LIBRARY"}
    env["PYTHONPATH"] = str(site)
    out = subprocess.run(["/usr/bin/python3", "-c", code], cwd=str(tmp_path), env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lib, rows = out.stdout.split()
    assert os.path.realpath(lib).startswith(str(prefix)), lib
    assert int(rows) == 4200
