"""Shared fixtures: the built dl, a small lake made by `dl demo`, the client."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
DL = os.environ.get("DL", os.path.join(ROOT, "build", "release", "dl"))


def run_dl(*args, lake=None, check=True):
    env = dict(os.environ)
    if lake:
        env["DL_ROOT"] = lake
    p = subprocess.run([DL, *args], env=env, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError("dl %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr))
    return p


@pytest.fixture(scope="session")
def lake(tmp_path_factory):
    """A lake holding `dl demo`'s sample: BTCUSDT and ETHUSDT 1m klines with
    an outage and a missing day, plus BTCUSDT agg/1h."""
    work = tmp_path_factory.mktemp("demo")
    run_dl("demo", "--dir", str(work / "job"))
    return str(work / "job" / "lake")


@pytest.fixture
def client(lake):
    import datalake

    c = datalake.DataLakeClient(root=lake)
    yield c
    c.close()
