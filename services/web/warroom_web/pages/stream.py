"""`/live`: the open page's figures as Server-Sent Events (htmx's SSE extension swaps them in)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from warroom_shared.http import Problem
from warroom_shared.security.access import PUBLIC, outside_area
from warroom_web import live
from warroom_web.session import MaybeUser
from warroom_web.settings import WebSettings

router = APIRouter(tags=["live"], include_in_schema=False)


@router.get("/live", response_class=StreamingResponse)
async def get_live(
    _: Annotated[None, Depends(PUBLIC)], request: Request, user: MaybeUser,
    scope: Literal["national", "province", "district"],
    code: Annotated[str, Query(pattern=r"^(TH|[0-9]{2}|[0-9]{4})$")],
    fy: Annotated[int, Query(ge=2560, le=2700)], q: Annotated[int, Query(ge=1, le=4)],
) -> StreamingResponse:  # fmt: skip
    """The headline figures of one area and quarter, each time they change; only of an area
    the signed-in user may see (the nation for anyone where it is public)."""
    settings: WebSettings = request.app.state.settings
    digits = {"national": 2, "province": 2, "district": 4}[scope]
    if len(code) != digits or (scope == "national") != (code == "TH"):
        raise Problem(422, "live_area", scope=scope, code=code)
    public = scope == "national" and settings.public_national_totals
    if user is None and not public:
        raise Problem(401, "signed_out")
    if user is not None and not user.principal.covers(scope, code):
        raise outside_area(scope, code)
    events = live.sse(request.app.state.hub, (scope, code, fy, q), settings.live_interval)
    return StreamingResponse(
        events, media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )  # fmt: skip
