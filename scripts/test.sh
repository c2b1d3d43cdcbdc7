#!/usr/bin/env bash
# The whole test suite (README: `make test`). Builds, runs every test project, publishes the Native-AOT
# binary with a gate on trim/AOT warnings, runs the native binary's smoke tests, and ends with one line
# "N passed, N failed" summed over every runner.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ART="$ROOT/artifacts/test"
rm -rf "$ART"; mkdir -p "$ART"
passed=0; failed=0
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

PGBIN=""; PGDIR=""
cleanup() {
  if [[ -n "${NATIVE_PID:-}" ]]; then kill "$NATIVE_PID" 2>/dev/null || true; fi
  if [[ -n "${RUN_PGID:-}" ]]; then kill -TERM -- -"$RUN_PGID" 2>/dev/null || true; fi
  if [[ -n "$PGDIR" && -d "$PGDIR/pg" ]]; then
    su postgres -c "$PGBIN/pg_ctl -D $PGDIR/pg -m fast -w stop" >/dev/null 2>&1 || true
    rm -rf "$PGDIR"
  fi
}
trap cleanup EXIT

# PostgreSQL for the integration tests: a private cluster on a free loopback port, stopped on exit.
start_postgres() {
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [[ -z "$PGBIN" || ! -x "$PGBIN/initdb" ]]; then
    echo "installing PostgreSQL from the OS packages"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  PGDIR=$(mktemp -d); chown postgres "$PGDIR"
  PGPORT=$((30000 + RANDOM % 10000))
  su postgres -c "$PGBIN/initdb -D $PGDIR/pg -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-sync" >/dev/null
  su postgres -c "$PGBIN/pg_ctl -D $PGDIR/pg -l $PGDIR/pg.log -o '-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off' -w start" >/dev/null
  su postgres -c "psql -h $PGDIR -p $PGPORT -q -c \"CREATE ROLE chat LOGIN CREATEDB PASSWORD 'chat'\" -c 'CREATE DATABASE chat OWNER chat'" >/dev/null
  export CHAT_TEST_POSTGRES="Host=127.0.0.1;Port=$PGPORT;Username=chat;Password=chat;Database=chat;Pooling=true"
  export CHAT_TEST_PGBIN="$PGBIN" CHAT_TEST_PGDATA="$PGDIR/pg" CHAT_TEST_PGPORT="$PGPORT" CHAT_TEST_PGSOCKET="$PGDIR"
  echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PGPORT"
}

count() { # adds the counts of one `dotnet test` log (its "Total tests" summary) to the totals
  local log=$1 p f
  if ! grep -qE '^Total tests: [0-9]+' "$log"; then
    echo "no test summary in $log (the test run did not complete)" >&2; failed=$((failed + 1)); return
  fi
  p=$(grep -E '^\s+Passed: [0-9]+\s*$' "$log" | tail -n 1 | grep -oE '[0-9]+' || true)
  f=$(grep -E '^\s+Failed: [0-9]+\s*$' "$log" | tail -n 1 | grep -oE '[0-9]+' || true)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
}

step() { echo; echo "=== $*"; }

step "build"
if ! dotnet build -c Release -nodeReuse:false Chat.sln 2>&1 | tee "$ART/build.log" | tail -n 3; then :; fi
if ! grep -q "Build succeeded" "$ART/build.log"; then
  echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi

step "format (dotnet format --verify-no-changes)"
if ! dotnet format Chat.sln --verify-no-changes --no-restore -v q > "$ART/format.log" 2>&1; then
  grep -E "error" "$ART/format.log" | head -n 20
  echo "formatting differs from .editorconfig: run 'dotnet format Chat.sln'"; echo "0 passed, 1 failed"; exit 1
fi
echo "formatting clean"

step "services"
start_postgres

step "unit, functional and integration tests"
dotnet test ChatServer.Tests/ChatServer.Tests.csproj -c Release --no-build \
  --filter 'Category!=NativeSmoke' --logger 'console;verbosity=normal' 2>&1 | tee "$ART/tests.log" | grep -E '^\s*(Failed |Total tests|Passed:|Failed:)|\[FAIL\]' || true
count "$ART/tests.log"

step "Native-AOT publish (gate: no IL warning except the known library ones)"
rm -rf "$ART/publish"
dotnet publish ChatServer/ChatServer.csproj -c Release -r linux-x64 -o "$ART/publish" > "$ART/publish.log" 2>&1
pub_rc=$?
# Known: IL2104/IL3053 for FASTER.core, MessagePack and System.Private.DataContractSerialization (NOTES.md).
bad=$(grep -E '(warning|error) IL[0-9]+' "$ART/publish.log" \
  | grep -vE "(IL2104|IL3053): Assembly '(FASTER\.core|MessagePack|MessagePack\.Annotations|System\.Private\.DataContractSerialization)'" \
  | sort -u || true)
if [[ $pub_rc -ne 0 || -n "$bad" ]]; then
  echo "AOT publish failed or produced unexpected IL warnings:"; echo "$bad"; tail -n 20 "$ART/publish.log"
  failed=$((failed + 1))
else
  echo "AOT publish clean"; passed=$((passed + 1))
  rm -f "$ART/publish/"*.dbg

  step "native binary smoke tests"
  port_base=$((20000 + RANDOM % 20000))
  data=$(mktemp -d)
  "$ART/publish/chatserver" --data "$data" --http "127.0.0.1:$port_base" --gateway "127.0.0.1:$((port_base + 1))" > "$ART/native.log" 2>&1 &
  NATIVE_PID=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port_base/healthz" >/dev/null && break; sleep 0.1; done
  CHAT_NATIVE_HTTP="http://127.0.0.1:$port_base" CHAT_NATIVE_GATEWAY="ws://127.0.0.1:$((port_base + 1))" \
    CHAT_NATIVE_BINARY="$ART/publish/chatserver" \
    dotnet test ChatServer.Tests/ChatServer.Tests.csproj -c Release --no-build \
    --filter 'Category=NativeSmoke' --logger 'console;verbosity=normal' 2>&1 | tee "$ART/native-tests.log" | grep -E '^\s*(Failed |Total tests|Passed:|Failed:)|\[FAIL\]' || true
  count "$ART/native-tests.log"
  kill -TERM "$NATIVE_PID"; wait "$NATIVE_PID" 2>/dev/null; NATIVE_PID=
  rm -rf "$data"
fi

step "make run (the README's command to start the server)"
run_port=$((20000 + RANDOM % 20000))
run_data=$(mktemp -d)
CHAT_Http__Listen="127.0.0.1:$run_port" CHAT_Gateway__Listen="127.0.0.1:$((run_port + 1))" \
  setsid make --no-print-directory run DATA="$run_data" > "$ART/make-run.log" 2>&1 &
RUN_PGID=$!
run_ok=0
for _ in $(seq 1 180); do
  if curl -sf "http://127.0.0.1:$run_port/healthz" >/dev/null; then run_ok=1; break; fi
  sleep 1
done
if [[ $run_ok -eq 1 && -f "$run_data/signing.key" ]]; then
  echo "make run serves /healthz with its data in DATA"; passed=$((passed + 1))
else
  echo "make run did not start:"; tail -n 20 "$ART/make-run.log"; failed=$((failed + 1))
fi
kill -TERM -- -"$RUN_PGID" 2>/dev/null; wait "$RUN_PGID" 2>/dev/null; RUN_PGID=
rm -rf "$run_data"

echo
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
