#!/usr/bin/env bash
# cctelemetry: point Claude Code (and Codex CLI / Gemini CLI) at the cctelemetry OTLP endpoint.
#
#   source ./setup-telemetry.sh            export Claude Code's telemetry variables in this shell
#                                          (bash or zsh; add --check to test the endpoint too)
#   ./setup-telemetry.sh --persist         write them into ~/.claude/settings.json's "env" block
#                                          (other keys kept, a backup made), so every session has them
#   ./setup-telemetry.sh --unpersist       undo exactly what --persist changed
#   ./setup-telemetry.sh --print-codex     the [otel] block for ~/.codex/config.toml
#   ./setup-telemetry.sh --print-gemini    the telemetry settings for Gemini CLI
#   ./setup-telemetry.sh --env             the variables as `export` lines (eval "$(...)")
#   ./setup-telemetry.sh --check           POST an empty OTLP/JSON batch to <endpoint>/v1/logs, expect 200
#   ./setup-telemetry.sh                   all of the above that only print
#
# Knobs (environment, all optional):
#   CCTELEMETRY_OTLP_ENDPOINT         default http://127.0.0.1:4318 (the stack's collector, or
#                                     `cctelemetry serve`'s OTLP port)
#   CCTELEMETRY_TEAM                  adds resource attribute team=<value>
#   CCTELEMETRY_AGENT_TYPE            adds resource attribute agent.type=<value>
#   CCTELEMETRY_LOG_USER_PROMPTS      1 to include prompt text (default 0: redacted)
#   CCTELEMETRY_METRIC_EXPORT_INTERVAL  ms, default 30000 (Claude Code's own default is 60000)
#   CCTELEMETRY_LOGS_EXPORT_INTERVAL    ms, default 5000
#   CLAUDE_CONFIG_DIR                 where Claude Code keeps settings.json (default ~/.claude)
#
# This file must stay valid for bash and zsh when sourced: no top-level `return`/`exit` outside the
# executed branch, no arrays, and every variable is read as ${VAR:-} (set -u safe).

_cct_endpoint() {
    local ep
    ep="${CCTELEMETRY_OTLP_ENDPOINT:-http://127.0.0.1:4318}"
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

# OTEL_RESOURCE_ATTRIBUTES: the caller's own entries, minus any team= / agent.type= we manage,
# plus ours. Prints nothing when there is nothing to set.
_cct_resource_attributes() {
    local existing="${OTEL_RESOURCE_ATTRIBUTES:-}" kept="" item rest ours=""
    if [ -n "${CCTELEMETRY_TEAM:-}" ]; then
        ours="team=$(_cct_urlencode "$CCTELEMETRY_TEAM")"
    fi
    if [ -n "${CCTELEMETRY_AGENT_TYPE:-}" ]; then
        ours="${ours:+$ours,}agent.type=$(_cct_urlencode "$CCTELEMETRY_AGENT_TYPE")"
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
            ""|team=*|agent.type=*) ;;
            *) kept="${kept:+$kept,}$item" ;;
        esac
    done
    printf '%s' "${kept:+$kept,}$ours"
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
    printf 'OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf\n'
    printf 'OTEL_EXPORTER_OTLP_ENDPOINT=%s\n' "$(_cct_endpoint)"
    printf 'OTEL_METRIC_EXPORT_INTERVAL=%s\n' "${CCTELEMETRY_METRIC_EXPORT_INTERVAL:-30000}"
    printf 'OTEL_LOGS_EXPORT_INTERVAL=%s\n' "${CCTELEMETRY_LOGS_EXPORT_INTERVAL:-5000}"
    printf 'OTEL_LOG_USER_PROMPTS=%s\n' "$(_cct_prompts)"
    ra="$(_cct_resource_attributes)"
    if [ -n "$ra" ]; then
        printf 'OTEL_RESOURCE_ATTRIBUTES=%s\n' "$ra"
    fi
}

_cct_export() {
    export CLAUDE_CODE_ENABLE_TELEMETRY=1
    export OTEL_METRICS_EXPORTER=otlp
    export OTEL_LOGS_EXPORTER=otlp
    export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
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
    local ep prompts="false"
    ep="$(_cct_endpoint)"
    [ "$(_cct_prompts)" = "1" ] && prompts="true"
    cat <<EOF
# ~/.codex/config.toml  (Codex CLI; OTLP/HTTP protobuf to cctelemetry)
[otel]
environment = "${CCTELEMETRY_TEAM:-dev}"
log_user_prompt = $prompts
exporter = { otlp-http = { endpoint = "$ep/v1/logs", protocol = "binary" } }
metrics_exporter = { otlp-http = { endpoint = "$ep/v1/metrics", protocol = "binary" } }
EOF
}

_cct_print_gemini() {
    local ep prompts="false"
    ep="$(_cct_endpoint)"
    [ "$(_cct_prompts)" = "1" ] && prompts="true"
    cat <<EOF
# ~/.gemini/settings.json  (Gemini CLI; merge into the existing object)
{
  "telemetry": {
    "enabled": true,
    "target": "local",
    "otlpEndpoint": "$ep",
    "otlpProtocol": "http",
    "logPrompts": $prompts
  }
}
# or, per shell:
export GEMINI_TELEMETRY_ENABLED=true
export GEMINI_TELEMETRY_TARGET=local
export GEMINI_TELEMETRY_OTLP_ENDPOINT='$ep'
export GEMINI_TELEMETRY_OTLP_PROTOCOL=http
export GEMINI_TELEMETRY_LOG_PROMPTS=$prompts
EOF
}

# POST an empty OTLP/JSON logs request; 0 if the endpoint answers 200.
_cct_check() {
    local ep code
    ep="$(_cct_endpoint)"
    if command -v curl >/dev/null 2>&1; then
        code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
            -H 'Content-Type: application/json' --data '{"resourceLogs":[]}' "$ep/v1/logs" 2>/dev/null)"
    elif command -v python3 >/dev/null 2>&1; then
        code="$(python3 - "$ep/v1/logs" <<'EOF'
import sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1], data=b'{"resourceLogs":[]}', headers={"Content-Type": "application/json"})
try:
    print(urllib.request.urlopen(req, timeout=5).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("000")
EOF
)"
    else
        printf 'cctelemetry: --check needs curl or python3\n' >&2
        return 2
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

_cct_usage() {
    cat <<'EOF'
usage: source ./setup-telemetry.sh [--check] [--quiet]
       ./setup-telemetry.sh [--persist | --unpersist | --print-codex | --print-gemini | --env | --check]
EOF
}

_cct_sourced_main() {
    local check=0 quiet=0 arg
    for arg in "$@"; do
        case "$arg" in
            --check) check=1 ;;
            --quiet|-q) quiet=1 ;;
            *) ;;  # bash hands a sourced file the caller's arguments when given none: ignore
        esac
    done
    _cct_export
    if [ "$quiet" = "0" ]; then
        printf 'cctelemetry: Claude Code telemetry on -> %s (OTLP %s)\n' \
            "$OTEL_EXPORTER_OTLP_ENDPOINT" "$OTEL_EXPORTER_OTLP_PROTOCOL" >&2
    fi
    if [ "$check" = "1" ]; then
        _cct_check
        return $?
    fi
    return 0
}

_cct_main() {
    if [ "$#" -eq 0 ]; then
        printf '# This shell was not changed. Load the variables with:  source ./setup-telemetry.sh\n'
        printf '# or make them permanent for Claude Code with:          ./setup-telemetry.sh --persist\n\n'
        printf '# Claude Code\n'
        _cct_print_env
        printf '\n'
        _cct_print_codex
        printf '\n'
        _cct_print_gemini
        return 0
    fi
    local rc=0 arg
    for arg in "$@"; do
        case "$arg" in
            --persist) _cct_persist persist || rc=$? ;;
            --unpersist) _cct_persist unpersist || rc=$? ;;
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
    unset -f _cct_endpoint _cct_urlencode _cct_resource_attributes _cct_prompts _cct_lines _cct_export \
        _cct_print_env _cct_print_codex _cct_print_gemini _cct_check _cct_settings_file _cct_persist \
        _cct_usage _cct_sourced_main _cct_main _cct_cleanup 2>/dev/null
    unset _cct_sourced
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
