#!/usr/bin/env bash
# Sourced by the other scripts: start_moto starts a moto server on a free loopback port,
# exports MOTO_ENDPOINT, and registers its shutdown on exit.
start_moto() {
  local root port log
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  port=$("$root/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  log="$root/target/moto.log"
  mkdir -p "$root/target"
  "$root/.venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  MOTO_PID=$!
  export MOTO_ENDPOINT="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    if curl -fsS "$MOTO_ENDPOINT/moto-api/" >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$MOTO_PID" 2>/dev/null; then
      echo "moto_server exited; see $log" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "moto_server did not answer on $MOTO_ENDPOINT within 20 s; see $log" >&2
  return 1
}

stop_moto() {
  if [[ -n "${MOTO_PID:-}" ]]; then
    kill "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
  fi
}
