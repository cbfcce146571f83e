"""The ASGI application: the JSON API and the web pages over one :class:`~exportkb.server.service.Service`.

Why Starlette and hand-written routes: each route is a few lines that turn a request into a
library call and its answer into JSON or a template; the OpenAPI document is the package's own
(:mod:`exportkb.server.openapi`), so nothing is fetched from the network, and no form parser
beyond the standard library is needed. Limits and trust live here, at the edge: the body size
is checked before reading, every error is a JSON/HTML message (never a traceback), and every
response carries a Content-Security-Policy that allows only the package's own script and CSS.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import zlib
from importlib import resources
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable
from urllib.parse import parse_qs, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import escape
from ..budget import BudgetExceeded
from ..case.model import Party
from ..errors import CaseError, ExportKBError
from ..explain.html import CSS as PROOF_CSS
from ..explain.html import cite_links, proof_section
from ..explain.notes import note_groups
from ..kb import KnowledgeBase
from ..version import package_version
from .openapi import spec
from .service import REQUEST_SOURCE, ServerOptions, Service
from .summary import summarize

HERE = Path(str(resources.files(__package__)))
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
MAX_TOKEN_CHARS = 64 * 1024   # a shared URL carries the case compressed; a longer one is refused


class BadRequest(ExportKBError):
    """A request the API cannot read (not JSON, a wrong type, a missing key): 422 with this message."""


# --------------------------------------------------------------------------- case in the URL
def case_token(yaml_text: str) -> str:
    """The case text as a URL-safe token (zlib, base64url): a page's URL carries its whole case."""
    return base64.urlsafe_b64encode(zlib.compress(yaml_text.encode("utf-8"), 9)).decode("ascii").rstrip("=")


def token_text(token: str) -> str:
    if len(token) > MAX_TOKEN_CHARS:
        raise BadRequest(f"{REQUEST_SOURCE}: the case in the URL is over {MAX_TOKEN_CHARS:,} characters "
                         "(fix: paste the case into the form instead)")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        d = zlib.decompressobj()
        out = d.decompress(raw, 1024 * 1024 + 1)
        if len(out) > 1024 * 1024 or d.unconsumed_tail:
            raise BadRequest(f"{REQUEST_SOURCE}: the case in the URL expands to over 1 MB (fix: send a smaller case)")
        return out.decode("utf-8")
    except (ValueError, zlib.error, UnicodeDecodeError):
        raise BadRequest(f"{REQUEST_SOURCE}: the case in the URL cannot be read (fix: open the page from the form "
                         "again; the link may have been cut)") from None


def form_case_yaml(form: dict[str, str]) -> str:
    """The scenario form's fields as a case file (YAML built with the loader's own quoting rules:
    every value a JSON string, so ``NO`` stays Norway and an id stays text)."""
    def q(v: str) -> str:
        return json.dumps(v, ensure_ascii=False)

    def num(v: str, what: str) -> str:
        v = v.strip().replace(",", "").replace("_", "")
        if not v:
            return ""
        if not v.replace(".", "", 1).isdigit():
            raise BadRequest(f"{REQUEST_SOURCE}: {what} = {v!r}: not a number (fix: write digits, e.g. 2000)")
        return v

    lines = [f"case: {q(form.get('case') or 'web-scenario')}", f"date: {q(form.get('date') or '2025-06-01')}",
             f"transaction: {q(form.get('transaction') or 'export')}", f"from: {q(form.get('from') or 'US')}",
             f"to: {q(form.get('to') or '')}"]
    if form.get("end_use"):
        lines.append(f"end_use: {q(form['end_use'])}")
    lines += ["items:", f"  - id: {q(form.get('item_id') or 'item1')}", f"    eccn: {q(form.get('eccn') or '3A090.a')}"]
    for key in ("quantity", "tpp"):
        v = num(form.get(key, ""), f"items[0].{key}")
        if v:
            lines.append(f"    {key}: {v}")
    lines.append("parties:")
    country = form.get("party_country") or form.get("to") or ""
    name = form.get("party_name", "").strip()
    named = "name" in Party.model_fields  # the case format's party name, where this version has it
    lines += [f"  - id: {q(form.get('party_id') or (name if name and not named else 'consignee'))}",
              "    role: ultimate_consignee",
              f"    country: {q(country)}",
              f"    headquarters: {q(form.get('party_hq') or country)}"]
    if name and named:
        lines.append(f"    name: {q(name)}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- errors
def _problems(exc: ExportKBError) -> list[dict[str, Any]]:
    if isinstance(exc, CaseError):
        return [{"path": p.path, "message": p.message, "fix": p.fix, "line": p.line} for p in exc.problems]
    return []


def error_json(exc: Exception) -> JSONResponse:
    if isinstance(exc, BudgetExceeded):
        return JSONResponse({"error": escape.lines(str(exc))}, status_code=503)
    if isinstance(exc, ExportKBError):
        return JSONResponse({"error": escape.lines(str(exc)), "problems": _problems(exc)}, status_code=422)
    return JSONResponse({"error": "internal error (the server's log has the details)"}, status_code=500)


# --------------------------------------------------------------------------- the app
def create_app(kb: KnowledgeBase | None = None, options: ServerOptions | None = None) -> Starlette:
    """The application over *kb* (default: the shipped KB, parsed once here)."""
    service = Service(kb or KnowledgeBase.load(), options or ServerOptions())
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(["html"]),
                      finalize=lambda v: v if isinstance(v, Markup) or not isinstance(v, str) else escape.lines(v))
    env.filters["cites"] = lambda t: Markup(cite_links(t or ""))
    env.globals["version"] = service.kb.version
    limit = service.options.max_body_bytes

    async def body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise TooLarge()
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise TooLarge()
            chunks.append(chunk)
        return b"".join(chunks)

    async def json_body(request: Request) -> dict[str, Any]:
        raw = await body(request)
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequest(f"{REQUEST_SOURCE}: the request body is not JSON ({exc}) (fix: send a JSON object)") from None
        if not isinstance(data, dict):
            raise BadRequest(f"{REQUEST_SOURCE}: the request body is a JSON {type(data).__name__}, not an object "
                             "(fix: send {\"case\": {...}, ...})")
        return data

    def case_of(data: dict[str, Any]):
        if isinstance(data.get("case_yaml"), str):
            return service.read(data["case_yaml"].encode("utf-8"), as_json=False)
        if isinstance(data.get("case"), dict):
            return service.ready_data(data["case"])
        raise BadRequest(f"{REQUEST_SOURCE}: case: missing (fix: give \"case\": {{...}} or \"case_yaml\": \"...\")")

    def api(fn: Callable[[Request], Awaitable[Any]]) -> Callable[[Request], Awaitable[Response]]:
        async def route(request: Request) -> Response:
            try:
                return JSONResponse(await fn(request))
            except TooLarge:
                return JSONResponse({"error": f"request body over {limit:,} bytes (fix: send a smaller case)"},
                                    status_code=413)
            except Exception as exc:  # noqa: BLE001 - every failure is a message, never a traceback
                return error_json(exc)
        return route

    @api
    async def api_check(request: Request) -> Any:
        raw = await body(request)
        ctype = request.headers.get("content-type", "")
        as_json = "json" in ctype or (not ("yaml" in ctype) and raw.lstrip()[:1] in (b"{", b"["))
        r = await run_in_threadpool(service.read, raw, as_json)
        # awaited on the loop, not in a pool thread: the solver thread answers the future
        det = await asyncio.wrap_future(service.submit(r))
        return service.check_json(r, det)

    @api
    async def api_explain(request: Request) -> Any:
        data = await json_body(request)
        r = case_of(data)
        goal, mode, item, depth = data.get("goal"), data.get("mode", "auto"), data.get("item"), data.get("depth")
        if goal is not None and not isinstance(goal, str) or item is not None and not isinstance(item, str):
            raise BadRequest(f"{REQUEST_SOURCE}: goal and item are strings (fix: e.g. \"goal\": \"LPP\", \"item\": \"gpus\")")
        if mode not in ("auto", "why", "why_not"):
            raise BadRequest(f"{REQUEST_SOURCE}: mode = {mode!r}: not a mode (fix: one of auto, why, why_not)")
        if depth is not None and not (isinstance(depth, int) and not isinstance(depth, bool) and 0 <= depth <= 12):
            raise BadRequest(f"{REQUEST_SOURCE}: depth = {depth!r}: give an integer from 0 to 12")
        proofs = await run_in_threadpool(service.explain, r, goal, mode, item, depth)
        data_out = [p.to_json() for p in proofs]
        return data_out[0] if goal else data_out

    @api
    async def api_whatif(request: Request) -> Any:
        data = await json_body(request)
        r = case_of(data)
        rows = await run_in_threadpool(service.whatif, r, data.get("axes"))
        return {"rows": rows}

    @api
    async def api_screen(request: Request) -> Any:
        data = await json_body(request)
        parties, threshold = data.get("parties"), data.get("threshold")
        if not isinstance(parties, list) or not parties:
            raise BadRequest(f"{REQUEST_SOURCE}: parties: missing or empty (fix: \"parties\": "
                             "[{\"id\": \"p1\", \"name\": \"...\", \"address\": \"...\", \"country\": \"CN\"}])")
        if len(parties) > service.options.max_parties:
            raise BadRequest(f"{REQUEST_SOURCE}: parties: {len(parties):,} parties, over the limit of "
                             f"{service.options.max_parties:,} (fix: split the request)")
        if threshold is not None and not (isinstance(threshold, (int, float)) and not isinstance(threshold, bool)
                                          and 0.0 <= threshold <= 1.0):
            raise BadRequest(f"{REQUEST_SOURCE}: threshold = {threshold!r}: give a number from 0 to 1")
        clean = []
        for n, p in enumerate(parties):
            if not isinstance(p, dict):
                raise BadRequest(f"{REQUEST_SOURCE}: parties[{n}]: not an object (fix: {{\"id\": ..., \"name\": ...}})")
            row: dict[str, Any] = {"party_id": p.get("id", f"party{n + 1}")}
            for key in ("name", "address", "country"):
                v = p.get(key, "")
                if not isinstance(v, str):
                    raise BadRequest(f"{REQUEST_SOURCE}: parties[{n}].{key}: {type(v).__name__}, not a string")
                row[key] = v
            aliases = p.get("aliases", [])
            if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
                raise BadRequest(f"{REQUEST_SOURCE}: parties[{n}].aliases: give a list of strings")
            if not isinstance(row["party_id"], str) or not (row["name"] or row["address"]):
                raise BadRequest(f"{REQUEST_SOURCE}: parties[{n}]: give a string id and a name or an address")
            row["aliases"] = tuple(aliases)
            clean.append(row)
        rows = await run_in_threadpool(service.screen, clean, None if threshold is None else float(threshold))
        return {"results": rows}

    @api
    async def api_provisions(request: Request) -> Any:
        return {"kb_version": service.kb.version, "provisions": service.provisions()}

    @api
    async def api_provision(request: Request) -> Any:
        p = await run_in_threadpool(service.provision, request.path_params["rule_id"])
        if p is None:
            raise BadRequest(f"no provision {request.path_params['rule_id']!r} in the knowledge base "
                             "(fix: see GET /api/provisions)")
        return p

    @api
    async def api_schema(request: Request) -> Any:
        return service.schema()

    @api
    async def healthz(request: Request) -> Any:
        return {"status": "ok", "kb_version": service.kb.version}

    @api
    async def openapi(request: Request) -> Any:
        return spec(package_version())

    # ----------------------------------------------------------------------- pages
    def page(name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**ctx), status_code=status)

    def error_page(exc: Exception, token: str | None = None, yaml_text: str = "") -> HTMLResponse:
        if isinstance(exc, TooLarge):
            return page("error.html", 413, message=f"The request is over {limit:,} bytes.", yaml_text="")
        if not isinstance(exc, ExportKBError):
            return page("error.html", 500, message="Internal error (the server's log has the details).", yaml_text="")
        return page("error.html", 503 if isinstance(exc, BudgetExceeded) else 422, message=escape.lines(str(exc)),
                    problems=_problems(exc), yaml_text=yaml_text, token=token)

    async def index(request: Request) -> Response:
        folder = service.examples_dir()
        examples = sorted(p.stem for p in folder.glob("*.yaml")) if folder else []
        ex = request.query_params.get("example")
        text = ""
        if ex and ex in examples:
            text = (folder / f"{ex}.yaml").read_text(encoding="utf-8")
        return page("index.html", examples=examples, yaml_text=text,
                    countries=sorted(service.kb.countries.items()),
                    end_uses=service.kb.values("end_use_value"),
                    transactions=service.kb.values("transaction_kind"), eccns=sorted(service.kb.eccns))

    async def submit(request: Request) -> Response:
        try:
            raw = await body(request)
            form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}
            text = form.get("yaml", "").strip() and form["yaml"] or form_case_yaml(form)
            return RedirectResponse("/result?" + urlencode({"c": case_token(text)}), status_code=303)
        except Exception as exc:  # noqa: BLE001
            return error_page(exc)

    def ready_from_token(request: Request):
        token = request.query_params.get("c", "")
        if not token:
            raise BadRequest(f"{REQUEST_SOURCE}: no case in the URL (fix: start from the form)")
        text = token_text(token)
        return token, text

    async def result(request: Request) -> Response:
        token, text = "", ""
        try:
            token, text = ready_from_token(request)
            r = await run_in_threadpool(service.read, text.encode("utf-8"), False)
            det = await run_in_threadpool(service.check, r)
            proofs = await run_in_threadpool(service.explain, r, None)
        except Exception as exc:  # noqa: BLE001
            return error_page(exc, token, text)
        s = summarize(r.kb, det)
        sections = [Markup(proof_section(p, open_levels=1)) for p in proofs]
        return page("result.html", det=det, s=s, notes=note_groups(service.kb, det.get("notes") or []), token=token, yaml_text=text, sections=sections,
                    det_json=json.dumps(det, indent=2, ensure_ascii=False), case=r.case)

    async def why_not(request: Request) -> Response:
        token, text = "", ""
        try:
            token, text = ready_from_token(request)
            item, x = request.query_params.get("item", ""), request.query_params.get("x", "")
            r = await run_in_threadpool(service.read, text.encode("utf-8"), False)
            if x not in r.kb.exception_names:
                raise BadRequest(f"{REQUEST_SOURCE}: x = {x!r}: not an exception of the knowledge base "
                                 f"(fix: one of {', '.join(sorted(r.kb.exception_names))})")
            proofs = await run_in_threadpool(service.explain, r, r.kb.exception_names[x][0], "why_not", item, None)
        except Exception as exc:  # noqa: BLE001
            return error_page(exc, token, text)
        return page("proof.html", token=token, title=f"Why is {r.kb.exception_names[x][0]} not available for item {item}?",
                    sections=[Markup(proof_section(p, open_levels=8)) for p in proofs], case=r.case)

    async def whatif(request: Request) -> Response:
        token, text = "", ""
        try:
            token, text = ready_from_token(request)
            axis = request.query_params.get("axis", "to")
            values = request.query_params.get("values", "ALL").strip()
            if axis not in ("to", "quantity", "tpp", "end_use", "date"):
                raise BadRequest(f"{REQUEST_SOURCE}: axis = {axis!r}: the page varies to, quantity, tpp, end_use or date "
                                 "(fix: use POST /api/whatif for other fields)")
            vals: Any = "ALL" if values.upper() == "ALL" else [
                int(v) if v.strip().isdigit() and axis in ("quantity", "tpp") else v.strip()
                for v in values.split(",") if v.strip()]
            r = await run_in_threadpool(service.read, text.encode("utf-8"), False)
            rows = await run_in_threadpool(service.whatif, r, {axis: vals})
        except Exception as exc:  # noqa: BLE001
            return error_page(exc, token, text)
        world: dict[str, list[str]] = {}
        for row in rows:
            world.setdefault(row["outcome"], []).append(str(row.get(axis)))
        return page("whatif.html", token=token, axis=axis, values=values, rows=rows, world=world, case=r.case,
                    countries=service.kb.countries)

    async def provisions(request: Request) -> Response:
        return page("provisions.html", provisions=service.provisions())

    async def provision(request: Request) -> Response:
        p = await run_in_threadpool(service.provision, request.path_params["rule_id"])
        if p is None:
            return page("error.html", 404, message=f"No provision {request.path_params['rule_id']!r}.", yaml_text="")
        cases = [service.regression_case(c) or {"id": c, "title": "", "path": "", "text": ""} for c in p["cases"]]
        return page("provision.html", p=p, cases=cases, cases_installed=service.cases_dir() is not None)

    async def regression(request: Request) -> Response:
        c = await run_in_threadpool(service.regression_case, request.path_params["case_id"])
        if c is None:
            return page("error.html", 404, message=f"No regression case {request.path_params['case_id']!r}.",
                        yaml_text="")
        return page("case.html", c=c, token=case_token(c["text"]))

    async def docs(request: Request) -> Response:
        return page("docs.html", spec=spec(package_version()))

    async def proof_css(request: Request) -> Response:
        return Response(PROOF_CSS, media_type="text/css", headers={"cache-control": "max-age=3600"})

    routes = [
        Route("/", index), Route("/check", submit, methods=["POST"]), Route("/result", result),
        Route("/result/why-not", why_not), Route("/result/whatif", whatif),
        Route("/provisions", provisions), Route("/provisions/{rule_id:path}", provision),
        Route("/cases/{case_id:path}", regression), Route("/api/docs", docs),
        Route("/api/check", api_check, methods=["POST"]), Route("/api/explain", api_explain, methods=["POST"]),
        Route("/api/whatif", api_whatif, methods=["POST"]), Route("/api/screen", api_screen, methods=["POST"]), Route("/api/provisions", api_provisions),
        Route("/api/provisions/{rule_id:path}", api_provision), Route("/api/schema", api_schema),
        Route("/api/openapi.json", openapi), Route("/healthz", healthz),
        # the proof trees' stylesheet is the one standalone HTML proofs inline (one source: explain/html.py)
        Route("/static/proof.css", proof_css),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        service.close()  # the solver thread ends with the app

    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)], lifespan=lifespan)
    app.state.service = service
    return app


def app_from_env() -> Starlette:
    """The application as ``exportkb serve --workers N`` starts it in each worker process: the KB
    folder and the limits come from the environment the command set (``EXPORTKB_KB``,
    ``EXPORTKB_SERVE_TIME_LIMIT``, ``EXPORTKB_SERVE_MAX_BODY``), the KB parsed once per worker."""
    import os
    opts = ServerOptions(max_body_bytes=int(os.environ.get("EXPORTKB_SERVE_MAX_BODY", ServerOptions.max_body_bytes)),
                         time_limit=float(os.environ.get("EXPORTKB_SERVE_TIME_LIMIT", ServerOptions.time_limit)),
                         screening_list=Path(os.environ["EXPORTKB_LIST"]) if os.environ.get("EXPORTKB_LIST") else None,
                         cases_dir=Path(os.environ["EXPORTKB_SERVE_CASES"]) if os.environ.get("EXPORTKB_SERVE_CASES") else None)
    kb = KnowledgeBase.load(os.environ.get("EXPORTKB_KB") or None)
    warm(kb)
    return create_app(kb, opts)


def warm(kb: KnowledgeBase) -> None:
    """Build the KB's residual split now, before the first request (a server lives long; see
    :func:`exportkb.solve.residual.residual_when_warm`): otherwise each worker solves its first 20
    requests with the full program (~22 ms each instead of ~10)."""
    from ..solve.residual import residual_for
    residual_for(kb)


class SecurityHeaders:
    """ASGI middleware: the Content-Security-Policy and its companions on every response."""

    HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
               (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + self.HEADERS
            await send(message)
        await self.app(scope, receive, send_with_headers)


class TooLarge(Exception):
    """A request body over the server's limit (413)."""


