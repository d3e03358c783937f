"""``/openapi.json`` (``api/openapi.py``): a valid OpenAPI 3 document whose schemas come
from the request models that validate and the resources' attribute sets."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from neutrino.api.app import create_app
from neutrino.api.schemas.networks import NETWORK_ATTRIBUTES, NetworkCreate
from neutrino.api.schemas.qos import RULE_SCHEMAS
from neutrino.config import Settings
from neutrino.db.session import Database
from neutrino.services.env import Env


@pytest.fixture(scope="module")
def doc(tmp_path_factory) -> dict:
    url = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'unused.db'}"
    env = Env(db=Database(url), settings=Settings(state_dir=Path("/nonexistent"),
                                                  database_url=url))
    # no lifespan: the document needs no database
    return TestClient(create_app(env)).get("/openapi.json").json()


def test_document_is_valid_openapi_3(doc):
    validate(doc)
    assert doc["openapi"].startswith("3.")
    assert not [p for p in doc["paths"] if p.endswith(".json")]


def test_every_operation_answers_4xx_as_neutron_error(doc):
    error = doc["components"]["schemas"]["NeutronError"]
    assert error["properties"]["NeutronError"]["required"] == ["type", "message", "detail"]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            assert op["responses"]["4XX"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/NeutronError"}, (method, path)
            assert "422" not in op["responses"], (method, path)
    assert "HTTPValidationError" not in doc["components"]["schemas"]


def test_network_create_body_is_the_model_in_neutron_envelopes(doc):
    op = doc["paths"]["/v2.0/networks"]["post"]
    one, bulk = op["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert one["required"] == ["network"] and bulk["required"] == ["networks"]
    network = one["properties"]["network"]
    assert set(network["properties"]) == {f.alias or n for n, f in
                                          NetworkCreate.model_fields.items()}
    assert network["additionalProperties"] is False
    assert bulk["properties"]["networks"]["items"] == network
    # nested models are shared components
    assert network["properties"]["segments"]["anyOf"][0]["items"] == {
        "$ref": "#/components/schemas/ProviderSegment"}
    assert "ProviderSegment" in doc["components"]["schemas"]
    created = op["responses"]["201"]["content"]["application/json"]["schema"]["oneOf"][0]
    assert set(created["properties"]["network"]["properties"]) == NETWORK_ATTRIBUTES


def test_list_has_filters_fields_sorting_and_paging(doc):
    op = doc["paths"]["/v2.0/networks"]["get"]
    names = {p["name"] for p in op["parameters"] if p["in"] == "query"}
    assert {"fields", "limit", "marker", "sort_key", "sort_dir", "page_reverse",
            "router:external", "tags-any", "not-tags"} <= names
    assert NETWORK_ATTRIBUTES - {"fields"} <= names
    answer = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"networks", "networks_links"} == set(answer["properties"])


def test_item_operations_and_delete(doc):
    item = doc["paths"]["/v2.0/networks/{item_id}"]
    assert [p["name"] for p in item["get"]["parameters"] if p["in"] == "path"] == ["item_id"]
    assert item["put"]["requestBody"]["content"]["application/json"]["schema"]["required"] == [
        "network"]
    assert set(item["delete"]["responses"]) == {"204", "4XX"}


def test_qos_rules_and_alias_rules(doc):
    for rule_type in RULE_SCHEMAS:
        post = doc["paths"][f"/v2.0/qos/policies/{{policy_id}}/{rule_type}_rules"]["post"]
        assert post["requestBody"]["content"]["application/json"]["schema"]["required"] == [
            f"{rule_type}_rule"]
        alias = doc["paths"][f"/v2.0/qos/alias_{rule_type}_rules/{{rule_id}}"]["put"]
        assert alias["requestBody"]["content"]["application/json"]["schema"]["required"] == [
            f"alias_{rule_type}_rule"]


def test_operation_ids_are_unique(doc):
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert "GET /v2.0/network-segment-ranges" in ids and "GET /v2.0/network_segment_ranges" in ids


def test_member_actions_document_their_bare_bodies(doc):
    def body(path, method="put"):
        return doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    assert body("/v2.0/subnetpools/{pool_id}/add_prefixes")["required"] == ["prefixes"]
    route = body("/v2.0/routers/{router_id}/add_extraroutes")["properties"]["router"][
        "properties"]["routes"]["items"]
    assert set(route["properties"]) == {"destination", "nexthop"}
    assert body("/v2.0/{collection}/{resource_id}/tags", "post")["required"] == ["tags"]
    assert body("/v2.0/trunks/{trunk_id}/add_subports")["required"] == ["sub_ports"]
