"""The baseline for bench.gate: a bare FastAPI app with one async POST endpoint.

It parses a small JSON body shaped like a check and answers a small JSON, with no store,
no authentication and no middleware, so its rate is what FastAPI and uvicorn cost alone.
"""

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class CheckBody(BaseModel):
    customer_id: str
    channel: str
    purpose: str
    source: str


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/v1/checks")
async def check(body: CheckBody) -> dict[str, str]:
    return {"customer_id": body.customer_id, "decision": "allow"}
