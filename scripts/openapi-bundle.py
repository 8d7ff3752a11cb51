#!/usr/bin/env python3
"""Bundles the OpenAPI document the server serves at /api/schema/.

server/openapi/openapi.yaml is the root; every server/openapi/paths/*.yaml adds its area's
`paths` and `components`. A path or component name defined twice, a key repeated inside one
mapping, or a local `$ref` that points nowhere is an error that names the files involved.

    openapi-bundle.py --json OUT.json [--pretty] [--cpp OUT.cpp] [--version X.Y.Z]
                      [--openapi-dir DIR]

--cpp also writes a C++ source defining `std::string_view esocore::api::openApiDocument()`.
Outputs are rewritten only when their content changes, so an unchanged document does not
recompile the server.
"""

import argparse
import copy
import json
import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
AREA_KEYS = {"paths", "components"}
RAW_DELIMITER = "esoapi"


class BundleError(Exception):
    pass


class StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses duplicate keys and keeps timestamps as the strings written."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise BundleError(
                    f"{node.start_mark.name}:{key_node.start_mark.line + 1}: duplicate key "
                    f"'{key}' (first at line {seen[key] + 1})"
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


# JSON has no date type: an example such as 2024-05-01T12:00:00Z stays a string.
StrictLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
)


def load(path):
    try:
        with open(path, encoding="utf-8") as stream:
            document = yaml.load(stream, Loader=StrictLoader)
    except yaml.YAMLError as error:
        raise BundleError(f"{path}: {error}") from error
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise BundleError(f"{path}: the top level must be a mapping")
    # YAML reads `200:` as an integer; JSON and OpenAPI want the string.
    return json.loads(json.dumps(document))


def relative(path):
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def merge_area(document, origins, area, path):
    """Adds one area file's paths and components to the document; `origins` remembers which
    file defined each name, to name both files of a duplicate."""
    name = relative(path)
    unknown = set(area) - AREA_KEYS
    if unknown:
        raise BundleError(
            f"{name}: only 'paths' and 'components' belong in an area file, not "
            f"{', '.join(sorted(unknown))}"
        )
    for route, item in (area.get("paths") or {}).items():
        key = ("path", route)
        if key in origins:
            raise BundleError(f"path {route} is defined in both {origins[key]} and {name}")
        origins[key] = name
        document["paths"][route] = item
    for section, entries in (area.get("components") or {}).items():
        merged = document["components"].setdefault(section, {})
        for entry, value in (entries or {}).items():
            key = (section, entry)
            if key in origins:
                raise BundleError(
                    f"components.{section}.{entry} is defined in both {origins[key]} and {name}"
                )
            origins[key] = name
            merged[entry] = value


def local_refs(node, found):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref)
        for value in node.values():
            local_refs(value, found)
    elif isinstance(node, list):
        for value in node:
            local_refs(value, found)
    return found


def resolves(document, ref):
    if not ref.startswith("#/"):
        return False
    node = document
    for token in ref[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or token not in node:
            return False
        node = node[token]
    return True


def check_refs(document, sources):
    problems = []
    for name, content in sources:
        for ref in sorted(local_refs(content, set())):
            if not resolves(document, ref):
                problems.append(f"{name}: $ref '{ref}' points to nothing in the bundled document")
    if problems:
        raise BundleError("\n".join(problems))


def bundle(openapi_dir, version):
    root_path = openapi_dir / "openapi.yaml"
    document = load(root_path)
    document.setdefault("paths", {})
    document.setdefault("components", {})
    if version:
        document.setdefault("info", {})["version"] = version
    origins = {}
    root_name = relative(root_path)
    for route in document["paths"]:
        origins[("path", route)] = root_name
    for section, entries in document["components"].items():
        for entry in entries or {}:
            origins[(section, entry)] = root_name
    sources = [(root_name, copy.deepcopy(document))]
    for path in sorted((openapi_dir / "paths").glob("*.yaml")):
        area = load(path)
        merge_area(document, origins, area, path)
        sources.append((relative(path), area))
    check_refs(document, sources)
    return document


def cpp_source(text):
    if f'){RAW_DELIMITER}"' in text:
        raise BundleError(f"the document contains ){RAW_DELIMITER}\" and cannot be embedded")
    return (
        "// Generated by scripts/openapi-bundle.py from server/openapi/: do not edit.\n"
        '#include "api/docs_api.h"\n\n'
        "namespace esocore::api {\n\n"
        "std::string_view openApiDocument() {\n"
        f'    static constexpr std::string_view document = R"{RAW_DELIMITER}({text}){RAW_DELIMITER}";\n'
        "    return document;\n"
        "}\n\n"
        "}  // namespace esocore::api\n"
    )


def write_if_changed(path, content):
    path = pathlib.Path(path)
    if path.exists() and path.read_text(encoding="utf-8") == content:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(content, encoding="utf-8")
    temporary.replace(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--openapi-dir", type=pathlib.Path, default=ROOT / "server" / "openapi")
    parser.add_argument("--json", required=True, help="where to write the bundled document")
    parser.add_argument("--cpp", help="where to write the C++ source that embeds it")
    parser.add_argument("--version", help="overrides info.version (the server's version)")
    parser.add_argument("--pretty", action="store_true", help="indent the JSON (for linters)")
    args = parser.parse_args()
    try:
        document = bundle(args.openapi_dir.resolve(), args.version)
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        pretty = json.dumps(document, ensure_ascii=False, indent=2)
        write_if_changed(args.json, (pretty if args.pretty else text) + "\n")
        if args.cpp:
            write_if_changed(args.cpp, cpp_source(text))
    except BundleError as error:
        print(f"openapi-bundle: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
