"""OTLP/HTTP receiver: POST /v1/logs, /v1/metrics, /v1/traces (protobuf or JSON, gzip, chunked).

Answers per the OTLP/HTTP spec: 200 with an ExportServiceResponse once the rows are written; 400 for
a body that cannot be parsed; 413 over the size limit; 415 for an unknown content type; 503 (with
Retry-After) when the store cannot take the write, which clients retry. Errors carry a
google.rpc.Status in the client's encoding.
"""

from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from ...errors import PayloadTooLarge, TelemetryError
from ...ingest import body_to_batch, export_response
from ...ingest.decode import JSON_TYPES, media_type
from ..deps import SettingsDep, WriterDep

router = APIRouter(tags=["otlp"])

# google.rpc.Code for each HTTP status we answer with
_GRPC_CODES = {400: 3, 413: 8, 415: 3, 503: 14, 500: 13}


async def read_body(request: Request, limit: int) -> bytes:
    """Read the whole body, with or without Content-Length, refusing more than ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body of {declared} bytes is over the {limit}-byte limit")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def status_body(status: int, message: str, content_type: str | None) -> tuple[bytes, str]:
    code = _GRPC_CODES.get(status, 2)
    if media_type(content_type) in JSON_TYPES:
        return json.dumps({"code": code, "message": message}).encode(), "application/json"
    raw = message.encode()
    return bytes([0x08, code, 0x12]) + _varint(len(raw)) + raw, "application/x-protobuf"


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


async def _export(signal: str, request: Request, settings, writer) -> Response:
    content_type = request.headers.get("content-type")
    try:
        body = await read_body(request, settings.max_body_bytes)
        batch = await run_in_threadpool(
            body_to_batch, signal, body, content_type, request.headers.get("content-encoding"), settings.max_body_bytes
        )
        await asyncio.wait_for(asyncio.wrap_future(writer.submit(batch)), timeout=30)
    except TelemetryError as exc:
        payload, media = status_body(exc.status, exc.message, content_type)
        headers = {"Retry-After": "5"} if exc.status == 503 else None
        return Response(payload, status_code=exc.status, media_type=media, headers=headers)
    except asyncio.TimeoutError:
        payload, media = status_body(503, "the store did not take the write in time", content_type)
        return Response(payload, status_code=503, media_type=media, headers={"Retry-After": "5"})
    payload, media = export_response(signal, content_type)
    return Response(payload, media_type=media)


@router.post("/v1/logs", summary="OTLP/HTTP logs export")
async def export_logs(request: Request, settings: SettingsDep, writer: WriterDep) -> Response:
    return await _export("logs", request, settings, writer)


@router.post("/v1/metrics", summary="OTLP/HTTP metrics export")
async def export_metrics(request: Request, settings: SettingsDep, writer: WriterDep) -> Response:
    return await _export("metrics", request, settings, writer)


@router.post("/v1/traces", summary="OTLP/HTTP traces export")
async def export_traces(request: Request, settings: SettingsDep, writer: WriterDep) -> Response:
    return await _export("traces", request, settings, writer)
