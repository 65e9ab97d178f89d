import json

import httpx
from nats.aio.client import Client as NATS

from tests.utils.factories import member
from tests.utils.nats import collect
from warroom_shared.events import DirectoryDistrict, Envelope
from warroom_shared.messaging import DISTRICTS_BUCKET

PERSONAL = ("สมชาย", "081-234-5678", "somchai@example.go.th")


async def test_team_events_reach_jetstream_without_personal_data(
    registry: httpx.AsyncClient, nc: NATS
) -> None:
    team = (
        await registry.post("/v1/teams", json={"district_code": "5025", "fiscal_year": 2569})
    ).json()
    url = f"/v1/teams/{team['id']}/members/people_leader"
    await registry.put(url, json=member(), headers={"If-Match": '"1"'})
    await registry.delete(url, headers={"If-Match": '"2"'})

    events = await collect(nc, "REGISTRY", "warroom.registry.team.>", 3)

    assert [s for s, _, _ in events] == [
        "warroom.registry.team.created.50.5025",
        "warroom.registry.team.member_assigned.50.5025",
        "warroom.registry.team.member_removed.50.5025",
    ]
    envelopes = [Envelope.model_validate(body) for _, body, _ in events]
    assert [e.type for e in envelopes] == [
        "th.go.dopa.warroom.registry.team.created.v1",
        "th.go.dopa.warroom.registry.team.member_assigned.v1",
        "th.go.dopa.warroom.registry.team.member_removed.v1",
    ]
    assert all(e.specversion == "1.0" and e.source == "/warroom/registry" for e in envelopes)
    assert all(
        headers["Nats-Msg-Id"] == str(e.id)
        for e, (_, _, headers) in zip(envelopes, events, strict=True)
    )
    assigned = envelopes[1].data
    assert assigned["role"] == "people_leader"
    assert assigned["sector"] == "people"
    assert assigned["completeness"]["roles_filled"] == 1
    assert envelopes[2].data["completeness"]["roles_filled"] == 0
    raw = json.dumps([body for _, body, _ in events], ensure_ascii=False)
    assert not any(p in raw for p in PERSONAL)


async def test_district_directory_is_published_to_kv(registry: httpx.AsyncClient, nc: NATS) -> None:
    js = nc.jetstream()
    kv = await js.key_value(DISTRICTS_BUCKET.bucket)
    # The bucket's subjects, read from the stream: nats-py's `kv.keys()` can find its watch
    # caught up before the first key arrives, and answer "no keys" for a full bucket.
    info = await js.stream_info(f"KV_{DISTRICTS_BUCKET.bucket}", subjects_filter=">")
    keys = {s.removeprefix(f"$KV.{DISTRICTS_BUCKET.bucket}.") for s in info.state.subjects or {}}
    assert len(keys) == 928
    assert "1001" in keys
    entry = DirectoryDistrict.model_validate_json((await kv.get("1001")).value or b"")
    assert entry.province_code == "10"
    assert entry.kind == "khet"
    assert entry.province_name_en == "Bangkok"
    assert "100101" in entry.subdistricts
    assert all(code.startswith("1001") for code in entry.subdistricts)
    assert entry.in_programme is False  # Bangkok's khet, unless an operator includes them
    assert entry.designated_villages == {}
    amphoe = DirectoryDistrict.model_validate_json((await kv.get("5001")).value or b"")
    assert amphoe.in_programme is True
