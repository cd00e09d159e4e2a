"""The dashboard's files as the service serves them: every file the page loads is there with the right
type and cache policy, nothing points at the internet, and the rest of the app is untouched."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

WEB = Path(str(resources.files("cctelemetry").joinpath("web")))
# `import ... from "./x.js"` and `import("./x.js")` in the app's modules
IMPORT = re.compile(r"""(?:^|\n)\s*import\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']""")


def page_assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/ui/[^"]+)"', html)


def module_closure(client, start: str) -> set[str]:
    """Every JS module reachable from ``start`` through relative imports, fetched from the service."""
    seen, todo = set(), [start]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].split(";")[0] in ("text/javascript", "application/javascript"), path
        base = path.rsplit("/", 1)[0]
        for a, b in IMPORT.findall(r.text):
            target = a or b
            assert target.startswith("./") or target.startswith("../"), f"{path} imports {target}: not a local module"
            parts = (base + "/" + target).split("/")
            resolved = []
            for part in parts:
                if part == "..":
                    resolved.pop()
                elif part not in (".", ""):
                    resolved.append(part)
            todo.append("/" + "/".join(resolved))
    return seen


def test_root_serves_the_page_and_every_file_it_loads(client):
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-cache"
    assert client.head("/").status_code == 200
    assets = page_assets(r.text)
    assert "/ui/js/app.js" in assets and "/ui/style.css" in assets
    for path in assets:
        got = client.get(path)
        assert got.status_code == 200, path
        expected = "immutable" if path.startswith("/ui/vendor/") else "no-cache"
        assert expected in got.headers["cache-control"], (path, got.headers["cache-control"])
    modules = module_closure(client, "/ui/js/app.js")
    on_disk = {"/ui/" + p.relative_to(WEB).as_posix() for p in (WEB / "js").rglob("*.js")}
    assert modules == on_disk, "every module is loaded by the page, and none is missing"
    preloaded = {a for a in assets if a.startswith("/ui/js/")}
    assert preloaded == on_disk, "index.html preloads every module (no import waterfall)"


def test_a_changed_file_is_revalidated_not_refetched(client):
    first = client.get("/ui/js/app.js")
    again = client.get("/ui/js/app.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_nothing_is_fetched_from_the_internet():
    """No file of the page names another host, except in the vendored library's licence comments."""
    for path in WEB.rglob("*"):
        if not path.is_file() or "vendor" in path.parts:
            continue
        text = path.read_text()
        urls = re.findall(r"https?://[^\s\"'<>)]+", text)
        assert [u for u in urls if not u.startswith("http://www.w3.org/")] == [], path


def test_the_vendored_chart_library_carries_its_licence():
    vendor = WEB / "vendor"
    lib = vendor / "chart.js-4.6.1" / "chart.umd.min.js"
    assert lib.read_text().startswith("/*!\n * Chart.js v4.6.1")
    assert "MIT License" in (vendor / "chart.js-4.6.1" / "LICENSE.md").read_text()
    readme = (vendor / "README.md").read_text()
    assert "4.6.1" in readme and "MIT" in readme
    import hashlib

    digest = hashlib.sha256(lib.read_bytes()).hexdigest()
    assert digest in readme, "vendor/README.md records the file's sha256"


def test_the_rest_of_the_app_is_unchanged(client):
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "/" not in schema["paths"], "the page is not an API endpoint"
    assert client.get("/api/v1/usage").status_code == 200
    assert client.get("/healthz").status_code == 200
    r = client.post("/v1/logs", content=b"{}", headers={"Content-Type": "application/json"})
    assert r.status_code == 200


def test_unknown_files_and_folders_are_the_one_error_shape(client):
    for path in ("/ui/nope.js", "/ui/", "/ui/js/", "/ui/../pyproject.toml"):
        r = client.get(path)
        assert r.status_code == 404, path
        body = r.json()
        assert body["ok"] is False and body["status"] == 404 and body["code"] == "not_found", (path, body)
