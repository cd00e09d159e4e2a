#!/usr/bin/env bash
# cctelemetry installer. Idempotent: run it again to (re)start, check and print where things are.
#
#   ./install-telemetry.sh                 Docker stack if a Docker engine answers, else embedded
#   ./install-telemetry.sh --embedded      the Python service alone (OTLP receiver + API, chdb store)
#   ./install-telemetry.sh --docker        the stack (ClickHouse + otelcol-contrib + API); fail without Docker
#   ./install-telemetry.sh --uninstall     stop it; the data stays (the script says where); removes --autostart
#   ./install-telemetry.sh --autostart     embedded, and started again at every login: a systemd user unit
#                                          (Linux) or a LaunchAgent (macOS) runs `cctelemetry serve`
#   ./install-telemetry.sh --print-autostart systemd|launchd   print that unit / plist and exit
#
# Options:
#   --data-dir DIR     embedded data folder (default: CCTELEMETRY_DATA_DIR or ~/.local/share/cctelemetry)
#   --port-api N       API port (default 8000)
#   --port-otlp N      OTLP/HTTP port (default 4318)
#   --port-grpc N      OTLP/gRPC port (default 4317; 0 turns the embedded gRPC receiver off)
#   --port-metrics N   embedded: Prometheus /metrics port (default 8889, as the stack's collector; 0 off)
#   --host ADDR        embedded: address to listen on (default 127.0.0.1)
#   --timeout S        how long to wait for health (default 60 embedded, 240 Docker)
#   --no-smoke         skip the end-to-end check (one OTLP event in, seen in the usage report)
#
# Exit status: 0 when it runs and the smoke check passed; non-zero with a message otherwise.
#
# --autostart files: ${XDG_CONFIG_HOME:-~/.config}/systemd/user/cctelemetry.service (enabled for
# default.target) or ~/Library/LaunchAgents/dev.cctelemetry.serve.plist. CCT_AUTOSTART_KIND=systemd|launchd
# chooses one whatever the system.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MODE=auto
ACTION=install
DATA_DIR=""
PORT_API=""
PORT_OTLP=""
PORT_GRPC=""
PORT_METRICS=""
HOST=127.0.0.1
TIMEOUT=""
SMOKE=1
AUTOSTART=0
AUTOSTART_KIND=""

say() { printf '%s\n' "$*"; }
step() { printf '==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

usage() { sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

need_value() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --embedded) MODE=embedded ;;
        --docker) MODE=docker ;;
        --uninstall) ACTION=uninstall ;;
        --autostart) AUTOSTART=1; MODE=embedded ;;
        --print-autostart) need_value "$@"; ACTION=print-autostart; AUTOSTART_KIND="$2"; shift ;;
        --print-autostart=*) ACTION=print-autostart; AUTOSTART_KIND="${1#*=}" ;;
        --data-dir) need_value "$@"; DATA_DIR="$2"; shift ;;
        --data-dir=*) DATA_DIR="${1#*=}" ;;
        --port-api) need_value "$@"; PORT_API="$2"; shift ;;
        --port-api=*) PORT_API="${1#*=}" ;;
        --port-otlp) need_value "$@"; PORT_OTLP="$2"; shift ;;
        --port-otlp=*) PORT_OTLP="${1#*=}" ;;
        --port-grpc) need_value "$@"; PORT_GRPC="$2"; shift ;;
        --port-grpc=*) PORT_GRPC="${1#*=}" ;;
        --port-metrics) need_value "$@"; PORT_METRICS="$2"; shift ;;
        --port-metrics=*) PORT_METRICS="${1#*=}" ;;
        --host) need_value "$@"; HOST="$2"; shift ;;
        --host=*) HOST="${1#*=}" ;;
        --timeout) need_value "$@"; TIMEOUT="$2"; shift ;;
        --timeout=*) TIMEOUT="${1#*=}" ;;
        --no-smoke) SMOKE=0 ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done

for p in "$PORT_API" "$PORT_OTLP" "$PORT_GRPC" "$PORT_METRICS" "$TIMEOUT"; do
    case "$p" in ''|*[!0-9]*) [ -z "$p" ] || die "not a number: $p" ;; esac
done
PORT_API="${PORT_API:-8000}"
PORT_OTLP="${PORT_OTLP:-4318}"
PORT_GRPC="${PORT_GRPC:-4317}"
PORT_METRICS="${PORT_METRICS:-8889}"

# ------------------------------------------------------------------------------------------------
# Small helpers (HTTP through python3, so curl is not required)

PYTHON=python3

python_ok() {
    command -v python3 >/dev/null 2>&1 || return 1
    python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null
}

# http_status METHOD URL [JSON-BODY] -> prints the status code (000 when nothing answers)
http_status() {
    "$PYTHON" - "$@" <<'EOF'
import sys, urllib.request, urllib.error
method, url = sys.argv[1], sys.argv[2]
data = sys.argv[3].encode() if len(sys.argv) > 3 else None
req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
try:
    print(urllib.request.urlopen(req, timeout=5).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("000")
EOF
}

port_busy() {
    "$PYTHON" - "$1" "$2" <<'EOF'
import socket, sys
s = socket.socket()
s.settimeout(1)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    sys.exit(0)
except OSError:
    sys.exit(1)
finally:
    s.close()
EOF
}

# grpc_ping HOST:PORT: an empty OTLP/gRPC LogsService/Export must answer OK (the venv has grpcio).
grpc_ping() {
    "$PYTHON" - "$1" <<'EOF'
import sys
import grpc
channel = grpc.insecure_channel(sys.argv[1], options=[("grpc.enable_http_proxy", 0)])
try:
    channel.unary_unary("/opentelemetry.proto.collector.logs.v1.LogsService/Export")(b"", timeout=10)
except grpc.RpcError as e:
    sys.exit("OTLP/gRPC at %s answered %s: %s" % (sys.argv[1], e.code().name, e.details()))
EOF
}

# smoke OTLP_BASE API_BASE SECONDS: one claude_code.api_request event in, marked as a self-test (resource
# attribute cctelemetry.selftest), then poll until it is stored: the raw table has it, and the reports answer
# without it (a self-test event never becomes a request, so the user's reports stay theirs).
smoke() {
    local otlp="$1" api="$2" seconds="$3"
    step "smoke check: one claude_code.api_request event to $otlp/v1/logs, expecting it stored (and out of the reports)"
    "$PYTHON" - "$otlp" "$api" "$seconds" <<'EOF'
import json, sys, time, uuid, urllib.parse, urllib.request, urllib.error

otlp, api, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
session = "cctelemetry-smoke-%s-%s" % (time.strftime("%Y%m%dT%H%M%S"), uuid.uuid4().hex[:8])
now_ns = time.time_ns()

def attr(key, value):
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}

record = {
    "timeUnixNano": str(now_ns),
    "observedTimeUnixNano": str(now_ns),
    "body": {"stringValue": "claude_code.api_request"},
    "attributes": [
        attr("event.name", "api_request"),
        attr("event.timestamp", time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())),
        attr("event.sequence", 1),
        attr("session.id", session),
        attr("prompt.id", str(uuid.uuid4())),
        attr("user.id", "cctelemetry-smoke"),
        attr("model", "claude-sonnet-4-5"),
        attr("request_id", "req_smoke_" + uuid.uuid4().hex),
        attr("input_tokens", "1"),
        attr("output_tokens", "1"),
        attr("cache_read_tokens", "0"),
        attr("cache_creation_tokens", "0"),
        attr("cost_usd", "0.000018"),
        attr("duration_ms", "1"),
    ],
}
payload = {"resourceLogs": [{
    "resource": {"attributes": [attr("service.name", "cctelemetry-smoke"), attr("service.version", "0"),
                                attr("cctelemetry.selftest", "true")]},
    "scopeLogs": [{"scope": {"name": "com.anthropic.claude_code.events"}, "logRecords": [record]}],
}]}

req = urllib.request.Request(otlp + "/v1/logs", data=json.dumps(payload).encode(), method="POST",
                             headers={"Content-Type": "application/json"})
try:
    status = urllib.request.urlopen(req, timeout=10).status
except urllib.error.HTTPError as e:
    sys.exit("smoke check failed: %s/v1/logs answered HTTP %s: %s" % (otlp, e.code, e.read()[:300]))
except Exception as e:
    sys.exit("smoke check failed: cannot POST to %s/v1/logs: %s" % (otlp, e))
if status != 200:
    sys.exit("smoke check failed: %s/v1/logs answered HTTP %s" % (otlp, status))

def post_json(path, body):
    req = urllib.request.Request(api + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, timeout=10))

stored_sql = "SELECT count() AS n FROM otel_logs WHERE LogAttributes['session.id'] = '%s'" % session
deadline, last = time.monotonic() + seconds, "no answer"
while time.monotonic() < deadline:
    try:
        stored = post_json("/api/v1/sql", {"query": stored_sql})["rows"][0]["n"]
        usage = json.load(urllib.request.urlopen(
            api + "/api/v1/usage?" + urllib.parse.urlencode({"session": session}), timeout=10))
        if stored >= 1:
            if usage["totals"]["requests"]:
                sys.exit("smoke check failed: the self-test event shows in the reports")
            print("smoke check passed: session %s stored, and not in the reports" % session)
            sys.exit(0)
        last = "event not stored yet"
    except urllib.error.HTTPError as e:
        last = "the API answered HTTP %s: %s" % (e.code, e.read()[:300])
    except Exception as e:
        last = str(e)
    time.sleep(1)
sys.exit("smoke check failed: the event was not stored within %ds (%s)" % (seconds, last))
EOF
}

# ------------------------------------------------------------------------------------------------
# Prerequisites

# check_python [any]: python3 must exist; 3.11+ unless "any" (the Docker path only uses it for HTTP).
check_python() {
    if ! command -v python3 >/dev/null 2>&1; then
        die "python3 is missing. Install Python 3.11 or newer (e.g. apt-get install python3 python3-venv)."
    fi
    if [ "${1:-}" != "any" ] && ! python_ok; then
        die "python3 is $(python3 -c 'import platform; print(platform.python_version())'); cctelemetry needs 3.11 or newer."
    fi
}

# Why Docker cannot be used (every missing piece), or nothing when it can.
docker_problem() {
    local problems=""
    if ! command -v docker >/dev/null 2>&1; then
        printf 'the docker CLI is not installed'
        return
    fi
    if ! docker info >/dev/null 2>&1; then
        problems="no Docker engine answers (\`docker info\` failed: is the daemon running, may this user reach it?)"
    fi
    if ! docker compose version >/dev/null 2>&1; then
        problems="${problems:+$problems; }the Docker Compose v2 plugin is missing (\`docker compose version\` failed)"
    fi
    printf '%s' "$problems"
}

compose() { docker compose --project-directory "$ROOT" -f "$ROOT/docker-compose.yml" "$@"; }

# ------------------------------------------------------------------------------------------------
# Embedded mode

default_data_dir() {
    if [ -x "$ROOT/.venv/bin/python" ] && (cd / && "$ROOT/.venv/bin/python" -c 'import cctelemetry.config' 2>/dev/null); then
        (cd / && "$ROOT/.venv/bin/python" -c 'from cctelemetry.config import Settings; print(Settings().data_dir.expanduser())')
    elif [ -n "${CCTELEMETRY_DATA_DIR:-}" ]; then
        printf '%s\n' "$CCTELEMETRY_DATA_DIR"
    else
        printf '%s/cctelemetry\n' "${XDG_DATA_HOME:-$HOME/.local/share}"
    fi
}

install_venv() {
    if [ ! -x "$ROOT/.venv/bin/python" ] && ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
        die "python3 cannot create virtual environments: install the venv module (e.g. apt-get install python3-venv)."
    fi
    if command -v make >/dev/null 2>&1 && [ -f "$ROOT/Makefile" ]; then
        step "installing the Python package into $ROOT/.venv (make install)"
        make -C "$ROOT" --no-print-directory install || die "make install failed (see above)"
    else
        step "installing the Python package into $ROOT/.venv (no make: python3 -m venv + pip)"
        [ -x "$ROOT/.venv/bin/python" ] || python3 -m venv "$ROOT/.venv" || die "python3 -m venv failed"
        "$ROOT/.venv/bin/pip" install --quiet -e "$ROOT/service" || die "pip install -e service failed (see above)"
    fi
    [ -x "$ROOT/.venv/bin/cctelemetry" ] || die "the install did not produce $ROOT/.venv/bin/cctelemetry"
}

# Alive and really our service (a stale pid file may name a reused pid of another program).
pid_alive() {
    [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
    case "$(ps -p "$1" -o args= 2>/dev/null || true)" in
        *cctelemetry*serve*) return 0 ;;
        *) return 1 ;;
    esac
}

read_pid() { [ -f "$1" ] && tr -dc '0-9' <"$1" || true; }

# Where the installer records what it started, so that --uninstall and the CLI find it again whatever
# --data-dir or ports it was given: $XDG_STATE_HOME/cctelemetry/install.json.
state_file() { printf '%s/cctelemetry/install.json\n' "${XDG_STATE_HOME:-$HOME/.local/state}"; }

# record_install MODE DATA_DIR API_URL OTLP_URL PID LOG
record_install() {
    local file
    file="$(state_file)"
    mkdir -p "$(dirname "$file")" || { warn "cannot write $file"; return 0; }
    python3 - "$file" "$@" <<'PYEOF' || warn "cannot write $file"
import json, os, sys, time
path, mode, data_dir, api_url, otlp_url, pid, log = sys.argv[1:8]
state = {"mode": mode, "data_dir": data_dir, "api_url": api_url, "otlp_url": otlp_url,
         "pid": int(pid) if pid.isdigit() else None, "log": log, "installed_at": time.time()}
tmp = path + ".tmp"
with open(tmp, "w") as f:
    json.dump(state, f, indent=2)
os.replace(tmp, path)
PYEOF
}

# recorded KEY: a value from the install record ("" when there is none).
recorded() {
    local file
    file="$(state_file)"
    [ -f "$file" ] || return 0
    python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print("" if v is None else v)' "$file" "$1" 2>/dev/null || true
}

forget_install() { rm -f "$(state_file)"; }

# ------------------------------------------------------------------------------------------------
# --autostart: the embedded service started at login by the user's service manager

autostart_kind() {
    local kind="${CCT_AUTOSTART_KIND:-}"
    if [ -z "$kind" ]; then
        case "$(uname -s)" in
            Darwin) kind=launchd ;;
            *) kind=systemd ;;
        esac
    fi
    case "$kind" in
        systemd|launchd) printf '%s' "$kind" ;;
        *) die "unknown autostart kind $kind (systemd or launchd)" ;;
    esac
}

autostart_file() {
    case "$1" in
        systemd) printf '%s/systemd/user/cctelemetry.service' "${XDG_CONFIG_HOME:-$HOME/.config}" ;;
        launchd) printf '%s/Library/LaunchAgents/dev.cctelemetry.serve.plist' "$HOME" ;;
    esac
}

# render_autostart KIND DATA_DIR: the unit or plist that runs `cctelemetry serve` with this install's options.
render_autostart() {
    python3 - "$1" "$ROOT/.venv/bin/cctelemetry" "$2" "$PORT_API" "$PORT_OTLP" "$PORT_GRPC" "$HOST" "$ROOT" <<'PYEOF'
import plistlib, sys
kind, program, data_dir, api, otlp, grpc, host, root = sys.argv[1:9]
args = [program, "serve", "--data-dir", data_dir, "--api-port", api, "--otlp-port", otlp, "--grpc-port", grpc,
        "--host", host]
log = data_dir.rstrip("/") + "/cctelemetry.log"
if kind == "launchd":
    sys.stdout.buffer.write(plistlib.dumps({
        "Label": "dev.cctelemetry.serve",
        "ProgramArguments": args,
        "WorkingDirectory": data_dir,
        # an empty ClickHouse URL: the embedded store in --data-dir, whatever the login environment says
        "EnvironmentVariables": {"CCTELEMETRY_CLICKHOUSE_URL": ""},
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},  # restarted after a crash, not after a clean stop
        "ProcessType": "Background",
        "StandardOutPath": log,
        "StandardErrorPath": log,
    }))
else:
    def quote(arg):  # systemd.syntax(7): double quotes, with backslash escapes; % is a specifier
        return '"' + arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%") + '"'
    print(f"""[Unit]
Description=cctelemetry: what AI coding agents cost (OTLP in, ClickHouse inside, reports out)
Documentation=file://{root}/README.md
After=network.target

[Service]
Type=simple
WorkingDirectory={data_dir.replace("%", "%%")}
Environment="CCTELEMETRY_CLICKHOUSE_URL="
ExecStart={" ".join(quote(a) for a in args)}
# serve stops cleanly on SIGTERM (flushes its writes): restarted after a crash only
Restart=on-failure
RestartSec=5
TimeoutStopSec=30
StandardOutput=append:{log.replace("%", "%%")}
StandardError=append:{log.replace("%", "%%")}

[Install]
WantedBy=default.target""")
PYEOF
}

# The user's service manager answers (systemd --user, or launchd): then it runs the service itself.
manager_running() {
    case "$1" in
        systemd) command -v systemctl >/dev/null 2>&1 && systemctl --user show-environment >/dev/null 2>&1 ;;
        launchd) command -v launchctl >/dev/null 2>&1 && launchctl print "gui/$(id -u)" >/dev/null 2>&1 ;;
    esac
}

# autostart_install DATA_DIR PID: write and enable the unit / plist; where the manager runs, hand the service
# over to it (stop PID, start it through the manager). Prints the pid that serves afterwards.
autostart_install() {
    local kind file dir="$1" pid="$2"
    kind="$(autostart_kind)"
    file="$(autostart_file "$kind")"
    mkdir -p "$(dirname "$file")" || die "cannot create $(dirname "$file")"
    render_autostart "$kind" "$dir" >"$file.tmp" && mv "$file.tmp" "$file" || die "cannot write $file"
    step "autostart: wrote $file" >&2
    if [ "$kind" = "systemd" ]; then
        local wants
        wants="$(dirname "$file")/default.target.wants"
        mkdir -p "$wants" && ln -sfn "$file" "$wants/cctelemetry.service"
    fi
    if ! manager_running "$kind"; then
        step "autostart: no $kind user session here now; the service starts with the next login (it runs now as pid $pid)" >&2
        printf '%s' "$pid"
        return 0
    fi
    step "autostart: handing the service over to $kind" >&2
    kill -TERM "$pid" 2>/dev/null || true
    local waited=0
    while pid_alive "$pid" && [ "$waited" -lt 40 ]; do sleep 0.5; waited=$((waited + 1)); done
    rm -f "$dir/cctelemetry.pid"
    if [ "$kind" = "systemd" ]; then
        systemctl --user daemon-reload && systemctl --user enable --now cctelemetry.service >&2 \
            || die "systemctl --user enable --now cctelemetry.service failed (see: journalctl --user -u cctelemetry)"
    else
        launchctl bootout "gui/$(id -u)/dev.cctelemetry.serve" 2>/dev/null || true
        launchctl bootstrap "gui/$(id -u)" "$file" || die "launchctl bootstrap $file failed"
    fi
    printf '%s' ""
}

# autostart_remove: stop and remove what --autostart installed (both kinds: a home shared between systems).
autostart_remove() {
    local kind file
    for kind in systemd launchd; do
        file="$(autostart_file "$kind")"
        [ -f "$file" ] || continue
        if manager_running "$kind"; then
            if [ "$kind" = "systemd" ]; then
                systemctl --user disable --now cctelemetry.service 2>/dev/null || true
            else
                launchctl bootout "gui/$(id -u)/dev.cctelemetry.serve" 2>/dev/null || true
            fi
        fi
        rm -f "$file"
        [ "$kind" != "systemd" ] || rm -f "$(dirname "$file")/default.target.wants/cctelemetry.service"
        if [ "$kind" = "systemd" ] && manager_running systemd; then systemctl --user daemon-reload || true; fi
        step "autostart: removed $file"
    done
}

embedded_install() {
    check_python
    install_venv
    PYTHON="$ROOT/.venv/bin/python"
    if [ -z "$DATA_DIR" ]; then
        DATA_DIR="$(default_data_dir)" || die "cannot work out the default data folder; pass --data-dir"
    fi
    mkdir -p "$DATA_DIR" || die "cannot create the data folder $DATA_DIR"
    DATA_DIR="$(cd "$DATA_DIR" && pwd)"
    local pidfile="$DATA_DIR/cctelemetry.pid" log="$DATA_DIR/cctelemetry.log" pid
    local probe_host="$HOST"
    case "$probe_host" in 0.0.0.0|::|"") probe_host=127.0.0.1 ;; esac
    local api="http://$probe_host:$PORT_API" otlp="http://$probe_host:$PORT_OTLP"
    local timeout="${TIMEOUT:-60}"
    local grpc_shown="$PORT_GRPC"
    [ "$PORT_GRPC" != "0" ] || grpc_shown=off

    pid="$(read_pid "$pidfile")"
    if pid_alive "$pid"; then
        if [ "$(http_status GET "$api/healthz")" = "200" ]; then
            step "already running (pid $pid) on $api"
        else
            die "a cctelemetry service (pid $pid) already runs on $DATA_DIR but $api/healthz does not answer; stop it with: $0 --uninstall --data-dir $DATA_DIR"
        fi
    else
        [ -z "$pid" ] || rm -f "$pidfile"
        for port in "$PORT_API" "$PORT_OTLP" "$PORT_GRPC" "$PORT_METRICS"; do
            [ "$port" != "0" ] || continue
            if port_busy "$probe_host" "$port"; then
                die "port $port on $probe_host is already in use by another program; pick another with --port-api / --port-otlp / --port-grpc / --port-metrics (or stop it: ./install-telemetry.sh --uninstall)"
            fi
        done
        step "starting cctelemetry serve (data $DATA_DIR, API :$PORT_API, OTLP :$PORT_OTLP, OTLP/gRPC :$grpc_shown)"
        local launcher=()
        command -v setsid >/dev/null 2>&1 && launcher=(setsid)
        # cwd = the data folder, so no stray .env of the current directory reaches the service;
        # an empty CCTELEMETRY_CLICKHOUSE_URL means the embedded store in --data-dir.
        (
            cd "$DATA_DIR"
            CCTELEMETRY_CLICKHOUSE_URL="" nohup ${launcher[@]+"${launcher[@]}"} "$ROOT/.venv/bin/cctelemetry" serve \
                --data-dir "$DATA_DIR" --api-port "$PORT_API" --otlp-port "$PORT_OTLP" --grpc-port "$PORT_GRPC" \
                --metrics-port "$PORT_METRICS" --host "$HOST" \
                >>"$log" 2>&1 </dev/null &
            echo $! >"$pidfile"
        )
        pid="$(read_pid "$pidfile")"
        local waited=0
        until [ "$(http_status GET "$api/healthz")" = "200" ]; do
            if ! pid_alive "$pid"; then
                say "--- last lines of $log:" >&2
                tail -n 30 "$log" >&2 || true
                rm -f "$pidfile"
                die "cctelemetry serve exited during start (log: $log)"
            fi
            if [ "$waited" -ge "$timeout" ]; then
                tail -n 30 "$log" >&2 || true
                die "cctelemetry serve (pid $pid) did not answer $api/healthz within ${timeout}s (log: $log)"
            fi
            sleep 1
            waited=$((waited + 1))
        done
        step "healthy after ${waited}s (pid $pid)"
    fi
    if [ "$AUTOSTART" = "1" ]; then
        pid="$(autostart_install "$DATA_DIR" "$pid")"
        if [ -z "$pid" ]; then
            local waited=0
            until [ "$(http_status GET "$api/healthz")" = "200" ]; do
                [ "$waited" -lt "$timeout" ] || die "the service started by $(autostart_kind) did not answer $api/healthz within ${timeout}s (log: $log)"
                sleep 1
                waited=$((waited + 1))
            done
            pid="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("pid") or "")' "$DATA_DIR/service.json" 2>/dev/null || true)"
            step "healthy under $(autostart_kind) (pid $pid)"
        fi
    fi
    record_install embedded "$DATA_DIR" "$api" "$otlp" "$pid" "$log"

    if [ "$SMOKE" = "1" ]; then
        smoke "$otlp" "$api" 30 || die "the service runs (pid $pid, log $log) but the smoke check failed"
    fi
    local grpc_line="off (--port-grpc 0)" grpc_next=""
    if [ "$PORT_GRPC" != "0" ]; then
        step "checking OTLP/gRPC on $probe_host:$PORT_GRPC (an empty LogsService/Export)"
        grpc_ping "$probe_host:$PORT_GRPC" || die "the service runs (pid $pid, log $log) but OTLP/gRPC does not answer on :$PORT_GRPC (started before it had gRPC, or with another --port-grpc? restart it: $0 --uninstall, then again)"
        grpc_line="http://$probe_host:$PORT_GRPC   (OTEL_EXPORTER_OTLP_PROTOCOL=grpc)"
        local grpc_hint=""
        [ "$PORT_GRPC" = "4317" ] || grpc_hint="CCTELEMETRY_OTLP_ENDPOINT=http://$probe_host:$PORT_GRPC "
        grpc_next="
  or, for OTLP/gRPC: ${grpc_hint}source $ROOT/setup-telemetry.sh --protocol grpc"
    fi

    local metrics_line="$api/metrics"
    [ "$PORT_METRICS" = "0" ] || metrics_line="$api/metrics and http://$probe_host:$PORT_METRICS/metrics"

    local endpoint_hint=""
    [ "$PORT_OTLP" = "4318" ] || endpoint_hint="CCTELEMETRY_OTLP_ENDPOINT=$otlp "
    cat <<EOF

cctelemetry is running (embedded, pid $pid)
  API             : $api        (OpenAPI docs: $api/docs)
  Dashboard       : $api/
  OTLP/HTTP       : $otlp/v1/logs, /v1/metrics, /v1/traces
  OTLP/gRPC       : $grpc_line
  Prometheus      : $metrics_line
  data            : $DATA_DIR
  log / pid       : $log / $pidfile

Next, in the shell you run Claude Code from:
  ${endpoint_hint}source $ROOT/setup-telemetry.sh        (or: ${endpoint_hint}$ROOT/setup-telemetry.sh --persist)$grpc_next
Reports:  $ROOT/.venv/bin/cctelemetry usage --by session --api-url $api
Stop:     $0 --uninstall --data-dir $DATA_DIR
EOF
}

embedded_uninstall() {
    autostart_remove
    local dir="${DATA_DIR:-}"
    if [ -z "$dir" ] && [ "$(recorded mode)" = "embedded" ]; then
        dir="$(recorded data_dir)"
        [ -z "$dir" ] || step "the installer started the service on $dir"
    fi
    if [ -z "$dir" ]; then
        check_python
        dir="$(default_data_dir)" || die "cannot work out the default data folder; pass --data-dir"
    fi
    local pidfile="$dir/cctelemetry.pid" pid
    pid="$(read_pid "$pidfile")"
    if ! pid_alive "$pid" && [ -f "$dir/service.json" ]; then
        # started by hand (cctelemetry serve): the service records its own pid
        pid="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("pid") or "")' "$dir/service.json" 2>/dev/null || true)"
    fi
    [ "$(recorded data_dir)" != "$dir" ] || forget_install
    if pid_alive "$pid"; then
        step "stopping cctelemetry serve (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        local waited=0
        while pid_alive "$pid" && [ "$waited" -lt 20 ]; do sleep 0.5; waited=$((waited + 1)); done
        if pid_alive "$pid"; then
            warn "pid $pid did not stop in 10s; sending KILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        rm -f "$pidfile"
        say "stopped."
    elif [ -n "$pid" ]; then
        rm -f "$pidfile"
        say "cctelemetry serve was not running (stale pid file removed)."
    else
        say "no embedded cctelemetry service recorded in $dir (no cctelemetry.pid)."
    fi
    if [ -d "$dir" ]; then
        say "The data stays in $dir (embedded ClickHouse store and cctelemetry.log)."
        say "Delete it for good with: rm -rf '$dir'"
    fi
}

# ------------------------------------------------------------------------------------------------
# Docker mode

write_env_file() {
    local env="$ROOT/.env"
    if [ -f "$env" ]; then
        local missing=""
        grep -q '^CLICKHOUSE_WRITER_PASSWORD=.' "$env" || missing="$missing CLICKHOUSE_WRITER_PASSWORD"
        grep -q '^CLICKHOUSE_READER_PASSWORD=.' "$env" || missing="$missing CLICKHOUSE_READER_PASSWORD"
        [ -z "$missing" ] || die "$env exists but lacks:$missing (see .env.example); it is never overwritten"
        step "using the existing $env"
        return
    fi
    step "writing $env with random ClickHouse passwords (mode 600)"
    (
        umask 077
        python3 - "$env" <<'EOF'
import secrets, sys
with open(sys.argv[1], "x") as f:
    f.write("# Written by install-telemetry.sh; see .env.example. Keep it secret, do not commit it.\n")
    f.write("CLICKHOUSE_WRITER_PASSWORD=%s\n" % secrets.token_hex(24))
    f.write("CLICKHOUSE_READER_PASSWORD=%s\n" % secrets.token_hex(24))
EOF
    ) || die "could not write $env"
}

# A CCT_PORT_* value: the environment, else .env, else the default.
env_port() {
    local name="$1" default="$2" value
    value="$(printenv "$name" || true)"
    if [ -z "$value" ] && [ -f "$ROOT/.env" ]; then
        value="$(sed -n "s/^$name=//p" "$ROOT/.env" | tail -n1 | tr -d '"'"'"' ')"
    fi
    printf '%s' "${value:-$default}"
}

# Ports: --port-* win over .env for this run (compose reads the environment before .env).
docker_ports() {
    [ "$PORT_API" = "8000" ] || export CCT_PORT_API="$PORT_API"
    [ "$PORT_OTLP" = "4318" ] || export CCT_PORT_OTLP_HTTP="$PORT_OTLP"
    [ "$PORT_GRPC" != "0" ] || die "--port-grpc 0 is for the embedded service; the stack's collector always listens for OTLP/gRPC"
    [ "$PORT_GRPC" = "4317" ] || export CCT_PORT_OTLP_GRPC="$PORT_GRPC"
    if [ -n "${CCT_PORT_API:-}${CCT_PORT_OTLP_HTTP:-}${CCT_PORT_OTLP_GRPC:-}" ]; then
        warn "ports set for this run only; to keep them for a plain \`docker compose up\`, put CCT_PORT_API / CCT_PORT_OTLP_HTTP / CCT_PORT_OTLP_GRPC in .env"
    fi
    PORT_API="$(env_port CCT_PORT_API 8000)"
    PORT_OTLP="$(env_port CCT_PORT_OTLP_HTTP 4318)"
}

docker_diagnose() {
    say "--- docker compose ps -a" >&2
    compose ps -a >&2 || true
    say "--- last log lines" >&2
    compose logs --no-color --tail 25 clickhouse migrate otel-collector api >&2 || true
}

service_health() {
    local id
    id="$(compose ps -q "$1" 2>/dev/null | head -n1 || true)"
    [ -n "$id" ] || { printf 'missing'; return; }
    docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id" 2>/dev/null || printf 'unknown'
}

docker_install() {
    check_python any
    write_env_file
    docker_ports
    local api="http://127.0.0.1:$PORT_API" otlp="http://127.0.0.1:$PORT_OTLP"
    local timeout="${TIMEOUT:-240}"
    step "docker compose up -d --build (first run pulls ClickHouse and the collector and builds the service image)"
    if ! compose up -d --build; then
        docker_diagnose
        die "docker compose up failed (see above). A failed 'migrate' means the schema could not be applied: check the clickhouse and migrate logs."
    fi
    step "waiting for the stack (up to ${timeout}s)"
    local waited=0 api_ok otlp_ok coll
    while :; do
        api_ok="$(http_status GET "$api/healthz")"
        otlp_ok="$(http_status POST "$otlp/v1/logs" '{"resourceLogs":[]}')"
        coll="$(service_health collector-health)"
        if [ "$api_ok" = "200" ] && [ "$otlp_ok" = "200" ] && [ "$coll" = "healthy" ]; then
            break
        fi
        if [ "$waited" -ge "$timeout" ]; then
            docker_diagnose
            die "the stack is not healthy after ${timeout}s: API /healthz=$api_ok, OTLP /v1/logs=$otlp_ok, collector=$coll"
        fi
        sleep 2
        waited=$((waited + 2))
    done
    step "healthy after ${waited}s"
    record_install docker "" "$api" "$otlp" "" ""
    if [ "$SMOKE" = "1" ]; then
        # The collector batches for up to 5 s and ClickHouse flushes async inserts: allow a minute.
        smoke "$otlp" "$api" 60 || { docker_diagnose; die "the stack runs but the smoke check failed (see above)"; }
    fi
    local endpoint_hint=""
    [ "$PORT_OTLP" = "4318" ] || endpoint_hint="CCTELEMETRY_OTLP_ENDPOINT=$otlp "
    cat <<EOF

cctelemetry stack is running (docker compose project "cctelemetry")
  API             : $api        (OpenAPI docs: $api/docs)
  Dashboard       : $api/
  OTLP            : gRPC 127.0.0.1:$(env_port CCT_PORT_OTLP_GRPC 4317), HTTP $otlp
  Prometheus      : http://127.0.0.1:$(env_port CCT_PORT_PROMETHEUS 8889)/metrics
  ClickHouse      : http://127.0.0.1:$(env_port CCT_PORT_CLICKHOUSE_HTTP 8123) (users writer / reader, passwords in $ROOT/.env)
  SQL shell       : docker compose exec clickhouse clickhouse-client   (see clickhouse/README.md)
  data            : Docker volumes cctelemetry_clickhouse-data, cctelemetry_otelcol-queue

Next, in the shell you run Claude Code from:
  ${endpoint_hint}source $ROOT/setup-telemetry.sh        (or: ${endpoint_hint}$ROOT/setup-telemetry.sh --persist)
Status:   docker compose ps        Logs: docker compose logs -f otel-collector
Stop:     $0 --uninstall
EOF
}

docker_uninstall() {
    local problem
    problem="$(docker_problem)"
    if [ -n "$problem" ]; then
        [ "$MODE" = "docker" ] && die "cannot reach the stack: $problem"
        return 0
    fi
    if [ -z "$(compose ps -a -q 2>/dev/null)" ]; then
        say "no cctelemetry Docker stack is running."
        return 0
    fi
    step "docker compose down (volumes are kept)"
    compose down || die "docker compose down failed"
    [ "$(recorded mode)" != "docker" ] || forget_install
    say "The data stays in the Docker volumes cctelemetry_clickhouse-data and cctelemetry_otelcol-queue, and $ROOT/.env keeps the passwords."
    say "Delete the data for good with: docker compose --project-directory '$ROOT' down -v"
}

# ------------------------------------------------------------------------------------------------

main() {
    if [ "$ACTION" = "print-autostart" ]; then
        local dir="${DATA_DIR:-}"
        [ -n "$dir" ] || dir="$(default_data_dir)" || die "cannot work out the default data folder; pass --data-dir"
        CCT_AUTOSTART_KIND="$AUTOSTART_KIND" autostart_kind >/dev/null
        render_autostart "$AUTOSTART_KIND" "$dir"
        return 0
    fi
    if [ "$ACTION" = "uninstall" ]; then
        case "$MODE" in
            embedded) embedded_uninstall ;;
            docker) docker_uninstall ;;
            auto) embedded_uninstall; docker_uninstall ;;
        esac
        return 0
    fi
    case "$MODE" in
        embedded) embedded_install ;;
        docker)
            local problem
            problem="$(docker_problem)"
            [ -z "$problem" ] || die "--docker: $problem. Install Docker Engine + the compose plugin, or use --embedded."
            docker_install
            ;;
        auto)
            local problem
            problem="$(docker_problem)"
            if [ -z "$problem" ]; then
                step "a Docker engine answers: installing the stack (use --embedded for the Python service alone)"
                docker_install
            else
                step "Docker not usable ($problem): installing the embedded service"
                embedded_install
            fi
            ;;
    esac
}

main
