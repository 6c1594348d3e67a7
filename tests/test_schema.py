"""The schema: generated from the catalog, committed, usable by editors, and every zoo spec fits."""

import json

from jsonschema import Draft7Validator

from segc import catalog, spec_schema
from segc.loader import load
from segc.validator import validate

from .conftest import REPO, ZOO


def test_committed_schema_is_the_catalogs():
    committed = (REPO / "schema" / "segspec.schema.json").read_text()
    assert committed == spec_schema.dumps(), "run: segc schema --output schema/segspec.schema.json"


def test_schema_is_valid_draft7():
    schema = json.loads(spec_schema.dumps())
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    Draft7Validator.check_schema(schema)


def test_enums_are_exactly_the_catalog():
    schema = spec_schema.build()
    defs = schema["definitions"]
    for kind, key in [("backbone", "backbone"), ("model", "model"), ("transform", "transform"),
                      ("optimizer", "optimizer"), ("lr_scheduler", "lr_scheduler")]:
        assert defs[key]["properties"]["type"]["enum"] == sorted(catalog.KINDS[kind])
    assert defs["losses"]["items"]["properties"]["type"]["enum"] == sorted(catalog.LOSSES)


def _properties(node, path=""):
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{path}.{name}", sub
        for key, sub in node.items():
            yield from _properties(sub, f"{path}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from _properties(sub, f"{path}[{i}]")


def test_every_property_is_described_and_objects_are_closed():
    schema = spec_schema.build()
    for path, prop in _properties(schema):
        if prop.keys() == {"const"} or "$ref" in prop:
            continue  # discriminator in an if/then branch, or a reference
        assert "description" in prop, f"{path} has no description"
    for name in ("dataset", "train"):
        assert schema["definitions"][name]["additionalProperties"] is False


def test_every_zoo_spec_has_the_modeline_and_validates():
    specs = sorted(ZOO.glob("*.yaml")) + sorted((ZOO / "_base_").glob("*.yaml"))
    assert len(specs) >= 3
    for spec in specs:
        first = spec.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), spec
        target = (spec.parent / first.split("=", 1)[1]).resolve()
        assert target == (REPO / "schema" / "segspec.schema.json").resolve(), spec
    for spec in sorted(ZOO.glob("*.yaml")):
        validate(load(spec))
