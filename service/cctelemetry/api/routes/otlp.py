"""OTLP/HTTP receiver: POST /v1/logs, /v1/metrics, /v1/traces (protobuf or JSON, gzip, chunked).

Answers per the OTLP/HTTP spec: 200 with an ExportServiceResponse once the rows are written, with
``partial_success`` when the ingest policy cut or dropped values (ingest/policy.py); 400 for a body that
cannot be parsed; 413 over the size limits (bytes, items); 415 for an unknown content type; 429 (the write
queue is full) and 503 (the store cannot take the write), both with Retry-After, which clients retry.
Errors carry a google.rpc.Status in the client's encoding.
"""

from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from ...errors import PayloadTooLarge, TelemetryError
from ...ingest import export_response, response_for, submit_body
from ...ingest.decode import JSON_TYPES, media_type
from ..deps import PolicyDep, SettingsDep, WriterDep

router = APIRouter(tags=["otlp"])

# google.rpc.Code for each HTTP status we answer with
_GRPC_CODES = {400: 3, 401: 16, 403: 7, 413: 8, 415: 3, 429: 8, 503: 14, 500: 13}
RETRY_AFTER_S = "5"


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


async def _export(signal: str, request: Request, settings, writer, policy) -> Response:
    content_type = request.headers.get("content-type")
    try:
        body = await read_body(request, settings.max_body_bytes)
        written = await run_in_threadpool(submit_body, writer, signal, body, content_type,
                                          request.headers.get("content-encoding"), settings.max_body_bytes, policy,
                                          settings.max_json_depth)  # fmt: skip
        mapped = await asyncio.wait_for(asyncio.wrap_future(written), timeout=30)
    except TelemetryError as exc:
        return error_response(exc.status, exc.message, content_type)
    except TimeoutError:
        return error_response(503, "the store did not take the write in time", content_type)
    payload, media = export_response(signal, content_type, response_for(signal, mapped))
    return Response(payload, media_type=media)


def error_response(status: int, message: str, content_type: str | None) -> Response:
    """A google.rpc.Status in the client's encoding; Retry-After where the client should retry."""
    payload, media = status_body(status, message, content_type)
    headers = {"Retry-After": RETRY_AFTER_S} if status in (429, 503) else None
    return Response(payload, status_code=status, media_type=media, headers=headers)


@router.post("/v1/logs", summary="OTLP/HTTP logs export")
async def export_logs(request: Request, settings: SettingsDep, writer: WriterDep, policy: PolicyDep) -> Response:
    return await _export("logs", request, settings, writer, policy)


@router.post("/v1/metrics", summary="OTLP/HTTP metrics export")
async def export_metrics(request: Request, settings: SettingsDep, writer: WriterDep, policy: PolicyDep) -> Response:
    return await _export("metrics", request, settings, writer, policy)


@router.post("/v1/traces", summary="OTLP/HTTP traces export")
async def export_traces(request: Request, settings: SettingsDep, writer: WriterDep, policy: PolicyDep) -> Response:
    return await _export("traces", request, settings, writer, policy)
