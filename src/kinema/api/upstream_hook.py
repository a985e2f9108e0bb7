"""POST /upstream/callback/{task_id}: an upstream's callback for a forwarded task (router mode).

It only wakes the poller (kinema.engines.upstream.nudge); the body is ignored, so the answer
is always 204 and a stray or forged call costs one early poll at most.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from kinema.engines.upstream.nudge import CALLBACK_PATH, nudge

router = APIRouter(tags=["router"])


@router.post(CALLBACK_PATH + "/{task_id}", include_in_schema=False)
async def upstream_callback(task_id: str, sig: str = Query("")) -> Response:
    nudge(task_id, sig)
    return Response(status_code=204)
