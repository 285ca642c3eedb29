# Sourced by the scripts that test a running server (openapi-check.sh,
# openapi-client.sh). Both need a server on a free port, started the same
# way and reported the same way when it does not come up.
#
#   serve_on_free_port BIN WORK ROUNDS [SERVE_ARGS...]
#     starts `BIN --data-dir WORK/data serve SERVE_ARGS --addr 127.0.0.1:PORT`
#     with no database or search settings from the environment, waits up to
#     ROUNDS x 0.2 s for /healthz, and sets `pid` and `port`. A port taken
#     meanwhile or a server that dies is retried on another port, five times;
#     then it prints the server's log and exits 1. The caller's EXIT trap
#     kills "$pid".
serve_on_free_port() {
  local bin=$1 work=$2 rounds=$3
  shift 3
  pid=
  for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
    env -u DATABASE_URL -u GOVMARKET_DATABASE_URL -u MEILI_URL GOVMARKET_LOG=warn \
      "$bin" --data-dir "$work/data" serve "$@" --addr "127.0.0.1:$port" >"$work/log" 2>&1 &
    pid=$!
    for _ in $(seq 1 "$rounds"); do
      if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then return 0; fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill "$pid" 2>/dev/null || true
    pid=
  done
  echo "the server did not start; its log:" >&2
  cat "$work/log" >&2 || true
  exit 1
}
