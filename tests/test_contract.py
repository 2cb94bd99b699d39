"""The API keeps its OpenAPI contract: schemathesis generates requests for every operation of the
served document (valid and invalid ones) and checks every response, without a key, with a reader key
and with an admin key: no server error, no response outside its documented status codes, media types
and schemas, valid requests accepted and invalid ones rejected.

Real app in process (ASGI, lifespan included) over the demo index with the real encoder, screen and
SQLite database. The examples per operation are kept small so the run stays near a minute."""

from __future__ import annotations

import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode

from app.api.app import create_app
from app.settings import Settings

EXAMPLES = 12
WHO = ("anonymous", "reader", "admin")


@pytest.fixture(scope="module")
def contract_app(demo_index, tmp_path_factory):
    from app.curation.roles import cli_actor
    from app.curation.service import CurationService

    tmp = tmp_path_factory.mktemp("contract")
    shutil.copytree(demo_index[0], tmp / "index")
    s = Settings(
        index={"dir": str(tmp / "index")},
        database={"url": f"sqlite:///{tmp / 'gg.db'}"},
        curation={k: str(tmp / k) for k in ("registry_dir", "build_dir", "feedback_dir")},
        web={"reports_dir": str(tmp / "reports")},
    )
    svc = CurationService(s)
    keys = {role: svc.create_key(cli_actor(), f"contract-{role}", role)["key"] for role in ("reader", "admin")}
    svc.dispose()
    return create_app(s), keys


def _reversed_dates(case) -> bool:
    """published_from after published_to: a 422 the JSON Schema cannot state (it is in the field's description)."""
    filters = case.body.get("filters") if isinstance(case.body, dict) else None
    if not isinstance(filters, dict):
        return False
    lo, hi = filters.get("published_from"), filters.get("published_to")
    return isinstance(lo, str) and isinstance(hi, str) and lo > hi


# An upload's file name must end in a known extension (.pdf, .html, …): OpenAPI cannot state a pattern for a
# multipart file's name, so a schema-valid upload named "file" is rightly rejected (422, documented).
# Only the "valid data must be accepted" check is skipped for it; every other check still runs.
_UNSTATABLE = {"POST /v1/registry/guidelines/{ref}/versions"}


def _check_operation(op, mode, keys: dict[str, str], failures: list[str]) -> int:
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    calls = 0
    excluded = [positive_data_acceptance] if op.label in _UNSTATABLE else []

    @given(case=op.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
        suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate],
    )
    def run(case) -> None:
        nonlocal calls
        if mode == GenerationMode.POSITIVE and _reversed_dates(case):
            return
        for who in WHO:
            headers = {} if who == "anonymous" else {"X-API-Key": keys[who]}
            calls += 1
            try:
                case.call_and_validate(headers=headers, excluded_checks=excluded)
            except BaseException as exc:  # a failed check (a FailureGroup): collect all, report together
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    raise
                failures.append(f"{op.label} [{mode.value}, {who}]: {str(exc).strip().splitlines()[0:6]}")

    try:
        run()
    except Unsatisfiable:
        # No request can violate this operation's schema (e.g. no parameters and no body): nothing to negate.
        if mode != GenerationMode.NEGATIVE:
            raise
    return calls


def test_every_operation_keeps_its_contract(contract_app) -> None:
    app, keys = contract_app
    api = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    labels, calls = [], 0
    for result in api.get_all_operations():
        op = result.ok()
        labels.append(op.label)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            calls += _check_operation(op, mode, keys, failures)
    assert len(labels) >= 6 and "POST /v1/query" in labels, labels
    assert calls >= 3 * len(labels)
    assert not failures, f"{len(failures)} contract failures over {calls} calls:\n" + "\n".join(dict.fromkeys(failures))


def test_the_document_states_the_served_limits(contract_app) -> None:
    """One source of limits: the schema's maxima are the settings', and a lowered limit shows up."""
    from fastapi.testclient import TestClient

    from app.query.limits import MAX_QUESTION_CHARS, MAX_TOP_K

    app, _ = contract_app
    with TestClient(app) as client:
        props = client.get("/openapi.json").json()["components"]["schemas"]["QueryRequest"]["properties"]
        assert props["question"]["maxLength"] == MAX_QUESTION_CHARS == Settings().limits.max_question_chars
        assert [b["maximum"] for b in props["top_k"]["anyOf"] if b.get("type") == "integer"] == [MAX_TOP_K]
        assert client.post("/v1/query", json={"question": "x" * (MAX_QUESTION_CHARS + 1)}).status_code == 422
        assert client.post("/v1/query", json={"question": "colon cancer screening age", "top_k": MAX_TOP_K}).status_code == 200
    lowered = create_app(Settings(limits={"max_question_chars": 500, "max_top_k": 7}))
    props = lowered.openapi()["components"]["schemas"]["QueryRequest"]["properties"]
    assert props["question"]["maxLength"] == 500
    assert [b["maximum"] for b in props["top_k"]["anyOf"] if b.get("type") == "integer"] == [7]
    with pytest.raises(Exception, match="less than or equal"):
        Settings(limits={"max_top_k": MAX_TOP_K + 1})


@pytest.mark.parametrize(
    ("path", "schema", "body", "blank"),
    [
        ("/v1/registry/guidelines", "GuidelineCreate", {"slug": "blank-title"}, "title"),
        ("/v1/admin/keys", "KeyCreate", {"role": "reader"}, "name"),
    ],
)
def test_a_blank_name_is_invalid_in_the_schema_as_on_the_server(contract_app, path, schema, body, blank) -> None:
    """The server strips names and titles and refuses blank ones; the document says so too, so a generated
    "valid" request is never refused (a schemathesis run once found `title: ""` accepted by the schema)."""
    import jsonschema
    from fastapi.testclient import TestClient

    app, keys = contract_app
    with TestClient(app) as client:
        doc = client.get("/openapi.json").json()
        prop = doc["components"]["schemas"][schema]["properties"][blank]
        for value in ("", "   ", "\t\n"):
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate(value, prop)
            r = client.post(path, json={**body, blank: value}, headers={"X-API-Key": keys["admin"]})
            assert r.status_code == 422, r.text
        jsonschema.validate(" A title ", prop)
