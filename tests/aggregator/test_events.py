import json
import typing
import uuid

import pytest

from tests.aggregator.events import Reports, amended, figures, retracted, submitted
from warroom_aggregator.events import (
    FACET_BITS,
    IGNORED_PROGRAMMES,
    KNOWN_TYPES,
    Poison,
    ProgrammeCode,
    deltas,
    parse,
)
from warroom_shared.domain import Programme, Stage
from warroom_shared.events import REPORT_EVENTS


def test_parse_knows_every_report_event_type() -> None:
    assert set(REPORT_EVENTS) == KNOWN_TYPES


def test_parse_report_lives_gives_commutative_deltas() -> None:
    reports = Reports()
    report_id = reports.submit()
    reports.amend(report_id)
    reports.retract(report_id)

    signs = [[s for _, s in deltas(parse(e.model_dump_json().encode()))] for e in reports.envelopes]

    assert signs == [[1], [-1, 1], [-1]]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"quarter": 5}, "quarter"),
        ({"district_code": "1001", "province_code": "50"}, "district_code is not in province"),
        ({"district_code": "1001\n"}, "district_code"),
        ({"province_code": "10\n", "district_code": "1001"}, "province_code"),
        ({"dimensions": []}, "dimensions"),
        ({"programme": "party"}, "programme"),
        ({"participants": {"government": -1}}, "participants"),
        ({"households": 2**31}, "households"),
        ({"stages": ["dance"]}, "stages"),
        ({"month": 13}, "month"),
        ({"received_on": "15/01/2025"}, "received_on"),
        ({"subdistrict_code": "500101"}, "subdistrict_code is not in district"),
    ],
)
def test_parse_invalid_figures_gives_poison_with_reason(
    change: dict[str, object], reason: str
) -> None:
    body = submitted(uuid.uuid4(), figures()).model_dump(mode="json")
    body["data"]["figures"].update(change)

    with pytest.raises(Poison, match=reason):
        parse(json.dumps(body).encode())


def test_parse_ignores_unknown_fields_and_missing_sectors() -> None:
    body = submitted(uuid.uuid4(), figures(households=4)).model_dump(mode="json")
    body["data"]["figures"]["participants"] = {"media": 3}
    body["data"]["figures"]["added_later"] = {"any": "thing"}
    body["extension"] = "cloudevents allows it"

    (only, sign), *_ = deltas(parse(json.dumps(body).encode()))

    assert sign == 1
    assert only.row(sign)[6:14] == (4, 0, 0, 0, 0, 0, 0, 3)


def test_parse_programmes_are_the_contracts_and_the_ignored() -> None:
    assert set(typing.get_args(ProgrammeCode)) == {p.value for p in Programme} | IGNORED_PROGRAMMES


def test_parse_event_without_added_fields_counts_under_no_stage_and_unknown_month() -> None:
    body = submitted(uuid.uuid4(), figures(district="5001")).model_dump(mode="json")
    for added in ("stages", "month", "subdistrict_code", "village_no", "received_on"):
        del body["data"]["figures"][added]

    ((only, sign),) = deltas(parse(json.dumps(body).encode()))

    mask, month, subdistrict, village, received_on = only.row(sign)[5], *only.row(sign)[14:]
    assert mask & sum(FACET_BITS[f"stage:{s.value}"] for s in Stage) == 0
    assert (month, subdistrict, village, received_on) == (0, None, None, None)


def test_parse_best_practice_event_moves_nothing() -> None:
    """Best practice was a programme once: its old events parse (no dead letter), count nowhere."""
    report_id = uuid.uuid4()
    story = submitted(report_id, figures()).model_dump(mode="json")
    story["data"]["figures"]["programme"] = "best_practice"
    moved = amended(report_id, 2, figures(), figures()).model_dump(mode="json")
    moved["data"]["old"]["programme"] = "best_practice"
    gone = retracted(report_id, 3, figures()).model_dump(mode="json")
    gone["data"]["old"]["programme"] = "best_practice"

    signs = [[s for _, s in deltas(parse(json.dumps(e).encode()))] for e in (story, moved, gone)]

    assert signs == [[], [1], []]
