#!/usr/bin/env bash
# test_server.sh -- `dl serve` as a real process on a random loopback port,
# over a lake built from the generator's --small dataset, with curl:
#   routes:   health, datasets (the contract's shape), info, schema, gaps,
#             history, files (SHA-256 equal to sha256sum of the files),
#             metrics, openapi (every documented route answers, every route
#             the test knows is documented);
#   query:    csv and ndjson bytes equal `dl query` (range, columns, where,
#             glob), JSON pages walked by next_cursor equal the whole result,
#             Link header, arrow bytes equal `dl query --format arrow` and
#             are read by apache-arrow, parquet read by `dl cat` and DuckDB,
#             tail, resample period, gzip/zstd, problem+json errors (400 with
#             the filter position, 404, 405, 406, unknown parameter);
#   paging while an ingest rewrites the same days: the pages are exactly the
#             first version's rows;
#   auth:     no token, malformed, wrong, expired, revoked, wrong scope,
#             dataset outside the glob, rate limit 429 + Retry-After;
#   hostile:  path traversal in several encodings, overlong URL and header,
#             tampered and foreign cursors, huge limits, slowloris, a client
#             that disconnects mid-stream (the server stays healthy);
#   life:     non-loopback without auth refused, TLS with a self-signed
#             certificate, SIGTERM lets an in-flight stream finish and exits 0
#             (under ASan: with no leak).
# Env: DL = path of the dl binary (default build/release/dl).
set -uo pipefail
cd "$(dirname "$0")/../.."
TEST_NAME=server
# shellcheck source=../cli/cli_lib.sh
source tests/cli/cli_lib.sh
NODE_PATH=$(realpath tests/interop/node_modules 2>/dev/null || realpath bench/node_modules 2>/dev/null || echo "")
export NODE_PATH

"$GEN" --out "$T/gen" --small --jobs 2 >/dev/null 2>&1 || { echo "cannot run $GEN"; echo "0 passed, 1 failed"; exit 1; }
K=$T/gen/klines
BTC=BINANCE/SPOT/BTCUSDT/raw/1m
export DL_ROOT=$T/lake
"$DL" init >/dev/null && "$DL" ingest binance --no-fsync "$K"/*.csv "$T"/gen/trades/*.csv >/dev/null ||
  { echo "cannot build the lake"; echo "0 passed, 1 failed"; exit 1; }

# ---------------- helpers ----------------
SERVER_PID=""
# start_server ARGS...: dl serve on 127.0.0.1, any free port; sets URL
start_server() {
  rm -f "$T/port"
  "$DL" serve --listen 127.0.0.1:0 --port-file "$T/port" --log "$T/server.log" "$@" 2>>"$T/server.err" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.05; done
  URL="http://127.0.0.1:$(cat "$T/port" 2>/dev/null)"
}
# stop_server: SIGTERM, wait, the exit status must be 0 (ASan: no leak)
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID"; local rc=$?
  SERVER_PID=""
  return $rc
}
cleanup() { [ -n "$SERVER_PID" ] && kill -KILL "$SERVER_PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
# get PATH [curl args]: body in $T/body, headers in $T/head, status in $code
get() {
  local path=$1; shift
  code=$(curl -s -o "$T/body" -D "$T/head" -w '%{http_code}' "$@" "$URL$path")
}
# js EXPR: evaluates EXPR with j = the JSON of $T/body; prints the result
js() { node -e "const j = JSON.parse(require('fs').readFileSync('$T/body', 'utf8')); const r = ($1); console.log(typeof r === 'string' ? r : JSON.stringify(r))"; }
export -f js
export T
status_is() { [ "$code" = "$1" ]; }
problem_is() { # problem_is STATUS NEEDLE: an RFC 9457 body with that status and detail
  [ "$code" = "$1" ] && grep -qi '^content-type: application/problem+json' "$T/head" &&
    [ "$(js j.status)" = "$1" ] && grep -qF -- "$2" <<<"$(js j.detail)"
}

# ---------------- tokens ----------------
token() { "$DL" token create "$@" | tail -n 1; }
RT=$(token --scope read --name reader)
WT=$(token --scope write --name writer)
AT=$(token --scope admin --name admin)
GT=$(token --scope read --name bnb-only --datasets 'BINANCE/SPOT/BNB*/raw/1m')
XT=$(token --scope read --name short --expires 1s)
VT=$(token --scope read --name gone)
"$DL" token revoke gone >/dev/null
check "token create prints the token as the last line" grep -qE '^dl_[0-9]+_[A-Za-z0-9_-]{43}$' <<<"$RT"
check "token ls lists names and scopes, never the secret" \
  bash -c "\"$DL\" token ls | grep -q 'bnb-only' && ! \"$DL\" token ls | grep -qF -- \"${RT#dl_*_}\""
fails "token create without --scope is a usage error" 2 "scope" "$DL" token create
A=(-H "Authorization: Bearer $RT")

start_server --rate 1000 --idle-timeout 2
check "server listens on a random port" test -s "$T/port"

# ---------------- metadata routes ----------------
get /v1/health
check "health: 200 without a token, with the version" bash -c "[ $code = 200 ] && grep -q '\"version\"' '$T/body'"
get /v1/datasets
check "datasets: 401 without a token" problem_is 401 "token"
get /v1/datasets "${A[@]}"
check "datasets: 200 {\"datasets\":[{\"name\":...}]}" \
  test "$(js "j.datasets.map(d => d.name).join(' ')")" = "BINANCE/SPOT/BNBUSDT/raw/1m $BTC BINANCE/SPOT/BTCUSDT/ticks/trades BINANCE/SPOT/ETHUSDT/raw/1m"
want_rows=$("$DL" ls --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).find(d=>d.dataset===process.argv[1]).rows))' $BTC)
check "datasets: rows, bytes, versions, range and schema as the catalog says" \
  test "$(js "(d => [d.rows, d.bytes > 0, d.versions, d.first_ts, d.schema[0].name].join(' '))(j.datasets[1])")" = "$want_rows true 1 2023-12-01T00:00:00.000000Z ts"
get /v1/datasets/$BTC "${A[@]}"
check "info: one dataset with its schema" test "$(js "j.name + ' ' + j.rows + ' ' + j.schema.length")" = "$BTC $want_rows 10"
get /v1/datasets/binance/spot/btcusdt/raw/1m/schema "${A[@]}"
check "schema: names normalised like the CLI" test "$(js "j.name + ' ' + j.schema.map(f => f.name).slice(0, 2)")" = "$BTC ts,open"
get /v1/datasets/$BTC/gaps "${A[@]}"
check "gaps: as dl gaps --json" test "$(js "j.gaps.map(g => g.from_ts + '-' + g.missing).join()")" = \
  "$("$DL" gaps $BTC --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).map(g=>g.from_ts+"-"+g.missing).join()))')"
get /v1/datasets/$BTC/history "${A[@]}"
check "history: the versions" test "$(js "j.versions.map(v => v.version).join()")" = "1"
get "/v1/datasets/$BTC/files?from=2023-12-05&to=2023-12-07" "${A[@]}"
f0=$(js "j.files[0].path"); s0=$(js "j.files[0].sha256")
check "files: the range's day files, relative paths, SHA-256 of the bytes" \
  bash -c "[ '$(js "j.files.length")' = 2 ] && [ \"\$(sha256sum '$DL_ROOT/$f0' | cut -d' ' -f1)\" = '$s0' ]"
get /v1/datasets/NOPE/SPOT/X/raw/1m "${A[@]}"
check "unknown dataset: 404 problem+json" problem_is 404 "NOPE"

# ---------------- query: formats ----------------
Q="dataset=$BTC&from=2023-12-05&to=2023-12-07&columns=ts,close,volume&where=close%20%3E%2035000%20and%20volume%20%3E%201"
get "/v1/query?$Q&format=csv" "${A[@]}"
"$DL" query $BTC --from 2023-12-05 --to 2023-12-07 --columns ts,close,volume --where "close > 35000 and volume > 1" --format csv >"$T/want.csv"
check "csv: the bytes of dl query --format csv" cmp -s "$T/body" "$T/want.csv"
check "csv: not empty, text/csv" bash -c "[ \$(wc -l <'$T/want.csv') -gt 100 ] && grep -qi '^content-type: text/csv' '$T/head'"
get "/v1/query?$Q&format=ndjson" "${A[@]}"
"$DL" query $BTC --from 2023-12-05 --to 2023-12-07 --columns ts,close,volume --where "close > 35000 and volume > 1" --format jsonl >"$T/want.jsonl"
check "ndjson: the bytes of dl query --format jsonl" cmp -s "$T/body" "$T/want.jsonl"
get "/v1/query?$Q" "${A[@]}" -H "Accept: text/csv"
check "Accept: text/csv negotiates csv" cmp -s "$T/body" "$T/want.csv"
get "/v1/query?dataset=BINANCE/SPOT/*/raw/1m&from=2024-01-10&to=2024-01-11&format=csv" "${A[@]}"
"$DL" query 'BINANCE/SPOT/*/raw/1m' --from 2024-01-10 --to 2024-01-11 --format csv >"$T/want_glob.csv"
check "glob: csv with the symbol column equals dl query" cmp -s "$T/body" "$T/want_glob.csv"
get "/v1/query?dataset=$BTC&format=arrow" "${A[@]}"
"$DL" query $BTC --format arrow --output "$T/want.arrow"
check "arrow: the bytes of dl query --format arrow" cmp -s "$T/body" "$T/want.arrow"
cp "$T/body" "$T/got.arrow"
if [ -n "$NODE_PATH" ]; then
  check "arrow: apache-arrow reads every row" test "$(node -e "
    const {tableFromIPC} = require('apache-arrow');
    const t = tableFromIPC(require('fs').readFileSync('$T/got.arrow'));
    console.log(t.numRows + ' ' + t.schema.fields.length)")" = "$want_rows 10"
  check "arrow: Polars reads every row" test "$(node -e "
    const pl = require('nodejs-polars');
    const df = pl.readIPCStream(require('fs').readFileSync('$T/got.arrow'));
    console.log(df.height)" 2>/dev/null)" = "$want_rows"
fi
get "/v1/query?dataset=$BTC&from=2023-12-05&to=2023-12-07&format=parquet" "${A[@]}"
cp "$T/body" "$T/got.parquet"
check "parquet: dl cat reads it (2 days of rows)" bash -c "\"$DL\" cat '$T/got.parquet' --format csv | tail -n +2 | cmp -s - <(\"$DL\" query $BTC --from 2023-12-05 --to 2023-12-07 --format csv | tail -n +2)"
if [ -n "$NODE_PATH" ]; then
  check "parquet: DuckDB reads every row" test "$(cd bench && node --input-type=module -e "
    import {DuckDBInstance} from '@duckdb/node-api';
    const db = await DuckDBInstance.create(':memory:'); const c = await db.connect();
    const r = await c.runAndReadAll(\"select count(*)::INTEGER, min(ts)::VARCHAR from '$T/got.parquet'\");
    console.log(r.getRows()[0].join(' '))" 2>&1)" = "2880 2023-12-05 00:00:00+00"
fi
get "/v1/query?dataset=$BTC&tail=3&format=csv&columns=ts,close" "${A[@]}"
check "tail: the last rows" cmp -s "$T/body" <("$DL" query $BTC --tail 3 --format csv --columns ts,close)
get "/v1/query?dataset=$BTC&limit=5&format=csv" "${A[@]}"
check "limit: the first rows" cmp -s "$T/body" <("$DL" query $BTC --limit 5 --format csv)
get "/v1/query?dataset=$BTC&from=2023-12-05&to=2023-12-06&period=1h&format=csv&columns=ts,open,close" "${A[@]}"
check "period: 24 hourly bars of one day" test "$(tail -n +2 "$T/body" | wc -l)" = 24
check "period: bars open at the hour's first open" test "$(sed -n 2p "$T/body" | cut -d, -f2)" = "$(sed -n 2p "$T/want.csv" >/dev/null; "$DL" query $BTC --from 2023-12-05 --limit 1 --format csv --columns open | tail -n 1)"
get "/v1/query?dataset=$BTC&format=csv" "${A[@]}" -H "Accept-Encoding: gzip"
check "gzip: Content-Encoding and the same rows" bash -c "grep -qi '^content-encoding: gzip' '$T/head' && gzip -dc '$T/body' | cmp -s - <(\"$DL\" query $BTC --format csv)"
get "/v1/query?dataset=$BTC&format=csv" "${A[@]}" -H "Accept-Encoding: zstd, gzip;q=0.5"
check "zstd: preferred and the same rows" bash -c "grep -qi '^content-encoding: zstd' '$T/head' && zstd -dc '$T/body' 2>/dev/null | cmp -s - <(\"$DL\" query $BTC --format csv)"

# ---------------- query: pages ----------------
# walk_pages QUERY: follows next_cursor; the rows as JSON lines in $T/pages, page count in $pages
walk_pages() {
  local q=$1 cursor="" ; pages=0; : >"$T/pages"
  while :; do
    get "/v1/query?$q${cursor:+&cursor=$cursor}" "${A[@]}"
    [ "$code" = 200 ] || { echo "page status $code: $(cat "$T/body")"; return 1; }
    node -e "const j = JSON.parse(require('fs').readFileSync('$T/body','utf8')); for (const r of j.rows) console.log(JSON.stringify(r))" >>"$T/pages"
    pages=$((pages + 1))
    cursor=$(js 'j.next_cursor === null ? "" : j.next_cursor')
    [ -n "$cursor" ] || break
    [ "$pages" -lt 1000 ] || return 1
    [ -n "${BETWEEN_PAGES:-}" ] && $BETWEEN_PAGES
  done
}
walk_pages "dataset=$BTC&from=2023-12-05&to=2023-12-07&limit=1000&format=json"
check "json pages: 3 pages of the 2880 rows, equal to dl query --format jsonl" \
  bash -c "[ $pages = 3 ] && cmp -s '$T/pages' <(\"$DL\" query $BTC --from 2023-12-05 --to 2023-12-07 --format jsonl)"
get "/v1/query?dataset=$BTC&limit=10" "${A[@]}"
check "json page: next_cursor in the body and a Link header" \
  bash -c "grep -qi '^link: </v1/query?.*cursor=.*rel=\"next\"' '$T/head' && [ \"\$(js 'j.rows.length')\" = 10 ]"
TR=BINANCE/SPOT/BTCUSDT/ticks/trades
walk_pages "dataset=$TR&from=2023-12-01T10:00:00Z&to=2023-12-01T11:00:00Z&limit=997&columns=price,qty"
check "json pages over ticks (ts repeats across page ends), projection without ts" \
  bash -c "cmp -s '$T/pages' <(\"$DL\" query $TR --from 2023-12-01T10:00:00Z --to 2023-12-01T11:00:00Z --columns price,qty --format jsonl)"
walk_pages "dataset=BINANCE/SPOT/*/raw/1m&from=2024-01-10&to=2024-01-11&limit=1500"
check "json pages over a glob" cmp -s "$T/pages" <("$DL" query 'BINANCE/SPOT/*/raw/1m' --from 2024-01-10 --to 2024-01-11 --format jsonl)

# paging while an ingest rewrites the same days: every page reads version 1
sed 's/,\([0-9.]*\),\([0-9.]*\),\([0-9.]*\),\([0-9.]*\),/,\1,\2,\3,1.5,/' "$K/BTCUSDT-1m-2023-12.csv" >"$T/BTCUSDT-1m-2023-12.csv"
reingest() { "$DL" ingest binance --no-fsync "$T/BTCUSDT-1m-2023-12.csv" >/dev/null 2>&1; BETWEEN_PAGES=""; }
BETWEEN_PAGES=reingest walk_pages "dataset=$BTC&from=2023-12-05&to=2023-12-07&limit=700"
check "paging under a concurrent ingest: a new version appeared meanwhile" \
  test "$("$DL" history $BTC --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).length))')" = 2
check "paging under a concurrent ingest: exactly version 1's rows, no duplicate, no hole" \
  cmp -s "$T/pages" <("$DL" query $BTC --from 2023-12-05 --to 2023-12-07 --as-of-version 1 --format jsonl)
get "/v1/query?dataset=$BTC&from=2023-12-05&to=2023-12-07&limit=5" "${A[@]}"
check "a new first page reads the new version" test "$(js 'j.rows[0].close')" = 1.5

# ---------------- query: errors ----------------
get "/v1/query?dataset=$BTC&where=close%20%3E%3E%201" "${A[@]}"
check "bad filter: 400 with the CLI's message and the position" \
  bash -c "[ $code = 400 ] && [ \"\$(js j.position)\" = 7 ] && [ \"\$(js j.detail)\" = \"\$(\"$DL\" query $BTC --where 'close >> 1' 2>&1 >/dev/null | sed 's/^dl: //')\" ]"
get "/v1/query?dataset=$BTC&where=clsoe%20%3E%201" "${A[@]}"
check "unknown filter column: 400" problem_is 400 "clsoe"
get "/v1/query?dataset=NOPE/SPOT/X/raw/1m" "${A[@]}"
check "unknown dataset: 404" problem_is 404 "NOPE"
get "/v1/query?dataset=$BTC&bogus=1" "${A[@]}"
check "unknown parameter: 400 naming it" problem_is 400 "bogus"
get "/v1/query?dataset=$BTC&limit=99999999999" "${A[@]}"
check "huge limit: 400 with the cap" problem_is 400 "100000"
get "/v1/query?dataset=$BTC&from=yesterday" "${A[@]}"
check "bad time: 400" problem_is 400 "from"
get "/v1/query?dataset=$BTC" "${A[@]}" -H "Accept: image/png"
check "Accept nothing we produce: 406" problem_is 406 "Accept"
get "/v1/query?dataset=$BTC" "${A[@]}" -X DELETE
check "wrong method: 405" problem_is 405 "method"
get "/v1/nope" "${A[@]}"
check "unknown route: 404" problem_is 404 "route"

# ---------------- cursors ----------------
get "/v1/query?dataset=$BTC&limit=10" "${A[@]}"
C=$(js j.next_cursor)
mid=$(( ${#C} / 2 )); ch=${C:$mid:1}; [ "$ch" = A ] && sub=B || sub=A
TAMPERED="${C:0:$mid}$sub${C:$((mid + 1))}"
get "/v1/query?dataset=$BTC&limit=10&cursor=$TAMPERED" "${A[@]}"
check "tampered cursor: 400 (signature)" problem_is 400 "cursor"
get "/v1/query?dataset=$BTC&limit=10&cursor=not-a-cursor%21" "${A[@]}"
check "malformed cursor: 400" problem_is 400 "cursor"
get "/v1/query?dataset=BINANCE/SPOT/ETHUSDT/raw/1m&limit=10&cursor=$C" "${A[@]}"
check "cursor of another query: 400" problem_is 400 "another query"
get "/v1/query?dataset=$BTC&limit=10&cursor=$(head -c 3000 /dev/zero | tr '\0' A)" "${A[@]}"
check "overlong cursor: 400" problem_is 400 "cursor"

# ---------------- auth matrix ----------------
get /v1/datasets -H "Authorization: Bearer dl_999_$(printf 'x%.0s' $(seq 43))"
check "wrong token: 401" problem_is 401 "unknown token"
get /v1/datasets -H "Authorization: Basic Zm9vOmJhcg=="
check "not a bearer token: 401" problem_is 401 "Bearer"
sleep 1.1
get /v1/datasets -H "Authorization: Bearer $XT"
check "expired token: 401" problem_is 401 "expired"
get /v1/datasets -H "Authorization: Bearer $VT"
check "revoked token: 401" problem_is 401 "revoked"
get /v1/datasets -H "Authorization: Bearer $GT"
check "dataset glob: the listing shows only the token's datasets" test "$(js "j.datasets.map(d => d.name).join()")" = "BINANCE/SPOT/BNBUSDT/raw/1m"
get /v1/datasets/$BTC -H "Authorization: Bearer $GT"
check "dataset outside the glob: 403 on a dataset route" problem_is 403 "may not"
get "/v1/query?dataset=$BTC&limit=1" -H "Authorization: Bearer $GT"
check "dataset outside the glob: 403 on a query" problem_is 403 "may not"
get "/v1/query?dataset=BINANCE/SPOT/*/raw/1m&limit=1" -H "Authorization: Bearer $GT"
check "glob reaching outside the token's glob: 403" problem_is 403 "may not"
get "/v1/query?dataset=BINANCE/SPOT/BNBUSDT/raw/1m&limit=1" -H "Authorization: Bearer $GT"
check "dataset inside the glob: 200" status_is 200

# ---------------- openapi, metrics ----------------
get /v1/openapi.json
check "openapi: an OpenAPI 3.x document" test "$(js 'j.openapi.split(".")[0]')" = 3
paths=$(js "Object.keys(j.paths).join(' ')")
for p in /v1/health /v1/datasets /v1/query /metrics /v1/openapi.json \
         "/v1/datasets/{exchange}/{market}/{symbol}/{type}/{period}" \
         "/v1/datasets/{exchange}/{market}/{symbol}/{type}/{period}/files"; do
  check "openapi documents $p" grep -qF -- " $p " <<<" $paths "
done
undocumented=0
for p in $paths; do
  concrete=${p//\{exchange\}/BINANCE}; concrete=${concrete//\{market\}/SPOT}
  concrete=${concrete//\{symbol\}/BTCUSDT}; concrete=${concrete//\{type\}/raw}; concrete=${concrete//\{period\}/1m}
  [ "$concrete" = /v1/query ] && concrete="/v1/query?dataset=$BTC&limit=1"
  get "$concrete" "${A[@]}"
  [ "$code" = 200 ] || { undocumented=1; echo "  $p -> $code"; }
done
check "openapi: every documented route answers 200" test $undocumented = 0
get /metrics
check "metrics: requests by route and status" grep -q 'dl_http_requests_total{route="/v1/query",status="200"}' "$T/body"
check "metrics: latency histogram, in-flight and connections" \
  bash -c "grep -q 'dl_http_request_duration_seconds_bucket{le=\"+Inf\"}' '$T/body' && grep -q '^dl_http_requests_in_flight ' '$T/body' && grep -q '^dl_http_open_connections ' '$T/body'"
check "log: one JSON line per request with token name and rows" \
  bash -c "tail -n 50 '$T/server.log' | grep -q '\"token\":\"reader\".*\"status\":200,\"rows\":10,'"

# ---------------- hostile requests ----------------
for p in "/v1/datasets/%2e%2e/%2e%2e/etc/passwd/x" "/v1/datasets/..%2f..%2f/etc/passwd" \
         "/v1/datasets/%252e%252e/SPOT/X/raw/1m" "/v1/..%5c..%5cetc/passwd" "/v1/datasets/BINANCE/SPOT/%00/raw/1m" \
         "/v1/datasets/BINANCE/SPOT/..%c0%af/raw/1m"; do
  code=$(curl -s --path-as-is -o "$T/body" -w '%{http_code}' "${A[@]}" "$URL$p")
  check "traversal $p: 400/404, no file content" bash -c "[ $code = 400 ] || [ $code = 404 ]; [ \$? = 0 ] && ! grep -q root: '$T/body'"
done
code=$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$URL/v1/../../../etc/passwd")
check "raw ../ in the path: 400" test "$code" = 400
code=$(curl -s -o /dev/null -w '%{http_code}' "${A[@]}" "$URL/v1/query?dataset=$BTC&x=$(head -c 100000 /dev/zero | tr '\0' a)")
check "overlong URL: 414" test "$code" = 414
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 100000 /dev/zero | tr '\0' a)" "$URL/v1/health")
check "overlong header: 431" test "$code" = 431
# slowloris: connections that never finish their headers do not stop others
# and are closed after the idle timeout
port=$(cat "$T/port")
for i in 1 2 3 4 5; do
  ( exec 3<>/dev/tcp/127.0.0.1/$port; printf 'GET /v1/health HTTP/1.1\r\nHost: x\r\n' >&3
    timeout 10 cat <&3 >/dev/null; echo closed >"$T/slow$i" ) &
done
sleep 0.3
get /v1/health
check "slowloris: the server still answers" status_is 200
sleep 3.5
check "slowloris: half-open connections closed after the idle timeout" \
  bash -c "ls '$T'/slow? 2>/dev/null | wc -l | grep -qx 5"
# a client that goes away mid-stream
curl -s "${A[@]}" "$URL/v1/query?dataset=$TR&format=csv" | head -c 10000 >/dev/null
curl -s --max-time 0.2 --limit-rate 50k "${A[@]}" "$URL/v1/query?dataset=$TR&format=arrow" -o /dev/null
sleep 0.5
get /metrics
check "client disconnect mid-stream: nothing left in flight but this request" \
  grep -qx 'dl_http_requests_in_flight 1' "$T/body"
get "/v1/query?$Q&format=csv" "${A[@]}"
check "client disconnect mid-stream: the server keeps serving" cmp -s "$T/body" \
  <("$DL" query $BTC --from 2023-12-05 --to 2023-12-07 --columns ts,close,volume --where "close > 35000 and volume > 1" --format csv)
check "the server survived everything above" kill -0 "$SERVER_PID"
check "SIGTERM: the server exits 0 (ASan: no leak)" stop_server

# ---------------- rate limit, graceful stop ----------------
start_server --rate 2 --grace 30
for i in 1 2 3 4 5 6; do get /v1/datasets "${A[@]}"; done
check "rate limit: 429 with Retry-After" bash -c "[ $code = 429 ] && grep -qi '^retry-after: ' '$T/head'"
# an in-flight slow stream finishes after SIGTERM; new connections are refused
SLOW="dataset=$TR&from=2023-12-01T10:00:00Z&to=2023-12-01T12:00:00Z&format=csv"
curl -s --limit-rate 300k -H "Authorization: Bearer $WT" "$URL/v1/query?$SLOW" -o "$T/slow.csv" &
cpid=$!
sleep 0.5
kill -TERM "$SERVER_PID"
sleep 0.3
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/health")
check "SIGTERM: new connections refused" test "$code" = 000
wait $cpid
check "SIGTERM: the in-flight stream completed" \
  cmp -s "$T/slow.csv" <("$DL" query $TR --from 2023-12-01T10:00:00Z --to 2023-12-01T12:00:00Z --format csv)
wait "$SERVER_PID"; rc=$?; SERVER_PID=""
check "SIGTERM: exit 0 after the stream" test "$rc" = 0

# ---------------- listen policy, TLS ----------------
fails "non-loopback without auth is refused" 1 "refusing" "$DL" serve --listen 0.0.0.0:0 --no-auth
if command -v openssl >/dev/null; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
    -subj /CN=127.0.0.1 >/dev/null 2>&1
  start_server --tls-cert "$T/cert.pem" --tls-key "$T/key.pem"
  code=$(curl -s --cacert "$T/cert.pem" -o "$T/body" -w '%{http_code}' "https://127.0.0.1:$(cat "$T/port")/v1/datasets" "${A[@]}")
  check "TLS: https with a self-signed certificate" bash -c "[ $code = 200 ] && grep -q BTCUSDT '$T/body'"
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(cat "$T/port")/v1/health")
  check "TLS: plain http is not answered" test "$code" != 200
  check "TLS: SIGTERM exits 0" stop_server
fi

echo "$passed passed, $failed failed"
((failed == 0))
