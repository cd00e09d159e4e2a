#!/usr/bin/env bash
# cctelemetry: point Claude Code (and Codex CLI / Gemini CLI) at the cctelemetry OTLP endpoint.
#
#   source ./setup-telemetry.sh            export Claude Code's telemetry variables in this shell
#                                          (bash or zsh; add --check to test the endpoint too)
#   ... --protocol grpc                    any of these with OTLP/gRPC to :4317 instead of
#                                          OTLP/HTTP (http/protobuf) to :4318; http/json works too
#   ./setup-telemetry.sh --persist         write them into ~/.claude/settings.json's "env" block
#                                          (other keys kept, a backup made), so every session has them
#   ./setup-telemetry.sh --unpersist       undo exactly what --persist changed
#   ./setup-telemetry.sh --statusline      make `cctelemetry statusline` Claude Code's statusline (settings.json
#                                          "statusLine"; a statusline command you had keeps running, its
#                                          line above ours); with --persist in the same call, both
#   ./setup-telemetry.sh --no-statusline   undo exactly what --statusline changed (your command is back)
#   ./setup-telemetry.sh --print-codex     the [otel] block for ~/.codex/config.toml
#   ./setup-telemetry.sh --print-gemini    the telemetry settings for Gemini CLI
#   ./setup-telemetry.sh --env             the variables as `export` lines (eval "$(...)")
#   ./setup-telemetry.sh --check           POST an empty OTLP/JSON batch to <endpoint>/v1/logs, expect 200
#                                          (grpc: an empty LogsService/Export, expect grpc-status 0)
#   ./setup-telemetry.sh                   all of the above that only print
#   ... --endpoint URL --token T           any of these against a hub (a cctelemetry service many machines
#                                          report to): its OTLP endpoint, and the token it wants, sent as
#                                          OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20<T>
#
# Knobs (environment, all optional):
#   CCTELEMETRY_OTLP_PROTOCOL         default http/protobuf; grpc or http/json (--protocol wins)
#   CCTELEMETRY_OTLP_ENDPOINT         default http://127.0.0.1:4318, or http://127.0.0.1:4317 for grpc
#                                     (the stack's collector, or `cctelemetry serve`'s OTLP ports); --endpoint wins
#   CCTELEMETRY_API_TOKEN             the token to send (--token wins); none: no header
#   CCTELEMETRY_HOST_NAME             this machine's name in resource attribute host.name (the reports'
#                                     host dimension); default `uname -n`, unless OTEL_RESOURCE_ATTRIBUTES has one
#   CCTELEMETRY_TEAM                  adds resource attribute team=<value>
#   CCTELEMETRY_AGENT_TYPE            adds resource attribute agent.type=<value>
#   CCTELEMETRY_LOG_USER_PROMPTS      1 to include prompt text (default 0: redacted)
#   CCTELEMETRY_METRIC_EXPORT_INTERVAL  ms, default 30000 (Claude Code's own default is 60000)
#   CCTELEMETRY_LOGS_EXPORT_INTERVAL    ms, default 5000
#   CLAUDE_CONFIG_DIR                 where Claude Code keeps settings.json (default ~/.claude)
#   CCTELEMETRY_STATUSLINE_COMMAND    the statusline command to install (default: this checkout's
#                                     .venv/bin/cctelemetry statusline, else `cctelemetry` on PATH)
#
# This file must stay valid for bash and zsh when sourced: no top-level `return`/`exit` outside the
# executed branch, no arrays, and every variable is read as ${VAR:-} (set -u safe).

# The protocol: --protocol, else CCTELEMETRY_OTLP_PROTOCOL, else http/protobuf (set by _cct_set_protocol).
_cct_protocol() {
    printf '%s' "${_cct_proto:-${CCTELEMETRY_OTLP_PROTOCOL:-http/protobuf}}"
}

# _cct_set_protocol VALUE: 0 when it is one Claude Code speaks, else a message and 2.
_cct_set_protocol() {
    case "$1" in
        grpc|http/protobuf|http/json) _cct_proto="$1" ;;
        *) printf 'cctelemetry: unknown protocol "%s" (use grpc, http/protobuf or http/json)\n' "$1" >&2; return 2 ;;
    esac
}

_cct_endpoint() {
    local ep default=http://127.0.0.1:4318
    [ "$(_cct_protocol)" = "grpc" ] && default=http://127.0.0.1:4317
    ep="${_cct_ep:-${CCTELEMETRY_OTLP_ENDPOINT:-$default}}"
    while [ "${ep%/}" != "$ep" ]; do ep="${ep%/}"; done
    printf '%s' "$ep"
}

# Percent-encode a resource-attribute value (OTEL_RESOURCE_ATTRIBUTES allows no spaces, commas, '=').
_cct_urlencode() {
    local LC_ALL=C
    local s="$1" out="" c i=0 n
    n=${#s}
    while [ "$i" -lt "$n" ]; do
        c="${s:$i:1}"
        case "$c" in
            [A-Za-z0-9._~-]) out="$out$c" ;;
            *) out="$out$(printf '%%%02X' "'$c")" ;;
        esac
        i=$((i + 1))
    done
    printf '%s' "$out"
}

# The machine's name for host.name: CCTELEMETRY_HOST_NAME, else `uname -n` (what Python's socket.gethostname(),
# and so `cctelemetry import --to`, says too); empty when the caller's OTEL_RESOURCE_ATTRIBUTES names one already.
_cct_host_name() {
    if [ -n "${CCTELEMETRY_HOST_NAME:-}" ]; then
        printf '%s' "$CCTELEMETRY_HOST_NAME"
        return 0
    fi
    case ",${OTEL_RESOURCE_ATTRIBUTES:-}" in
        *,host.name=*) ;;
        *) uname -n 2>/dev/null ;;
    esac
}

# OTEL_RESOURCE_ATTRIBUTES: the caller's own entries, minus any team= / agent.type= / host.name= we manage,
# plus ours (host.name always: Claude Code sends host.arch but not the machine's name). Prints nothing when
# there is nothing to set.
_cct_resource_attributes() {
    local existing="${OTEL_RESOURCE_ATTRIBUTES:-}" kept="" item rest ours="" host
    if [ -n "${CCTELEMETRY_TEAM:-}" ]; then
        ours="team=$(_cct_urlencode "$CCTELEMETRY_TEAM")"
    fi
    if [ -n "${CCTELEMETRY_AGENT_TYPE:-}" ]; then
        ours="${ours:+$ours,}agent.type=$(_cct_urlencode "$CCTELEMETRY_AGENT_TYPE")"
    fi
    host="$(_cct_host_name)"
    if [ -n "$host" ]; then
        ours="${ours:+$ours,}host.name=$(_cct_urlencode "$host")"
    fi
    if [ -z "$ours" ]; then
        printf '%s' "$existing"
        return 0
    fi
    rest="$existing"
    while [ -n "$rest" ]; do
        item="${rest%%,*}"
        if [ "$item" = "$rest" ]; then rest=""; else rest="${rest#*,}"; fi
        case "$item" in
            "") ;;
            team=*) [ -n "${CCTELEMETRY_TEAM:-}" ] || kept="${kept:+$kept,}$item" ;;
            agent.type=*) [ -n "${CCTELEMETRY_AGENT_TYPE:-}" ] || kept="${kept:+$kept,}$item" ;;
            host.name=*) [ -n "$host" ] || kept="${kept:+$kept,}$item" ;;
            *) kept="${kept:+$kept,}$item" ;;
        esac
    done
    printf '%s' "${kept:+$kept,}$ours"
}

# The token to send: --token, else CCTELEMETRY_API_TOKEN.
_cct_token() {
    printf '%s' "${_cct_tok:-${CCTELEMETRY_API_TOKEN:-}}"
}

# curl's -H for the token ("Authorization:" with nothing after it makes curl send no such header).
_cct_auth_header() {
    local token
    token="$(_cct_token)"
    if [ -n "$token" ]; then printf 'Authorization: Bearer %s' "$token"; else printf 'Authorization:'; fi
}

# OTEL_EXPORTER_OTLP_HEADERS with the token (W3C baggage format: the value percent-encoded, so the space of
# "Bearer <token>" is %20), the caller's other headers kept. Prints nothing without a token.
_cct_headers() {
    local token existing="${OTEL_EXPORTER_OTLP_HEADERS:-}" kept="" item rest
    token="$(_cct_token)"
    [ -n "$token" ] || return 0
    rest="$existing"
    while [ -n "$rest" ]; do
        item="${rest%%,*}"
        if [ "$item" = "$rest" ]; then rest=""; else rest="${rest#*,}"; fi
        case "$item" in
            ""|[Aa]uthorization=*|AUTHORIZATION=*) ;;
            *) kept="${kept:+$kept,}$item" ;;
        esac
    done
    printf '%s' "${kept:+$kept,}Authorization=Bearer%20$(_cct_urlencode "$token")"
}

_cct_prompts() {
    case "${CCTELEMETRY_LOG_USER_PROMPTS:-0}" in
        1|true|TRUE|yes) printf '1' ;;
        *) printf '0' ;;
    esac
}

# The variables, one KEY=VALUE per line (values never contain newlines).
_cct_lines() {
    local ra
    printf 'CLAUDE_CODE_ENABLE_TELEMETRY=1\n'
    printf 'OTEL_METRICS_EXPORTER=otlp\n'
    printf 'OTEL_LOGS_EXPORTER=otlp\n'
    printf 'OTEL_EXPORTER_OTLP_PROTOCOL=%s\n' "$(_cct_protocol)"
    printf 'OTEL_EXPORTER_OTLP_ENDPOINT=%s\n' "$(_cct_endpoint)"
    printf 'OTEL_METRIC_EXPORT_INTERVAL=%s\n' "${CCTELEMETRY_METRIC_EXPORT_INTERVAL:-30000}"
    printf 'OTEL_LOGS_EXPORT_INTERVAL=%s\n' "${CCTELEMETRY_LOGS_EXPORT_INTERVAL:-5000}"
    printf 'OTEL_LOG_USER_PROMPTS=%s\n' "$(_cct_prompts)"
    ra="$(_cct_resource_attributes)"
    if [ -n "$ra" ]; then
        printf 'OTEL_RESOURCE_ATTRIBUTES=%s\n' "$ra"
    fi
    ra="$(_cct_headers)"
    if [ -n "$ra" ]; then
        printf 'OTEL_EXPORTER_OTLP_HEADERS=%s\n' "$ra"
    fi
}

_cct_export() {
    export CLAUDE_CODE_ENABLE_TELEMETRY=1
    export OTEL_METRICS_EXPORTER=otlp
    export OTEL_LOGS_EXPORTER=otlp
    OTEL_EXPORTER_OTLP_PROTOCOL="$(_cct_protocol)"
    export OTEL_EXPORTER_OTLP_PROTOCOL
    OTEL_EXPORTER_OTLP_ENDPOINT="$(_cct_endpoint)"
    export OTEL_EXPORTER_OTLP_ENDPOINT
    export OTEL_METRIC_EXPORT_INTERVAL="${CCTELEMETRY_METRIC_EXPORT_INTERVAL:-30000}"
    export OTEL_LOGS_EXPORT_INTERVAL="${CCTELEMETRY_LOGS_EXPORT_INTERVAL:-5000}"
    OTEL_LOG_USER_PROMPTS="$(_cct_prompts)"
    export OTEL_LOG_USER_PROMPTS
    local ra
    ra="$(_cct_resource_attributes)"
    if [ -n "$ra" ]; then
        export OTEL_RESOURCE_ATTRIBUTES="$ra"
    fi
    ra="$(_cct_headers)"
    if [ -n "$ra" ]; then
        export OTEL_EXPORTER_OTLP_HEADERS="$ra"
    fi
}

_cct_print_env() {
    local line value q="'"
    _cct_lines | while IFS= read -r line; do
        value="${line#*=}"
        value="${value//$q/$q\\$q$q}"
        printf "export %s='%s'\n" "${line%%=*}" "$value"
    done
}

_cct_print_codex() {
    local ep prompts="false" headers="" token
    ep="$(_cct_endpoint)"
    [ "$(_cct_prompts)" = "1" ] && prompts="true"
    token="$(_cct_token)"
    # Codex's exporters take their own headers (https://github.com/openai/codex/blob/main/docs/config.md#otel)
    [ -n "$token" ] && headers=", headers = { \"authorization\" = \"Bearer $token\" }"
    if [ "$(_cct_protocol)" = "grpc" ]; then
        cat <<EOF
# ~/.codex/config.toml  (Codex CLI; OTLP/gRPC to cctelemetry)
[otel]
environment = "${CCTELEMETRY_TEAM:-dev}"
log_user_prompt = $prompts
exporter = { otlp-grpc = { endpoint = "$ep"$headers } }
metrics_exporter = { otlp-grpc = { endpoint = "$ep"$headers } }
EOF
        return 0
    fi
    cat <<EOF
# ~/.codex/config.toml  (Codex CLI; OTLP/HTTP protobuf to cctelemetry)
[otel]
environment = "${CCTELEMETRY_TEAM:-dev}"
log_user_prompt = $prompts
exporter = { otlp-http = { endpoint = "$ep/v1/logs", protocol = "binary"$headers } }
metrics_exporter = { otlp-http = { endpoint = "$ep/v1/metrics", protocol = "binary"$headers } }
EOF
}

_cct_print_gemini() {
    local ep prompts="false" proto=http
    ep="$(_cct_endpoint)"
    [ "$(_cct_protocol)" = "grpc" ] && proto=grpc
    [ "$(_cct_prompts)" = "1" ] && prompts="true"
    cat <<EOF
# ~/.gemini/settings.json  (Gemini CLI; merge into the existing object)
{
  "telemetry": {
    "enabled": true,
    "target": "local",
    "otlpEndpoint": "$ep",
    "otlpProtocol": "$proto",
    "logPrompts": $prompts
  }
}
# or, per shell:
export GEMINI_TELEMETRY_ENABLED=true
export GEMINI_TELEMETRY_TARGET=local
export GEMINI_TELEMETRY_OTLP_ENDPOINT='$ep'
export GEMINI_TELEMETRY_OTLP_PROTOCOL=$proto
export GEMINI_TELEMETRY_LOG_PROMPTS=$prompts
EOF
}

# POST an empty OTLP/JSON logs request; 0 if the endpoint answers 200.
_cct_check() {
    local ep code
    if [ "$(_cct_protocol)" = "grpc" ]; then
        _cct_check_grpc
        return $?
    fi
    ep="$(_cct_endpoint)"
    if command -v curl >/dev/null 2>&1; then
        code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "$(_cct_auth_header)" \
            -H 'Content-Type: application/json' --data '{"resourceLogs":[]}' "$ep/v1/logs" 2>/dev/null)" \
            || _cct_listens "$?" || code=bad
    elif command -v python3 >/dev/null 2>&1; then
        code="$(CCT_TOKEN="$(_cct_token)" python3 - "$ep/v1/logs" <<'EOF'
import os, socket, sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1], data=b'{"resourceLogs":[]}', headers={"Content-Type": "application/json"})
if os.environ.get("CCT_TOKEN"):
    req.add_header("Authorization", "Bearer " + os.environ["CCT_TOKEN"])
try:
    print(urllib.request.urlopen(req, timeout=5).status)
except urllib.error.HTTPError as e:
    print(e.code)
except (OSError, urllib.error.URLError) as e:
    reason = getattr(e, "reason", e)
    print("000" if isinstance(reason, (ConnectionRefusedError, TimeoutError, socket.gaierror)) else "bad")
except Exception:
    print("bad")
EOF
)"
    else
        printf 'cctelemetry: --check needs curl or python3\n' >&2
        return 2
    fi
    if [ "$code" = "bad" ]; then
        printf 'cctelemetry: something listens at %s but does not answer HTTP.\n' "$ep" >&2
        printf '  Is that the OTLP/gRPC port (4317)? Then use --protocol grpc; OTLP/HTTP is 4318 by default.\n' >&2
        return 1
    fi
    if [ "$code" = "200" ]; then
        printf 'cctelemetry: OK, %s/v1/logs accepts OTLP (HTTP 200)\n' "$ep"
        return 0
    fi
    if [ -z "$code" ] || [ "$code" = "000" ]; then
        printf 'cctelemetry: nothing answers at %s/v1/logs.\n' "$ep" >&2
        printf '  Start it (./install-telemetry.sh, or `cctelemetry serve`), or set CCTELEMETRY_OTLP_ENDPOINT.\n' >&2
    else
        printf 'cctelemetry: %s/v1/logs answered HTTP %s, expected 200.\n' "$ep" "$code" >&2
        printf '  Is that the OTLP/HTTP port (4318 by default) and not the API (8000) or gRPC (4317)?\n' >&2
    fi
    return 1
}

# _cct_listens CURL_EXIT: 0 when curl failed without reaching a server (nothing listens there).
_cct_listens() {
    case "$1" in
        6|7|28) return 0 ;;  # could not resolve, could not connect, timed out
        *) return 1 ;;
    esac
}

# An empty LogsService/Export over gRPC (HTTP/2, cleartext for http://); 0 if it answers grpc-status 0.
# curl with HTTP/2 makes the call; without it, python3 only checks that an HTTP/2 server answers there.
_cct_check_grpc() {
    local ep url out status h2=--http2-prior-knowledge
    ep="$(_cct_endpoint)"
    url="$ep/opentelemetry.proto.collector.logs.v1.LogsService/Export"
    if command -v curl >/dev/null 2>&1 && curl -V 2>/dev/null | grep -qi 'http2'; then
        case "$ep" in https://*) h2=--http2 ;; esac
        # one gRPC message: not compressed (1 byte), length 0 (4 bytes), no payload = an empty export request
        out="$(printf '\0\0\0\0\0' | curl -s -o /dev/null -D - --max-time 5 "$h2" -H 'content-type: application/grpc' \
            -H "$(_cct_auth_header)" \
            -H 'te: trailers' --data-binary @- "$url" 2>/dev/null)" || _cct_listens "$?" || out="${out:-http1}"
        out="$(printf '%s' "$out" | tr -d '\r')"
        status="$(printf '%s\n' "$out" | grep -i '^grpc-status:' | head -n 1 | sed 's/^[^:]*: *//')"
        if [ "$status" = "0" ]; then
            printf 'cctelemetry: OK, %s accepts OTLP/gRPC (LogsService/Export answered grpc-status 0)\n' "$ep"
            return 0
        fi
        if [ -n "$status" ]; then
            printf 'cctelemetry: %s answered grpc-status %s (%s), expected 0.\n' "$ep" "$status" \
                "$(printf '%s\n' "$out" | grep -i '^grpc-message:' | head -n 1 | sed 's/^[^:]*: *//')" >&2
            return 1
        fi
        case "$out" in
            "") out=none ;;
            HTTP/2*) out=h2 ;;
            *) out=http1 ;;
        esac
    elif command -v python3 >/dev/null 2>&1; then
        out="$(python3 - "$ep" <<'EOF'
import socket, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
try:
    s = socket.create_connection((u.hostname, u.port or 80), timeout=5)
except OSError:
    sys.exit(print("none"))
try:
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")  # preface, SETTINGS
    head = s.recv(9)
except OSError:
    head = b""
print("h2" if len(head) == 9 and head[3] == 4 else "http1")
EOF
)"
        if [ "$out" = "h2" ]; then
            printf 'cctelemetry: OK, an HTTP/2 server answers at %s (install curl with HTTP/2 to check OTLP/gRPC itself)\n' "$ep"
            return 0
        fi
    else
        printf 'cctelemetry: --check needs curl or python3\n' >&2
        return 2
    fi
    case "$out" in
        none)
            printf 'cctelemetry: nothing answers OTLP/gRPC at %s.\n' "$ep" >&2
            printf '  Start it (./install-telemetry.sh, or `cctelemetry serve`), or set CCTELEMETRY_OTLP_ENDPOINT.\n' >&2 ;;
        http1)
            printf 'cctelemetry: something listens at %s but does not answer gRPC.\n' "$ep" >&2
            printf '  Is that the OTLP/gRPC port (4317 by default) and not OTLP/HTTP (4318) or the API (8000)?\n' >&2 ;;
        *)
            printf 'cctelemetry: %s speaks HTTP/2 but did not answer as the OTLP/gRPC LogsService.\n' "$ep" >&2 ;;
    esac
    return 1
}

_cct_settings_file() {
    printf '%s/settings.json' "${CLAUDE_CONFIG_DIR:-$HOME/.claude}"
}

# --persist / --unpersist: JSON editing in python3. State (what we set, and what was there before)
# lives next to settings.json so --unpersist restores exactly the previous values.
_cct_persist() {
    local mode="$1" file
    file="$(_cct_settings_file)"
    if ! command -v python3 >/dev/null 2>&1; then
        printf 'cctelemetry: --%s needs python3 (JSON editing)\n' "$mode" >&2
        return 2
    fi
    _cct_lines | CCT_MODE="$mode" CCT_FILE="$file" python3 -c '
import json, os, shutil, sys, tempfile, time

mode, path = os.environ["CCT_MODE"], os.environ["CCT_FILE"]
state_path = os.path.join(os.path.dirname(path), ".cctelemetry-persist.json")
wanted = dict(line.rstrip("\n").split("=", 1) for line in sys.stdin if "=" in line)

def load(p):
    with open(p, encoding="utf-8") as f:
        text = f.read()
    return json.loads(text) if text.strip() else {}

def write_json(p, data):
    os.makedirs(os.path.dirname(p) or ".", exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".settings.", dir=os.path.dirname(p) or ".")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
        f.write("\n")
    if os.path.exists(p):
        shutil.copymode(p, tmp)
    os.replace(tmp, p)

def backup(p):
    if os.path.exists(p):
        dst = "%s.cctelemetry-backup-%s" % (p, time.strftime("%Y%m%d-%H%M%S"))
        n = 1
        while os.path.exists(dst):
            dst = "%s.cctelemetry-backup-%s-%d" % (p, time.strftime("%Y%m%d-%H%M%S"), n)
            n += 1
        shutil.copy2(p, dst)
        return dst
    return None

try:
    settings = load(path) if os.path.exists(path) else {}
except (OSError, ValueError) as exc:
    sys.exit("cctelemetry: cannot read %s: %s (left untouched)" % (path, exc))
if not isinstance(settings, dict):
    sys.exit("cctelemetry: %s is not a JSON object (left untouched)" % path)
env = settings.get("env")
if env is not None and not isinstance(env, dict):
    sys.exit("cctelemetry: \"env\" in %s is not an object (left untouched)" % path)
state = load(state_path) if os.path.exists(state_path) else None

if mode == "persist":
    if state is None:
        state = {"file": path, "env_created": env is None, "file_created": not os.path.exists(path),
                 "previous": {}, "set": {}}
    env = settings.setdefault("env", {}) if env is None else env
    for key, value in wanted.items():
        if key not in state["previous"]:
            state["previous"][key] = env.get(key)
        env[key] = value
    # Keys we set last time but not now (e.g. OTEL_RESOURCE_ATTRIBUTES): put the old value back.
    for key in [k for k in state["set"] if k not in wanted]:
        if env.get(key) == state["set"][key]:
            prev = state["previous"].pop(key, None)
            if prev is None:
                env.pop(key, None)
            else:
                env[key] = prev
    state["set"] = dict(wanted)
    saved = backup(path)
    write_json(path, settings)
    write_json(state_path, state)
    print("cctelemetry: wrote %d variables into the \"env\" block of %s" % (len(wanted), path))
    if saved:
        print("  backup: %s" % saved)
    print("  undo with: ./setup-telemetry.sh --unpersist")
else:
    if state is None:
        print("cctelemetry: nothing to undo (no %s)" % state_path)
        sys.exit(0)
    env = settings.get("env") or {}
    kept = []
    for key, value in state["set"].items():
        if key not in env:
            continue
        if env[key] != value:
            kept.append(key)
            continue
        prev = state["previous"].get(key)
        if prev is None:
            del env[key]
        else:
            env[key] = prev
    if "env" in settings:
        if state.get("env_created") and not settings["env"]:
            del settings["env"]
    saved = backup(path)
    if state.get("file_created") and not settings:
        os.remove(path)
        print("cctelemetry: removed %s (it did not exist before --persist)" % path)
    else:
        write_json(path, settings)
        print("cctelemetry: removed the telemetry variables from %s" % path)
    os.remove(state_path)
    if saved:
        print("  backup: %s" % saved)
    for key in kept:
        print("  left %s alone: it was changed after --persist" % key)
'
}

# The cctelemetry program the statusline runs: an absolute path, so that it works from any directory.
_cct_statusline_program() {
    local here bin
    here="$(cd "$(dirname "$0")" 2>/dev/null && pwd)"
    if [ -n "$here" ] && [ -x "$here/.venv/bin/cctelemetry" ]; then
        bin="$here/.venv/bin/cctelemetry"
    else
        bin="$(command -v cctelemetry 2>/dev/null || true)"
    fi
    if [ -z "$bin" ]; then
        printf 'cctelemetry: no cctelemetry command found (run `make install`, or set CCTELEMETRY_STATUSLINE_COMMAND)\n' >&2
        return 2
    fi
    printf '%s' "$bin"
}

# --statusline / --no-statusline: settings.json's "statusLine", with what was there before kept next to it
# (.cctelemetry-statusline.json) so that --no-statusline puts it back exactly. A command that was there
# keeps running: ours is installed as `cctelemetry statusline --then '<yours>'`.
_cct_statusline() {
    local mode="$1" file cmd="${CCTELEMETRY_STATUSLINE_COMMAND:-}" program=""
    file="$(_cct_settings_file)"
    if ! command -v python3 >/dev/null 2>&1; then
        printf 'cctelemetry: --%s needs python3 (JSON editing)\n' "$mode" >&2
        return 2
    fi
    if [ "$mode" = "statusline" ] && [ -z "$cmd" ]; then
        program="$(_cct_statusline_program)" || return 2
    fi
    CCT_MODE="$mode" CCT_FILE="$file" CCT_COMMAND="$cmd" CCT_PROGRAM="$program" python3 -c '
import json, os, shlex, shutil, sys, tempfile, time

mode, path, ours = os.environ["CCT_MODE"], os.environ["CCT_FILE"], os.environ["CCT_COMMAND"]
if not ours and os.environ["CCT_PROGRAM"]:
    ours = shlex.quote(os.environ["CCT_PROGRAM"]) + " statusline"
state_path = os.path.join(os.path.dirname(path), ".cctelemetry-statusline.json")

def load(p):
    with open(p, encoding="utf-8") as f:
        text = f.read()
    return json.loads(text) if text.strip() else {}

def write_json(p, data):
    os.makedirs(os.path.dirname(p) or ".", exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".settings.", dir=os.path.dirname(p) or ".")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
        f.write("\n")
    if os.path.exists(p):
        shutil.copymode(p, tmp)
    os.replace(tmp, p)

def backup(p):
    if not os.path.exists(p):
        return None
    dst, n = "%s.cctelemetry-backup-%s" % (p, time.strftime("%Y%m%d-%H%M%S")), 1
    while os.path.exists(dst):
        dst, n = "%s.cctelemetry-backup-%s-%d" % (p, time.strftime("%Y%m%d-%H%M%S"), n), n + 1
    shutil.copy2(p, dst)
    return dst

try:
    settings = load(path) if os.path.exists(path) else {}
except (OSError, ValueError) as exc:
    sys.exit("cctelemetry: cannot read %s: %s (left untouched)" % (path, exc))
if not isinstance(settings, dict):
    sys.exit("cctelemetry: %s is not a JSON object (left untouched)" % path)
state = load(state_path) if os.path.exists(state_path) else None

if mode == "statusline":
    current = settings.get("statusLine")
    if state is not None and current == state["set"]:
        previous = state["previous"]  # installed already: keep what was there before that
    else:
        previous = current
        state = {"file": path, "file_created": not os.path.exists(path), "had_key": "statusLine" in settings,
                 "previous": previous}
    command = ours
    if isinstance(previous, dict) and previous.get("type") == "command" and previous.get("command"):
        command = "%s --then %s" % (ours, shlex.quote(previous["command"]))
    wanted = {"type": "command", "command": command, "padding": 0}
    if isinstance(previous, dict) and "padding" in previous:
        wanted["padding"] = previous["padding"]
    settings["statusLine"] = wanted
    state["set"] = wanted
    saved = backup(path)
    write_json(path, settings)
    write_json(state_path, state)
    print("cctelemetry: the statusline of %s is now: %s" % (path, command))
    if command != ours:
        print("  your previous statusline command keeps running: its line comes first")
    if saved:
        print("  backup: %s" % saved)
    print("  undo with: ./setup-telemetry.sh --no-statusline")
else:
    if state is None:
        print("cctelemetry: nothing to undo (no %s)" % state_path)
        sys.exit(0)
    if settings.get("statusLine") != state["set"]:
        print("cctelemetry: left the statusLine of %s alone: it was changed after --statusline" % path)
    elif state.get("had_key"):
        settings["statusLine"] = state["previous"]
    else:
        settings.pop("statusLine", None)
    saved = backup(path)
    if state.get("file_created") and not settings:
        os.remove(path)
        print("cctelemetry: removed %s (it did not exist before --statusline)" % path)
    else:
        write_json(path, settings)
        print("cctelemetry: restored the statusline of %s" % path)
    os.remove(state_path)
    if saved:
        print("  backup: %s" % saved)
'
}

_cct_usage() {
    cat <<'EOF'
usage: source ./setup-telemetry.sh [--protocol grpc|http/protobuf|http/json] [--endpoint URL] [--token T] [--check] [--quiet]
       ./setup-telemetry.sh [--protocol P] [--endpoint URL] [--token T]
                            [--persist | --unpersist | --statusline | --no-statusline | --print-codex |
                             --print-gemini | --env | --check]
EOF
}

# _cct_value OPTION VALUE: take the value of --protocol, --endpoint or --token; 2 (with a message) when it is bad.
_cct_value() {
    case "$1" in
        --protocol) _cct_set_protocol "$2" ;;
        --endpoint)
            case "$2" in
                http://?*|https://?*) _cct_ep="$2" ;;
                *) printf 'cctelemetry: --endpoint takes the OTLP base URL, e.g. http://hub.example:4318 (got "%s")\n' "$2" >&2
                   return 2 ;;
            esac ;;
        --token)
            if [ -z "$2" ]; then printf 'cctelemetry: --token needs a value\n' >&2; return 2; fi
            _cct_tok="$2" ;;
    esac
}

_cct_sourced_main() {
    local check=0 quiet=0 arg want=""
    for arg in "$@"; do
        if [ -n "$want" ]; then
            _cct_value "$want" "$arg" || return 2
            want=""
            continue
        fi
        case "$arg" in
            --check) check=1 ;;
            --quiet|-q) quiet=1 ;;
            --protocol|--endpoint|--token) want="$arg" ;;
            --protocol=*|--endpoint=*|--token=*) _cct_value "${arg%%=*}" "${arg#*=}" || return 2 ;;
            *) ;;  # bash hands a sourced file the caller's arguments when given none: ignore
        esac
    done
    if [ -n "$want" ]; then _cct_value "$want" "" || return 2; fi
    _cct_set_protocol "$(_cct_protocol)" || return 2
    _cct_export
    if [ "$quiet" = "0" ]; then
        printf 'cctelemetry: Claude Code telemetry on -> %s (OTLP %s%s)\n' \
            "$OTEL_EXPORTER_OTLP_ENDPOINT" "$OTEL_EXPORTER_OTLP_PROTOCOL" \
            "$([ -n "$(_cct_token)" ] && printf ', with a token')" >&2
    fi
    if [ "$check" = "1" ]; then
        _cct_check
        return $?
    fi
    return 0
}

_cct_main() {
    local arg want="" actions=0
    for arg in "$@"; do  # protocol, endpoint and token first, wherever they stand, so that every action uses them
        if [ -n "$want" ]; then
            _cct_value "$want" "$arg" || return 2
            want=""
            continue
        fi
        case "$arg" in
            --protocol|--endpoint|--token) want="$arg" ;;
            --protocol=*|--endpoint=*|--token=*) _cct_value "${arg%%=*}" "${arg#*=}" || return 2 ;;
            *) actions=$((actions + 1)) ;;
        esac
    done
    if [ -n "$want" ]; then _cct_value "$want" "" || return 2; fi
    _cct_set_protocol "$(_cct_protocol)" || return 2
    if [ "$actions" -eq 0 ]; then
        local opt=""
        [ "$(_cct_protocol)" = "http/protobuf" ] || opt=" --protocol $(_cct_protocol)"
        [ -z "${_cct_ep:-}" ] || opt="$opt --endpoint $_cct_ep"
        [ -z "${_cct_tok:-}" ] || opt="$opt --token ..."
        printf '# This shell was not changed. Load the variables with:  source ./setup-telemetry.sh%s\n' "$opt"
        printf '# or make them permanent for Claude Code with:          ./setup-telemetry.sh%s --persist\n\n' "$opt"
        printf '# Claude Code\n'
        _cct_print_env
        printf '\n'
        _cct_print_codex
        printf '\n'
        _cct_print_gemini
        return 0
    fi
    local rc=0
    for arg in "$@"; do
        if [ -n "$want" ]; then want=""; continue; fi  # the value of --protocol, --endpoint or --token
        case "$arg" in
            --protocol|--endpoint|--token) want="$arg" ;;
            --protocol=*|--endpoint=*|--token=*) ;;
            --persist) _cct_persist persist || rc=$? ;;
            --unpersist) _cct_persist unpersist || rc=$? ;;
            --statusline) _cct_statusline statusline || rc=$? ;;
            --no-statusline) _cct_statusline no-statusline || rc=$? ;;
            --print-codex) _cct_print_codex ;;
            --print-gemini) _cct_print_gemini ;;
            --env) _cct_print_env ;;
            --check) _cct_check || rc=$? ;;
            -h|--help) _cct_usage ;;
            *) printf 'cctelemetry: unknown option %s\n' "$arg" >&2; _cct_usage >&2; return 2 ;;
        esac
    done
    return "$rc"
}

_cct_cleanup() {
    unset -f _cct_protocol _cct_set_protocol _cct_check_grpc _cct_listens _cct_endpoint _cct_urlencode _cct_resource_attributes _cct_prompts _cct_lines _cct_export \
        _cct_print_env _cct_print_codex _cct_print_gemini _cct_check _cct_settings_file _cct_persist \
        _cct_statusline _cct_statusline_program \
        _cct_usage _cct_sourced_main _cct_main _cct_cleanup _cct_value _cct_host_name _cct_token _cct_headers \
        _cct_auth_header 2>/dev/null
    unset _cct_sourced _cct_proto _cct_ep _cct_tok
}

# Sourced or executed? zsh: ZSH_EVAL_CONTEXT ends in ":file" when sourced; bash: BASH_SOURCE[0]
# differs from $0 when sourced; other POSIX shells (`. ./setup-telemetry.sh`): $0 is the shell.
_cct_sourced=0
if [ -n "${ZSH_VERSION:-}" ]; then
    case "${ZSH_EVAL_CONTEXT:-}" in *:file*) _cct_sourced=1 ;; esac
elif [ -n "${BASH_VERSION:-}" ]; then
    if [ "${BASH_SOURCE[0]:-$0}" != "$0" ]; then _cct_sourced=1; fi
else
    case "${0##*/}" in setup-telemetry.sh) ;; *) _cct_sourced=1 ;; esac
fi

if [ "$_cct_sourced" = "1" ]; then
    _cct_sourced_main "$@"
    _cct_rc=$?
    _cct_cleanup
    # leave the status of --check as the status of `source`, without a stray variable behind
    eval "unset _cct_rc; (exit $_cct_rc)"
else
    _cct_main "$@"
    _cct_rc=$?
    _cct_cleanup
    exit "$_cct_rc"
fi
