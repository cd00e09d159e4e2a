"""The Docker stack's files, checked without Docker: compose file, collector config, Dockerfile,
ClickHouse server and user config. They must parse, reference only files that exist, publish ports on
127.0.0.1 only, pin images, use only collector keys v0.159 accepts, and agree with each other and with
migrations/."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
import yaml

from cctelemetry.store.migrate import load_migrations

REPO = Path(__file__).resolve().parents[2]
STACK_DATA = Path(__file__).parent / "data"
PUBLISHED = {4317, 4318, 8889, 8000, 8123, 9000}
EXACT_TAG = re.compile(r"^[a-z0-9./_-]+:\d+\.\d+\.\d+$")
REQUIRED_VAR = re.compile(r"\$\{([A-Z0-9_]+):\?")
ANY_VAR = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}")


@pytest.fixture(scope="module")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def collector_config() -> dict:
    return yaml.safe_load((REPO / "otel-simple.yaml").read_text())


@pytest.fixture(scope="module")
def allowed_keys() -> dict:
    tree = yaml.safe_load((STACK_DATA / "otelcol_v0159_keys.yaml").read_text())
    return {k: v for k, v in tree.items() if not k.startswith("_")}


def migration_tables() -> set[str]:
    names = set()
    for m in load_migrations(REPO / "migrations"):
        names |= set(re.findall(r"CREATE TABLE IF NOT EXISTS\s+`?(\w+)`?", m.sql))
    return names


def walk_keys(config, allowed, path=""):
    """Yield the dotted paths of keys in config that the allowed-key tree does not list."""
    if allowed == "*" or allowed is None or not isinstance(config, dict):
        return
    for key, value in config.items():
        here = f"{path}.{key}" if path else str(key)
        if key not in allowed:
            yield here
            continue
        yield from walk_keys(value, allowed[key], here)


def component_type(name: str) -> str:
    return name.split("/", 1)[0]


# -- docker-compose.yml -----------------------------------------------------------------------------


def test_compose_has_the_services(compose):
    assert {"clickhouse", "migrate", "otel-collector", "collector-health", "api"} <= set(compose["services"])
    assert compose.get("name") == "cctelemetry"


def test_compose_bind_mounts_exist(compose):
    for name, svc in compose["services"].items():
        for vol in svc.get("volumes", []):
            source = vol.split(":", 1)[0]
            if source.startswith((".", "/")):
                assert (REPO / source).is_file(), f"{name}: mounts {source}, which is not a file in the repo"
            else:
                assert source in compose.get("volumes", {}), f"{name}: named volume {source} is not declared"


def test_compose_mounts_single_clickhouse_files_not_folders(compose):
    """Mounting whole config.d / users.d would hide the image's docker_related_config.xml (listen on
    all interfaces) and break its entrypoint, which writes users.d/default-user.xml."""
    targets = [v.split(":")[1] for v in compose["services"]["clickhouse"]["volumes"]]
    for target in targets:
        assert not target.rstrip("/").endswith(("config.d", "users.d")), target
    assert "/etc/clickhouse-server/config.d/cctelemetry.xml" in targets
    assert "/etc/clickhouse-server/users.d/cctelemetry-users.xml" in targets
    assert "/var/lib/clickhouse" in targets


def test_compose_ports_bound_to_localhost(compose):
    seen = set()
    for name, svc in compose["services"].items():
        for port in svc.get("ports", []):
            assert isinstance(port, str), f"{name}: use the string form 127.0.0.1:host:container"
            assert port.startswith("127.0.0.1:"), f"{name}: {port} is not bound to 127.0.0.1"
            host, container = port.split(":", 1)[1].rsplit(":", 1)
            default = re.fullmatch(r"\$\{[A-Z0-9_]+:-(\d+)\}", host)
            assert host.isdigit() or default, f"{name}: host port {host}"
            if default:
                assert default.group(1) == container, f"{name}: default host port differs from {container}"
            seen.add(int(container))
    assert seen == PUBLISHED


def test_compose_images_pinned(compose):
    for name, svc in compose["services"].items():
        image = svc.get("image")
        if "build" in svc:
            assert image == "cctelemetry-service:local", f"{name}: locally built image name"
            continue
        assert image, f"{name}: no image"
        assert EXACT_TAG.match(image), f"{name}: {image} is not pinned to an exact x.y.z tag"
    images = {svc.get("image") for svc in compose["services"].values()}
    assert "otel/opentelemetry-collector-contrib:0.159.0" in images
    assert any(i and i.startswith("clickhouse/clickhouse-server:26.") for i in images)


def test_compose_start_order(compose):
    s = compose["services"]
    assert s["migrate"]["depends_on"]["clickhouse"]["condition"] == "service_healthy"
    assert s["otel-collector"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert s["otel-collector"]["depends_on"]["clickhouse"]["condition"] == "service_healthy"
    assert s["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert s["collector-health"]["depends_on"]["otel-collector"]["condition"] == "service_started"
    assert s["migrate"]["command"] == ["cctelemetry", "migrate"]
    assert s["migrate"].get("restart") == "no"


def test_compose_healthchecks(compose):
    s = compose["services"]
    ch = " ".join(s["clickhouse"]["healthcheck"]["test"])
    assert "wget" in ch and "/ping" in ch
    probe = " ".join(s["collector-health"]["healthcheck"]["test"])
    assert "http://otel-collector:13133/" in probe
    # the collector image is FROM scratch: no shell, so no healthcheck inside it
    assert "healthcheck" not in s["otel-collector"]


def test_compose_build_uses_repo_root_and_service_dockerfile(compose):
    for name in ("api", "migrate"):
        build = compose["services"][name]["build"]
        assert build["context"] == "."
        assert (REPO / build["dockerfile"]).is_file()
        assert build["dockerfile"] == "service/Dockerfile"


def test_compose_secrets_come_from_env_file(compose, repo):
    text = (repo / "docker-compose.yml").read_text()
    required = set(REQUIRED_VAR.findall(text))
    assert {"CLICKHOUSE_WRITER_PASSWORD", "CLICKHOUSE_READER_PASSWORD"} <= required
    example = (repo / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z0-9_]+)=", example, re.M))
    assert set(ANY_VAR.findall(text)) <= documented, "every variable compose reads is in .env.example"
    # No variable named like the Python service's settings: .env is also read by an embedded run.
    assert not any(v.startswith("CCTELEMETRY_") for v in documented)
    # The image entrypoint would replace `default` by a network-wide user if these were set.
    ch_env = compose["services"]["clickhouse"]["environment"]
    assert "CLICKHOUSE_USER" not in ch_env and "CLICKHOUSE_PASSWORD" not in ch_env


def test_compose_service_urls_use_the_right_users(compose):
    s = compose["services"]
    api = s["api"]["environment"]
    assert api["CCTELEMETRY_CLICKHOUSE_URL"].startswith("http://reader:${CLICKHOUSE_READER_PASSWORD")
    assert api["CCTELEMETRY_CLICKHOUSE_URL"].endswith("@clickhouse:8123/otel")
    assert str(api["CCTELEMETRY_MIGRATE_ON_START"]).lower() == "false"
    mig = s["migrate"]["environment"]
    assert mig["CCTELEMETRY_CLICKHOUSE_URL"].startswith("http://writer:${CLICKHOUSE_WRITER_PASSWORD")
    assert mig["CCTELEMETRY_DATABASE"] == "otel"


def test_compose_api_runs_without_a_token_only_behind_loopback(compose, repo):
    """The API container listens on 0.0.0.0 in its network, published on 127.0.0.1 only: only then may it run
    without a token; a bare `docker run -p` of the image (no ALLOW_UNAUTHENTICATED) refuses to start."""
    api = compose["services"]["api"]
    env = api["environment"]
    assert str(env["CCTELEMETRY_ALLOW_UNAUTHENTICATED"]).lower() == "true"
    assert all(p.startswith("127.0.0.1:") for p in api["ports"])
    assert env["CCTELEMETRY_API_TOKEN"] == "${CCT_API_TOKEN:-}"
    assert env["CCTELEMETRY_READ_TOKENS"] == "${CCT_READ_TOKENS:-}"
    assert "ALLOW_UNAUTHENTICATED" not in (repo / "service" / "Dockerfile").read_text()


def test_writer_and_reader_stay_separate(compose, collector_config):
    """Two users with their own passwords: everything that writes telemetry or schema is `writer`; what
    reads for people (reports, ad-hoc SQL) is `reader`, which cannot write."""
    s = compose["services"]
    assert s["api"]["environment"]["CCTELEMETRY_CLICKHOUSE_URL"].startswith("http://reader:")
    assert s["api"]["environment"]["CCTELEMETRY_CLICKHOUSE_WRITE_URL"].startswith("http://writer:")
    assert s["migrate"]["environment"]["CCTELEMETRY_CLICKHOUSE_URL"].startswith("http://writer:")
    col = s["otel-collector"]["environment"]
    assert col["CLICKHOUSE_WRITER_USER"] == "writer" and "READER" not in " ".join(col)
    users = users_xml().find("users")
    passwords = {name: users.find(name).find("password").get("from_env") for name in ("writer", "reader")}
    assert passwords == {"writer": "CLICKHOUSE_WRITER_PASSWORD", "reader": "CLICKHOUSE_READER_PASSWORD"}
    profiles = users_xml().find("profiles")
    assert profiles.find(users.find("reader").findtext("profile")).findtext("readonly") in ("1", "2")
    assert profiles.find(users.find("writer").findtext("profile")).findtext("readonly") is None
    assert users.find("default").find("password") is None or not users.find("default").findtext("password")
    assert sorted(ip.text for ip in users.find("default").find("networks")) == ["127.0.0.1", "::1"]
    assert users.find("default").find("networks").get("replace") == "replace"


def test_compose_collector_gets_config_and_queue_volume(compose, collector_config):
    col = compose["services"]["otel-collector"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in col["volumes"]}
    assert mounts["/etc/otelcol-contrib/config.yaml"] == "./otel-simple.yaml"
    queue_dir = collector_config["extensions"]["file_storage"]["directory"]
    assert mounts[queue_dir] == "otelcol-queue"
    init = compose["services"]["collector-storage-init"]
    assert any(v.endswith(":" + queue_dir) for v in init["volumes"])
    assert "10001:10001" in " ".join(init["entrypoint"])
    assert col["depends_on"]["collector-storage-init"]["condition"] == "service_completed_successfully"


def test_compose_collector_env_covers_config_env(compose, repo):
    used = set(re.findall(r"\$\{env:([A-Z0-9_]+)", (repo / "otel-simple.yaml").read_text()))
    assert used, "the collector reads its ClickHouse credentials from the environment"
    assert used <= set(compose["services"]["otel-collector"]["environment"])


# -- otel-simple.yaml -------------------------------------------------------------------------------


def test_collector_keys_exist_in_v0159(collector_config, allowed_keys):
    unknown = []
    for section in ("receivers", "processors", "exporters", "extensions"):
        for name, conf in (collector_config.get(section) or {}).items():
            kind = component_type(name)
            assert kind in allowed_keys[section], f"{section}.{name}: component type not in the allowed list"
            unknown += [f"{section}.{name}.{k}" for k in walk_keys(conf or {}, allowed_keys[section][kind])]
    unknown += [f"service.{k}" for k in walk_keys(collector_config["service"], allowed_keys["service"])]
    assert not unknown, f"keys otelcol-contrib v0.159 does not accept: {unknown}"
    assert set(collector_config) <= {"receivers", "processors", "exporters", "extensions", "connectors", "service"}


def test_allowed_key_list_rejects_removed_keys(allowed_keys):
    assert "ttl_days" not in allowed_keys["exporters"]["clickhouse"]
    assert list(walk_keys({"ttl_days": 3}, allowed_keys["exporters"]["clickhouse"])) == ["ttl_days"]


def test_collector_pipelines_are_wired(collector_config):
    svc = collector_config["service"]
    for kind, pipe in svc["pipelines"].items():
        assert pipe["processors"][0] == "memory_limiter", f"{kind}: memory_limiter must come first"
        assert "batch" in pipe["processors"]
        for section, names in (("receivers", pipe["receivers"]), ("processors", pipe["processors"]),
                               ("exporters", pipe["exporters"])):  # fmt: skip
            for n in names:
                assert n in collector_config[section], f"{kind}: {n} is not defined in {section}"
        assert "clickhouse" in pipe["exporters"]
    assert "prometheus" in svc["pipelines"]["metrics"]["exporters"]
    assert set(svc["extensions"]) == set(collector_config["extensions"])


def test_collector_receivers_and_endpoints(collector_config):
    protocols = collector_config["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"] == "0.0.0.0:4317"
    assert protocols["http"]["endpoint"] == "0.0.0.0:4318"
    assert collector_config["extensions"]["health_check"]["endpoint"] == "0.0.0.0:13133"
    prom = collector_config["exporters"]["prometheus"]
    assert prom["endpoint"] == "0.0.0.0:8889"
    assert prom["resource_to_telemetry_conversion"]["enabled"] is True
    # names users expect (claude_code_token_usage_tokens_total, claude_code_cost_usage_USD_total)
    assert prom.get("translation_strategy", "UnderscoreEscapingWithSuffixes") == "UnderscoreEscapingWithSuffixes"
    assert "namespace" not in prom


def test_collector_clickhouse_exporter(collector_config):
    ch = collector_config["exporters"]["clickhouse"]
    assert ch["endpoint"] == "tcp://clickhouse:9000?dial_timeout=10s"
    assert ch["create_schema"] is False
    assert ch["database"] == "otel"
    assert ch["ttl"] == "72h"
    assert ch["username"].startswith("${env:") and ch["password"].startswith("${env:")
    assert ch["retry_on_failure"]["enabled"] is True
    queue = ch["sending_queue"]
    assert queue["enabled"] is True
    assert queue["storage"] in collector_config["extensions"]
    assert component_type(queue["storage"]) == "file_storage"


def test_collector_tables_are_the_migrations_tables(collector_config):
    """create_schema is off: every table the exporter writes must come from migrations/."""
    ch = collector_config["exporters"]["clickhouse"]
    names = {ch["logs_table_name"], ch["traces_table_name"]}
    names |= {t["name"] for t in ch["metrics_tables"].values()}
    assert set(ch["metrics_tables"]) == {"gauge", "sum", "summary", "histogram", "exponential_histogram"}
    assert names <= migration_tables()


# -- service/Dockerfile -----------------------------------------------------------------------------


def dockerfile() -> str:
    return (REPO / "service" / "Dockerfile").read_text()


def test_dockerfile_builds_from_repo_root_with_migrations():
    text = dockerfile()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim$", text, re.M)
    copies = re.findall(r"^COPY\s+(?:--from=\S+\s+)?(\S+)\s+(\S+)", text, re.M)
    sources = {src for src, _ in copies}
    assert {"service/", "migrations/"} <= sources
    for src in sources - {"/wheels"}:
        assert (REPO / src).exists(), f"COPY {src}: not in the build context (repository root)"
    assert "CCTELEMETRY_MIGRATE_ON_START=false" in text
    cmd = re.search(r"^CMD (\[.*\])$", text, re.M).group(1)
    assert '"serve"' in cmd and '"--host", "0.0.0.0"' in cmd
    assert re.search(r"^USER (?!root)\S+", text, re.M), "the service does not run as root"


def test_dockerignore_sends_service_and_migrations():
    lines = [ln.strip() for ln in (REPO / ".dockerignore").read_text().splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    assert lines[0] == "*"
    assert "!service/" in lines and "!migrations/" in lines
    assert ".env" not in [ln.lstrip("!") for ln in lines if ln.startswith("!")]


def test_wheel_packages_the_repository_migrations(tmp_path):
    """What the image runs: the wheel built from service/ carries migrations/ as
    cctelemetry/_migrations (hatch force-include), byte for byte."""
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(REPO / "service")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if out.returncode != 0:
        text = out.stdout + out.stderr
        if re.search(r"hatchling|Could not find a version|NewConnectionError|No matching distribution", text):
            pytest.skip(f"cannot get the build backend (hatchling) here: {text.strip().splitlines()[-1]}")
        pytest.fail(f"pip wheel service/ failed:\n{text}")
    wheel = next(tmp_path.glob("cctelemetry-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        packaged = {Path(n).name: zf.read(n) for n in zf.namelist()
                    if n.startswith("cctelemetry/_migrations/") and n.endswith(".sql")}  # fmt: skip
    repo_files = {p.name: p.read_bytes() for p in (REPO / "migrations").glob("*.sql")}
    assert repo_files and packaged == repo_files


# -- clickhouse/ ------------------------------------------------------------------------------------


def users_xml() -> ET.Element:
    return ET.parse(REPO / "clickhouse" / "users.d" / "cctelemetry-users.xml").getroot()


def config_xml() -> ET.Element:
    return ET.parse(REPO / "clickhouse" / "config.d" / "cctelemetry.xml").getroot()


def test_clickhouse_users(compose):
    root = users_xml()
    users = root.find("users")
    default = users.find("default")
    assert sorted(ip.text for ip in default.find("networks")) == ["127.0.0.1", "::1"]
    ch_env = compose["services"]["clickhouse"]["environment"]
    for name in ("writer", "reader"):
        user = users.find(name)
        assert user is not None, name
        env = user.find("password").get("from_env")
        assert env in ch_env, f"{name}: password env {env} is not given to the clickhouse service"
        assert not (user.find("password").text or "").strip(), "no literal password"
    reader_profile = root.find("profiles").find(users.find("reader").findtext("profile"))
    assert reader_profile.findtext("readonly") in ("1", "2")
    assert int(reader_profile.findtext("max_execution_time")) > 0
    assert int(reader_profile.findtext("max_memory_usage")) > 0
    limits = reader_profile.find("constraints")
    assert limits.find("max_execution_time").findtext("max") and limits.find("max_memory_usage").findtext("max")
    reader_grants = [q.text for q in users.find("reader").find("grants")]
    assert all(not re.search(r"\b(INSERT|ALTER|CREATE|DROP|TRUNCATE)\b", g) for g in reader_grants)


def test_clickhouse_grants_parse_and_cover_the_database(store):
    for user in ("writer", "reader"):
        for q in users_xml().find("users").find(user).find("grants"):
            assert " ON otel.*" in q.text or q.text.strip() == "GRANT SELECT ON system.parts"
            store.query("SELECT formatQuery({q:String})", {"q": q.text + " TO someone"})  # raises on a syntax error


def test_clickhouse_settings_exist_in_26_9(store):
    """Unknown settings in a profile stop the server; check every name against ClickHouse 26.9
    (chdb embeds the same engine)."""
    settings = set()
    for profile in users_xml().find("profiles"):
        for el in profile:
            if el.tag == "constraints":
                settings |= {c.tag for c in el}
            else:
                settings.add(el.tag)
    known = {r[0] for r in store.query("SELECT name FROM system.settings").result_rows}
    assert settings <= known, settings - known

    structural = {"timezone", "logger", "merge_tree", "query_log"}
    server = {el.tag for el in config_xml()} - structural
    known_server = {r[0] for r in store.query("SELECT name FROM system.server_settings").result_rows}
    assert server <= known_server, server - known_server
    merge_tree = {el.tag for el in config_xml().find("merge_tree")}
    known_mt = {r[0] for r in store.query("SELECT name FROM system.merge_tree_settings").result_rows}
    assert merge_tree <= known_mt, merge_tree - known_mt
    assert config_xml().findtext("timezone") == "UTC"
