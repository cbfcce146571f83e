"""The OpenAPI description of the JSON API, served from the package (works offline)."""
from __future__ import annotations

from typing import Any

_CASE_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"$ref": "/api/schema"}},
        "application/yaml": {"schema": {"type": "string", "description": "a case file's YAML text"}},
    },
}
_ERROR = {"description": "bad input: the same field-level message as the CLI (file <request>, field, line, fix)",
          "content": {"application/json": {"schema": {"type": "object", "properties": {
              "error": {"type": "string"},
              "problems": {"type": "array", "items": {"type": "object", "properties": {
                  "path": {"type": "string"}, "message": {"type": "string"}, "fix": {"type": "string"},
                  "line": {"type": ["integer", "null"]}}}}}}}}}
_WITH_CASE = {"case": {"description": "the case as a JSON object", "type": "object"},
              "case_yaml": {"description": "or the case as YAML text", "type": "string"}}


def spec(version: str) -> dict[str, Any]:
    def op(summary: str, body: dict | None = None, ok: str = "the answer", params: list | None = None) -> dict:
        o: dict[str, Any] = {"summary": summary, "responses": {"200": {"description": ok},
                                                                "422": _ERROR, "413": {"description": "request too large"},
                                                                "503": {"description": "the per-request time limit was exceeded"}}}
        if body is not None:
            o["requestBody"] = body
        if params:
            o["parameters"] = params
        return o

    def json_body(props: dict, required: list[str]) -> dict:
        return {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "properties": {**_WITH_CASE, **props}, "required": required}}}}

    return {
        "openapi": "3.1.0",
        "info": {"title": "exportkb", "version": version,
                 "description": "US export controls on advanced AI as rules-as-code: determinations with cited proofs. "
                                "Every answer is the one the `exportkb` CLI gives for the same case."},
        "paths": {
            "/api/check": {"post": op("Determine a case: exactly the `exportkb check --json` object", _CASE_BODY)},
            "/api/explain": {"post": op(
                "Why / why-not proofs: the proof JSON `exportkb verify` accepts (one object for a goal, a list otherwise)",
                json_body({"goal": {"type": "string", "example": "exception_available(gpus, lpp)"},
                           "mode": {"enum": ["auto", "why", "why_not"]}, "item": {"type": "string"},
                           "depth": {"type": "integer", "minimum": 0, "maximum": 12}}, []))},
            "/api/whatif": {"post": op(
                "What-if rows: one per scenario x item, as `exportkb whatif`",
                json_body({"axes": {"type": "object", "example": {"to": ["IN", "DE", "CN"]},
                                    "description": "case field -> list of values, or \"ALL\""}}, ["axes"]))},
            "/api/screen": {"post": op(
                "Restricted-party screening against the server's configured list (`serve --list FILE` or "
                "$EXPORTKB_LIST; a request never names a file): one result per party, as `exportkb screen` jsonl",
                json_body({"parties": {"type": "array", "maxItems": 1000, "items": {"type": "object", "properties": {
                    "id": {"type": "string"}, "name": {"type": "string"}, "address": {"type": "string"},
                    "country": {"type": "string"}, "aliases": {"type": "array", "items": {"type": "string"}}}}},
                           "threshold": {"type": "number", "minimum": 0, "maximum": 1}}, ["parties"]))},
            "/api/provisions": {"get": op("Every provision of the KB: id, citation, reading, source, file:line")},
            "/api/provisions/{rule_id}": {"get": op(
                "One provision, its statements and the regression cases in which it fires",
                params=[{"name": "rule_id", "in": "path", "required": True, "schema": {"type": "string"}}])},
            "/api/schema": {"get": op("The JSON Schema of the case format")},
            "/healthz": {"get": op("Liveness: the KB version loaded")},
        },
    }
