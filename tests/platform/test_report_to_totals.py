"""From a village the registry designates and POSTs to the reporting service to the aggregator's
totals, on real NATS and PostgreSQL."""

import asyncio

from tests.utils.apps import serve
from tests.utils.factories import report
from warroom_aggregator.app import create_app as create_aggregator
from warroom_aggregator.prepare import prepare as prepare_aggregator
from warroom_aggregator.settings import AggregatorSettings
from warroom_registry.app import create_app as create_registry
from warroom_registry.settings import RegistrySettings
from warroom_reporting.app import create_app as create_reporting
from warroom_reporting.settings import ReportingSettings

WHO = {"name": "ผู้ตรวจ", "position": "ปลัดอำเภอ"}


async def test_posted_reports_show_in_totals(
    reporting_settings: ReportingSettings,
) -> None:
    aggregator_settings = AggregatorSettings(
        database_url=reporting_settings.database_url, nats_url=reporting_settings.nats_url
    )
    await prepare_aggregator(aggregator_settings)
    reporting_app = create_reporting(reporting_settings)
    registry_settings = RegistrySettings(
        database_url=reporting_settings.database_url, nats_url=reporting_settings.nats_url
    )
    query = {"scope": "district", "code": "1201", "fiscal_year": 2568, "quarter": 2}
    async with (
        serve(create_registry(registry_settings)) as registry,
        serve(reporting_app) as reporting,
        serve(create_aggregator(aggregator_settings)) as totals,
    ):
        await asyncio.wait_for(reporting_app.state.directory.ready.wait(), 10)
        designated = await registry.put(  # the factory's village 3 of Suan Yai, for FY 2568
            "/v1/districts/1201/villages/2568/120101", json={"village_no": 3, "name": "บ้านสวนใหญ่"}
        )
        assert designated.status_code == 200, designated.text
        async with asyncio.timeout(10):  # the directory entry reaches the reporting service
            while not reporting_app.state.directory.designated("1201", 2568, "120101", 3):
                await asyncio.sleep(0.01)
        bodies = [report(), report(), report(programme="sustainable_village")]
        for body in bodies:
            assert (await reporting.post("/v1/reports", json=body)).status_code == 201
        amended = {k: v for k, v in bodies[0].items() if k != "report_id"} | {"households": 100}
        r = await reporting.put(
            f"/v1/reports/{bodies[0]['report_id']}", json=amended, headers={"If-Match": '"1"'}
        )
        assert r.status_code == 200
        r = await reporting.request(
            "DELETE",
            f"/v1/reports/{bodies[1]['report_id']}",
            json={"reason": "ซ้ำ", "retracted_by": WHO},
        )
        assert r.status_code == 200

        async with asyncio.timeout(10):
            while True:
                answer = await totals.get(
                    "/v1/totals", params=query
                )  # 503 until it has the directory
                figures = answer.json() if answer.status_code == 200 else {}
                if figures.get("reports") == 2 and figures.get("households") == 112:
                    break
                await asyncio.sleep(0.02)
        assert figures["participants"]["people"] == 80
        counts = (
            await reporting.get("/v1/reports:counts", params={"fiscal_year": 2568, "quarter": 2})
        ).json()
        assert sum(row["reports"] for row in counts["rows"]) == figures["reports"]
