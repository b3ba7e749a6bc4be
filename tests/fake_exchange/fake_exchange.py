#!/usr/bin/python3
"""A fake exchange archive for the sync tests: builds the data.binance.vision
layout from dl-gen's CSVs (monthly and daily zips, each with a .CHECKSUM)
and serves it on a random loopback port, with faults on demand.

    fake_exchange.py build --csv DIR --out ROOT      # ROOT/data/spot/{monthly,daily}/klines/...
    fake_exchange.py serve --root ROOT --port-file F --log F [--faults F]

The faults file (JSON, re-read on every request) may hold:
    {"429_once": ["substring", ...]}   first request of a matching path: 429, Retry-After: 1
    {"status": {"substring": 500}}     every request of a matching path answers that status
    {"corrupt_checksum": ["substring"]} the .CHECKSUM of a matching archive is wrong
The log gets one line per request: "METHOD PATH STATUS".
"""
import argparse
import hashlib
import http.server
import io
import json
import os
import sys
import threading
import zipfile


def build(csv_dir, out):
    for name in sorted(os.listdir(csv_dir)):
        if not name.endswith(".csv"):
            continue
        sym, interval, rest = name[:-4].split("-", 2)  # BTCUSDT-1m-2023-12
        lines = open(os.path.join(csv_dir, name), "rb").read().splitlines(keepends=True)
        monthly = os.path.join(out, "data/spot/monthly/klines", sym, interval)
        daily = os.path.join(out, "data/spot/daily/klines", sym, interval)
        os.makedirs(monthly, exist_ok=True)
        os.makedirs(daily, exist_ok=True)
        write_zip(os.path.join(monthly, "%s-%s-%s.zip" % (sym, interval, rest)), name, b"".join(lines))
        by_day = {}
        for line in lines:
            ms = int(line.split(b",", 1)[0])
            day = ms // 86400000
            by_day.setdefault(day, []).append(line)
        import datetime

        for day, rows in by_day.items():
            d = (datetime.date(1970, 1, 1) + datetime.timedelta(days=day)).isoformat()
            base = "%s-%s-%s" % (sym, interval, d)
            write_zip(os.path.join(daily, base + ".zip"), base + ".csv", b"".join(rows))


def write_zip(path, member, data):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo(member, date_time=(2024, 1, 1, 0, 0, 0))  # deterministic bytes
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, data)
    raw = buf.getvalue()
    with open(path, "wb") as f:
        f.write(raw)
    with open(path + ".CHECKSUM", "w") as f:
        f.write("%s  %s\n" % (hashlib.sha256(raw).hexdigest(), os.path.basename(path)))


class Handler(http.server.BaseHTTPRequestHandler):
    root = None
    log_file = None
    faults_file = None
    seen = set()
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def _faults(self):
        if not self.faults_file or not os.path.exists(self.faults_file):
            return {}
        with open(self.faults_file) as f:
            return json.load(f)

    def _answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with self.lock, open(self.log_file, "a") as f:
            f.write("GET %s %d\n" % (self.path, status))

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        faults = self._faults()
        with self.lock:
            first = path not in self.seen
            self.seen.add(path)
        if first and any(s in path for s in faults.get("429_once", [])):
            return self._answer(429, b'{"code":-1003,"msg":"Too many requests"}', [("Retry-After", "1")])
        for s, status in faults.get("status", {}).items():
            if s in path:
                return self._answer(int(status), b"fault")
        full = os.path.realpath(os.path.join(self.root, path.lstrip("/")))
        if not full.startswith(os.path.realpath(self.root) + os.sep) or not os.path.isfile(full):
            return self._answer(404, b"<Error><Code>NoSuchKey</Code></Error>")
        body = open(full, "rb").read()
        if path.endswith(".CHECKSUM") and any(s in path for s in faults.get("corrupt_checksum", [])):
            body = b"0" * 64 + body[64:]
        self._answer(200, body, [("Content-Type", "application/zip")])


def serve(root, port_file, log_file, faults_file):
    Handler.root, Handler.log_file, Handler.faults_file = root, log_file, faults_file
    open(log_file, "a").close()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(httpd.server_address[1]))
    os.rename(port_file + ".tmp", port_file)
    httpd.serve_forever()


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--csv", required=True)
    b.add_argument("--out", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--root", required=True)
    s.add_argument("--port-file", required=True)
    s.add_argument("--log", required=True)
    s.add_argument("--faults")
    a = ap.parse_args()
    if a.cmd == "build":
        build(a.csv, a.out)
    else:
        serve(a.root, a.port_file, a.log, a.faults)


if __name__ == "__main__":
    sys.exit(main())
