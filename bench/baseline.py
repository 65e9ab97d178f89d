"""The baseline of the single-report benchmark: FastAPI that only parses the same JSON."""

from __future__ import annotations

from fastapi import FastAPI, Response

from warroom_reporting.models import ReportIn


def create_app() -> FastAPI:
    app = FastAPI()

    @app.post("/v1/reports", status_code=201)
    async def parse_report(report: ReportIn, response: Response) -> dict[str, str]:
        """Validate the body with the same model as the real endpoint, store nothing."""
        return {"report_id": str(report.report_id)}

    return app
