"""The AsyncAPI document: the committed copy is what the event models generate, it hangs
together (every reference resolves, every operation's message is its channel's), each service
serves it, and what the code publishes matches it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from warroom_aggregator.app import create_app as create_aggregator
from warroom_aggregator.changes import payload
from warroom_aggregator.settings import AggregatorSettings
from warroom_registry.app import create_app as create_registry
from warroom_registry.settings import RegistrySettings
from warroom_reporting.app import create_app as create_reporting
from warroom_reporting.settings import ReportingSettings
from warroom_shared import asyncapi
from warroom_shared.events import REPORT_EVENTS, TotalsUpdated

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.json"


def test_the_committed_document_is_what_the_event_models_generate() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == asyncapi.text(), (
        "docs/asyncapi.json is stale: run `warroom asyncapi` (or `make asyncapi`)"
    )


def test_warroom_asyncapi_check_fails_on_a_stale_copy(tmp_path: Path) -> None:
    stale = tmp_path / "asyncapi.json"
    stale.write_text("{}\n")
    warroom = str(Path(sys.executable).parent / "warroom")

    refused = subprocess.run([warroom, "asyncapi", "--output", str(stale), "--check"], check=False)
    written = subprocess.run([warroom, "asyncapi", "--output", str(stale)], check=False)
    passed = subprocess.run([warroom, "asyncapi", "--output", str(stale), "--check"], check=False)

    assert (refused.returncode, written.returncode, passed.returncode) == (1, 0, 0)
    assert stale.read_text(encoding="utf-8") == asyncapi.text()


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_the_document_hangs_together() -> None:
    doc = asyncapi.document()

    assert doc["asyncapi"] == "3.0.0"
    for ref in _refs(doc):
        _resolve(doc, ref)  # raises if it does not resolve
    for name, operation in doc["operations"].items():
        assert operation["action"] in ("send", "receive"), name
        channel = operation["channel"]["$ref"]
        for message in operation["messages"]:
            assert message["$ref"].startswith(channel + "/messages/"), name
    for channel in doc["channels"].values():
        for parameter in channel.get("parameters", {}):
            assert "{" + parameter + "}" in channel["address"]
    addresses = {c["address"] for c in doc["channels"].values()}
    for event in REPORT_EVENTS.values():
        assert f"warroom.report.{event.NAME}.{{province}}.{{district}}" in addresses
    assert {"warroom.totals.updated.{scope}.{code}", "warroom.deadletter.aggregator"} <= addresses


@pytest.mark.parametrize(
    ("factory", "settings"),
    [
        (create_registry, RegistrySettings),
        (create_reporting, ReportingSettings),
        (create_aggregator, AggregatorSettings),
    ],
)
async def test_each_service_serves_it_without_a_token(factory: Any, settings: Any) -> None:
    app = factory(settings())  # no lifespan: the document needs no database nor NATS
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await client.get("/asyncapi.json")

    assert answer.status_code == 200
    assert answer.json() == asyncapi.document()


def test_a_totals_update_as_the_aggregator_builds_it_matches_its_model() -> None:
    row = {
        "scope": "province", "code": "10", "fiscal_year": 2568, "quarter": 2, "reports": 3,
        "households": 12, "p_government": 1, "p_private": 2, "p_religious": 0,
        "p_civil_society": 0, "p_academic": 0, "p_people": 40, "p_media": 1,
    }  # fmt: skip
    built = payload(row)  # type: ignore[arg-type]
    body = TotalsUpdated.model_validate_json(built)

    assert set(json.loads(built)) == set(TotalsUpdated.model_fields)
    assert body.participants_total == 44
