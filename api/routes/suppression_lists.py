"""Suppression lists: load a copy (CSV or NDJSON), see what is loaded, remove one."""

from collections.abc import Iterator
from typing import Annotated, Any

import anyio.from_thread
from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.deps import CurrentCaller, ServicesDep, actor_of, utc_now
from api.errors import ApiProblem, problem
from api.schemas.base import IsoDate
from api.schemas.suppression import (
    ListLoaded,
    ListName,
    ListOut,
    ListRemoved,
    Region,
    RejectedLine,
)
from consent.errors import NotFoundError
from consent.list_reading import ListFormat, ReadEntries, read_entries
from consent.store.database import read_transaction
from consent.suppression import (
    DEFAULT_REGIONS,
    drop_list,
    latest_source_date,
    loaded_lists,
    refuse_reserved,
    replace_list,
)

router = APIRouter(prefix="/v1/suppression-lists", tags=["suppression lists"])
ListPath = Annotated[
    ListName,
    Path(
        description="internal_dnc, national_dnc, lista_robinson, ca_national_dncl, uk_tps, or "
        "a name of your own"
    ),
]

_REGION_DOC = (
    "Country a number without +prefix is read in (default: US for national_dnc, ES for "
    "lista_robinson, CA for ca_national_dncl, GB for uk_tps, none otherwise)"
)
_FORMATS = {
    "text/csv": ListFormat.CSV,
    "application/x-ndjson": ListFormat.NDJSON,
    "application/ndjson": ListFormat.NDJSON,
}
_LIST_BODY = {
    "requestBody": {
        "required": True,
        "description": "One identifier a line. CSV: a header naming phone, email and "
        "optionally listed_on (YYYY-MM-DD), or no header and one identifier a line (the "
        "registry's 'area code,number' lines too). NDJSON: one object a line, "
        '{"phone": "+12025550123"} or {"email": "ana@example.com"}, with listed_on.',
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}


@router.put(
    "/{list_name}",
    response_model=ListLoaded,
    openapi_extra=_LIST_BODY,
    responses={201: {"model": ListLoaded, "description": "A list loaded for the first time"}},
)
def put_list(
    list_name: ListPath,
    source_date: Annotated[
        IsoDate, Query(description="The date of the copy, e.g. the registry download's")
    ],
    request: Request,
    caller: CurrentCaller,
    svc: ServicesDep,
    response: Response,
    region: Annotated[Region | None, Query(description=_REGION_DOC)] = None,
) -> Any:
    """Replace the list with this copy. Lines that cannot be read are listed, not loaded.
    `erased_customers` is kept by the gate itself (409 `list-reserved`)."""
    refuse_reserved(list_name)  # before the body is read: it may be millions of lines
    list_format = _format(request)
    now = utc_now()
    if source_date > latest_source_date(now):
        raise RequestValidationError(
            [{"loc": ("query", "source_date"), "msg": "is in the future", "type": "value_error"}]
        )
    region = region or DEFAULT_REGIONS.get(list_name)
    read = read_entries(_body(request), list_format, svc.keyring, region)
    try:
        if read.unreadable:
            return _unreadable(read)
        loaded = replace_list(
            svc.engine,
            list_name,
            source_date,
            read,
            actor_of(caller),
            now,
            list_format=list_format,
            region=region,
        )
    finally:
        read.close()
    if loaded.created:
        response.status_code = status.HTTP_201_CREATED
    copy = loaded.copy
    return ListLoaded(
        list=copy.name,
        source_date=copy.source_date,
        entry_count=copy.entry_count,
        entries_read=read.entries,
        content_hash=copy.content_hash,
        loaded_at=copy.loaded_at,
        rejected_count=read.rejected,
        rejected=[RejectedLine(line=r.line, reason=r.reason) for r in read.rejections],
        audit_entry_id=loaded.audit_entry_id,
    )


@router.get("", response_model=list[ListOut])
def get_lists(caller: CurrentCaller, svc: ServicesDep) -> list[ListOut]:
    """Every loaded list: its copy's date, size, and whether it is too old to use now."""
    now = utc_now()
    with read_transaction(svc.engine) as conn:
        found = loaded_lists(conn, svc.policy.rules)
    return [
        ListOut(
            list=item.copy.name,
            source_date=item.copy.source_date,
            entry_count=item.copy.entry_count,
            content_hash=item.copy.content_hash,
            loaded_at=item.copy.loaded_at,
            loaded_by=item.copy.loaded_by,
            max_age=str(item.max_age) if item.max_age is not None else None,
            stale_from=item.stale_from,
            stale=item.stale(now),
        )
        for item in found
    ]


@router.delete("/{list_name}", response_model=ListRemoved)
def delete_list(list_name: ListPath, caller: CurrentCaller, svc: ServicesDep) -> ListRemoved:
    """Remove a list. Rules that need it then deny as they do when it was never loaded.
    `erased_customers` is kept by the gate itself (409 `list-reserved`)."""
    seq = drop_list(svc.engine, list_name, actor_of(caller), utc_now())
    if seq is None:
        raise NotFoundError(f"no suppression list named {list_name}")
    return ListRemoved(audit_entry_id=seq)


def _format(request: Request) -> ListFormat:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    found = _FORMATS.get(media_type)
    if found is None:
        raise ApiProblem(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            "send the list as text/csv or application/x-ndjson",
        )
    return found


def _body(request: Request) -> Iterator[bytes]:
    """The request body chunk by chunk, pulled from the event loop into this worker thread."""
    stream = request.stream().__aiter__()

    async def next_chunk() -> bytes | None:
        try:
            return await stream.__anext__()
        except StopAsyncIteration:
            return None

    while (chunk := anyio.from_thread.run(next_chunk)) is not None:
        yield chunk


def _unreadable(read: ReadEntries) -> JSONResponse:
    """Not one line could be read: nothing is replaced, the copy in force stays."""
    return problem(
        422,
        "suppression-list-unreadable",
        "No line of the list could be read",
        f"{read.rejected} line(s) rejected and none loaded; the list was left as it was",
        rejected_count=read.rejected,
        rejected=[{"line": r.line, "reason": r.reason} for r in read.rejections],
    )
