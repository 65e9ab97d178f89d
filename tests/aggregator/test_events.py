import json
import uuid

import pytest

from tests.aggregator.events import Reports, figures, submitted
from warroom_aggregator.events import KNOWN_TYPES, Poison, deltas, parse
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
    assert only.row(sign)[6:] == (4, 0, 0, 0, 0, 0, 0, 3)
