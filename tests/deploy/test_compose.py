"""docker-compose.yml against the Compose Specification's JSON schema (vendored in
deploy/schemas/), and what the deployment promises: health checks and start-up order, no fixed
host port but the proxy's (so `--scale` works), each service with its own NATS user and database
role, the website with neither and its session secret required, the proxy's routes (the
website's live stream unbuffered), no secret in the file. Also the image's Dockerfile. Docker
itself is not needed."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

import jsonschema
import pytest
import yaml

from warroom_shared import nats_users

from .conftest import DEPLOY, NGINX, ROOT, nginx_proxy_header, render

COMPOSE = ROOT / "docker-compose.yml"
SCHEMA = DEPLOY / "schemas" / "compose-spec.json"
APP_SERVICES = ("registry", "reporting", "aggregator")
PUBLISHED = {"web": 8000, "registry": 8001, "reporting": 8002, "aggregator": 8003}  # by the proxy
SCALED = ("reporting", "aggregator", "relay")
NATS_USER = {  # which NATS user and database role each warroom container runs as
    "registry": "registry",
    "reporting": "reporting",
    "relay": "reporting",
    "aggregator": "aggregator",
    "migrate": "provisioner",
}

# The website's clients at the identity provider: empty is "none" (a public client; a trial).
OPTIONAL_SECRETS = ("WARROOM_OIDC_CLIENT_SECRET", "WARROOM_LIVE_CLIENT_SECRET")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())  # `<<` merges like compose
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def nginx_block(text: str, head: str) -> str:
    """The body of the one `head { ... }` block of nginx.conf text (nested blocks included)."""
    starts = [m.end() for m in re.finditer(rf"^\s*{re.escape(head)}\s*\{{", text, re.M)]
    assert len(starts) == 1, f"{head}: {len(starts)} blocks"
    depth, at = 1, starts[0]
    while depth:
        depth += {"{": 1, "}": -1}.get(text[at], 0)
        at += 1
    return text[starts[0] : at - 1]


def nginx_server(port: int) -> str:
    """The `server` block of the compose proxy that listens on a port."""
    servers = re.split(r"^\s*server\s*\{", NGINX.read_text(), flags=re.M)[1:]
    found = [s for s in servers if re.search(rf"^\s*listen {port};", s, re.M)]
    assert len(found) == 1, f"{len(found)} servers listen on {port}"
    return "server {" + found[0]


def test_the_compose_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []


def test_the_schema_catches_a_mistake(compose: dict[str, Any]) -> None:
    """The vendored schema is strict enough to matter: a misspelt key is an error."""
    schema = json.loads(SCHEMA.read_text())
    broken = json.loads(json.dumps(compose))
    broken["services"]["nats"]["healthcheck"]["intervall"] = "5s"
    assert not jsonschema.Draft202012Validator(schema).is_valid(broken)


def test_every_long_running_service_has_a_health_check(services: dict[str, Any]) -> None:
    for name, service in services.items():
        check = service.get("healthcheck", {})
        if service.get("restart") == "no":  # one-shot: `migrate`
            assert check == {"disable": True}, name
            continue
        assert check.get("test"), f"{name} has no health check"
        assert not check.get("disable"), name
        assert service.get("restart") == "unless-stopped", name


def test_start_up_order_waits_for_health_and_the_migration(services: dict[str, Any]) -> None:
    one_shot = {n for n, s in services.items() if s.get("restart") == "no"}
    assert one_shot == {"migrate"}
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        for other, rule in depends_on.items():
            expected = "service_completed_successfully" if other in one_shot else "service_healthy"
            assert rule == {"condition": expected}, f"{name} -> {other}"
    for name in (*APP_SERVICES, "relay"):
        assert set(services[name]["depends_on"]) == {"migrate", "nats", "postgres"}, name
    assert set(services["migrate"]["depends_on"]) == {"nats", "postgres"}
    assert set(services["web"]["depends_on"]) == set(APP_SERVICES)  # the APIs it reads
    assert set(services["proxy"]["depends_on"]) == set(PUBLISHED)


def test_only_the_proxy_publishes_ports_so_every_service_scales(
    services: dict[str, Any],
) -> None:
    for name, service in services.items():
        assert "container_name" not in service, name  # a fixed name cannot be scaled
        if name != "proxy":
            assert "ports" not in service, f"{name} publishes a host port"
    published = [p.rsplit(":", 2)[-2:] for p in services["proxy"]["ports"]]
    assert published == [[str(port)] * 2 for port in PUBLISHED.values()]
    nginx = NGINX.read_text()
    for service, port in PUBLISHED.items():
        assert f"server {service}:8000 resolve;" in nginx  # every replica, found again
        server = nginx_server(port)
        assert f"proxy_pass http://{service};" in server
        assert f"proxy_pass http://{service};" in nginx_block(server, "location /")


def test_the_proxy_passes_the_websites_live_stream_on_at_once(services: dict[str, Any]) -> None:
    """`/live` (Server-Sent Events): not buffered by nginx, held open past its 60 s default
    read timeout (the website sends a heartbeat every 15 s), like the aggregator's stream."""
    for port, path in ((8000, "/live"), (8003, "/v1/stream")):
        live = nginx_block(nginx_server(port), f"location = {path}")
        assert re.search(r"^\s*proxy_buffering off;", live, re.M), path
        timeout = re.search(r"^\s*proxy_read_timeout (\d+)([smh]);", live, re.M)
        assert timeout is not None, path
        seconds = int(timeout[1]) * {"s": 1, "m": 60, "h": 3600}[timeout[2]]
        assert seconds >= 600, path
        assert f"proxy_pass http://{'web' if port == 8000 else 'aggregator'};" in live
    pages = nginx_block(nginx_server(8000), "location /")
    assert "proxy_buffering" not in pages  # the pages themselves are buffered as usual


def test_forwarded_addresses_are_trusted_only_from_the_projects_own_network(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    """uvicorn believes X-Forwarded-For only from the compose network (where the proxy is), and
    the proxy sets it to the caller's own address instead of adding to what the caller sent."""
    [network] = compose["networks"]["default"]["ipam"]["config"]
    subnet = network["subnet"]
    default = re.fullmatch(r"\$\{WARROOM_SUBNET:-([0-9./]+)\}", subnet)
    assert default is not None, subnet
    assert ipaddress.ip_network(default[1]).is_private
    for name in (*APP_SERVICES, "relay", "migrate", "web"):
        assert services[name]["environment"]["FORWARDED_ALLOW_IPS"] == subnet, name
    assert nginx_proxy_header("X-Forwarded-For") == "$remote_addr"


def test_the_relay_runs_on_its_own(services: dict[str, Any]) -> None:
    assert services["reporting"]["environment"]["WARROOM_RELAY_ENABLED"] == "false"
    assert services["relay"]["command"] == ["relay"]


def test_each_container_is_its_own_nats_user_and_database_role(
    services: dict[str, Any],
) -> None:
    for name, user in NATS_USER.items():
        env = services[name]["environment"]
        variable = render.password_variable(user)
        assert env["WARROOM_NATS_URL"].startswith(f"nats://{user}:${{{variable}:?"), name
        assert env["WARROOM_NATS_URL"].endswith("@nats:4222"), name
        role = {"migrate": None, "relay": "reporting"}.get(name, name)
        if role is None:  # migrate: each service's migrations as that service's role
            for service in APP_SERVICES:
                url = env[f"WARROOM_{service.upper()}_DATABASE_URL"]
                assert re.fullmatch(
                    rf"postgresql://{service}:\$\{{{service.upper()}_DB_PASSWORD:\?[^}}]+\}}"
                    rf"@postgres:5432/{service}",
                    url,
                ), url
            continue
        assert env["WARROOM_DATABASE_URL"].startswith(f"postgresql://{role}:${{"), name
        assert env["WARROOM_DATABASE_URL"].endswith(f"@postgres:5432/{role}"), name


def test_the_website_has_no_database_or_nats_user_and_reads_the_apis_inside(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    web = services["web"]
    assert web["command"] == ["web"]
    env = web["environment"]
    for shared in (compose["x-env"], env):  # nothing inherited either
        assert not [v for v in shared if "DATABASE" in v or "NATS" in v]
    assert not re.search(r"_DB_PASSWORD|_NATS_PASSWORD|postgres(ql)?:|nats:", json.dumps(env))
    for service in APP_SERVICES:
        assert env[f"WARROOM_{service.upper()}_URL"] == f"http://{service}:8000", service
    assert env["WARROOM_SESSION_SECRET"] == (
        "${WARROOM_SESSION_SECRET:?set it in .env (see .env.example)}"
    )
    assert env["WARROOM_LIVE_TOKEN"] == "${WARROOM_LIVE_TOKEN:-}"  # optional: empty is unset
    for name in OPTIONAL_SECRETS:  # a public client has no secret; a trial, no provider
        assert env[name] == f"${{{name}:-}}", name
    assert env["WARROOM_OIDC_ISSUER"] == "${WARROOM_OIDC_ISSUER:-}"
    assert env["WARROOM_ENVIRONMENT"] == "${WARROOM_ENVIRONMENT:-production}"
    # the same public headline on the website and the aggregator's API
    public = compose["x-env"]["WARROOM_PUBLIC_NATIONAL_TOTALS"]
    assert services["aggregator"]["environment"]["WARROOM_PUBLIC_NATIONAL_TOTALS"] == public
    assert env["WARROOM_PUBLIC_NATIONAL_TOTALS"] == public


def test_nats_gets_the_generated_users_and_every_password(services: dict[str, Any]) -> None:
    nats = services["nats"]
    mounted = {v.split(":")[0]: v.split(":")[1] for v in nats["volumes"] if v.startswith("./")}
    assert mounted["./deploy/compose/nats-auth.conf"] == "/etc/nats/nats-auth.conf"
    assert mounted["./deploy/compose/nats.conf"] == "/etc/nats/nats.conf"
    referenced = set(re.findall(r"password: \$([A-Z_]+)", render.render()))
    assert referenced == {render.password_variable(u.name) for u in nats_users.USERS}
    for variable in referenced:
        assert nats["environment"][variable].startswith(f"${{{variable}:?"), variable


def test_no_secret_is_written_in_the_file_and_every_one_is_required() -> None:
    text = COMPOSE.read_text()
    required = set(re.findall(r"\$\{([A-Z_]+):\?", text))
    assert {
        "POSTGRES_PASSWORD",
        "REGISTRY_DB_PASSWORD",
        "PROVISIONER_NATS_PASSWORD",
        "WARROOM_SESSION_SECRET",
    } <= required
    for variable in re.findall(r"\$\{([A-Z_]+)", text):
        if ("PASSWORD" in variable or "SECRET" in variable) and variable not in OPTIONAL_SECRETS:
            assert variable in required, f"{variable} has a default"
    example = (ROOT / ".env.example").read_text()
    given = dict(re.findall(r"^([A-Z_]+)=(.*)$", example, re.MULTILINE))
    assert required <= set(given), "every required variable is in .env.example"
    assert all(given[v] == "" for v in required), ".env.example holds no password"
    assert given["WARROOM_LIVE_TOKEN"] == ""
    assert all(given[v] == "" for v in OPTIONAL_SECRETS)


def test_postgres_gets_a_role_per_service(services: dict[str, Any]) -> None:
    postgres = services["postgres"]
    assert "./deploy/postgres/roles.sql:/warroom/roles.sql:ro" in postgres["volumes"]
    init = (DEPLOY / "compose" / "postgres-init.sh").read_text()
    assert "for service in registry reporting aggregator; do" in init
    assert (DEPLOY / "compose" / "postgres-init.sh").stat().st_mode & 0o111  # executed, not sourced
    for service in APP_SERVICES:
        assert f"{service.upper()}_DB_PASSWORD" in postgres["environment"]


def test_the_image_is_multi_stage_non_root_pinned_and_health_checked() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.MULTILINE)) >= 2
    assert re.search(r"^USER 10001", dockerfile, re.MULTILINE)
    assert "HEALTHCHECK" in dockerfile
    assert "pip install -c constraints.txt" in dockerfile
    assert 'ENTRYPOINT ["warroom-entrypoint"]' in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignored[ignored.index("*") :][:1] == ["*"]  # nothing but what is let in: no .env
    for needed in ("!constraints.txt", "!shared/", "!services/", "!cli/", "!deploy/docker/"):
        assert needed in ignored
    joined = re.sub(r"\\\n\s*", " ", dockerfile)
    for copied in re.findall(r"^COPY (?!--from)(.+) \S+$", joined, re.MULTILINE):
        for source in copied.split():
            assert (ROOT / source).exists(), source


def test_every_service_image_is_the_one_built_here(services: dict[str, Any]) -> None:
    for name in (*NATS_USER, "web"):
        assert services[name]["image"] == "${WARROOM_IMAGE:-warroom:latest}", name
        assert services[name]["build"] == ".", name
        assert services[name]["read_only"] is True, name
    for name in ("nats", "postgres", "proxy"):
        assert re.fullmatch(r"(nats|postgres|nginx):\d+(\.\d+)?-alpine", services[name]["image"])
