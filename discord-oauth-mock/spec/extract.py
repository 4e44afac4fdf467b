#!/usr/bin/env python3
"""Extract the response schemas of the endpoints the fake serves from Discord's OpenAPI spec.

    python3 discord-oauth-mock/spec/extract.py PATH/TO/openapi.json [COMMIT] > discord-oauth-mock/spec/schemas.json

PATH is the OpenAPI file (`specs/` of https://github.com/discord/discord-api-spec); COMMIT, the
spec repository's commit, is recorded in the output (the committed schemas.json says which). The output is self-contained: for each operation the fake
serves ("METHOD /path" as in the spec), the JSON schema of each response status ("200", "201",
"204" = no body, "429", "4XX"), and every component schema they reference, under
`components.schemas`, so that `#/components/schemas/...` references resolve inside it. The tests
(`tests/spec.rs`) validate the fake's live answers and the golden fixtures against it; the
project never reads the spec itself.

Where Discord's documentation and the spec disagree, the docs win and the schema is patched
here (see DOCS_OVER_SPEC); each patch is listed in the output's `deviations`.
"""

import copy
import json
import sys

# Every operation of the spec that the fake serves (the OAuth2 token endpoints,
# POST /oauth2/token and POST /oauth2/token/revoke, are not in the spec).
OPERATIONS = [
    ("get", "/users/@me"),
    ("get", "/users/@me/guilds"),
    ("get", "/users/@me/connections"),
    ("get", "/users/@me/guilds/{guild_id}/member"),
    ("get", "/users/@me/applications/{application_id}/role-connection"),
    ("put", "/users/@me/applications/{application_id}/role-connection"),
    ("delete", "/users/@me/applications/{application_id}/role-connection"),
    ("get", "/users/{user_id}"),
    ("get", "/oauth2/@me"),
    ("get", "/applications/@me"),
    ("get", "/oauth2/applications/@me"),
    ("get", "/guilds/{guild_id}"),
    ("get", "/guilds/{guild_id}/members/{user_id}"),
    ("put", "/guilds/{guild_id}/members/{user_id}"),
    ("get", "/applications/{application_id}/role-connections/metadata"),
    ("put", "/applications/{application_id}/role-connections/metadata"),
]

NOT_IN_SPEC = ["POST /oauth2/token", "POST /oauth2/token/revoke"]


def string_or_integer_codes(schemas):
    """Field errors of Invalid Form Body (50035) carry string codes such as BASE_TYPE_REQUIRED."""
    inner = schemas["InnerErrors"]["properties"]["_errors"]
    inner["items"] = {
        "type": "object",
        "description": "A field error: its code is a string in Discord's docs (integer in the spec).",
        "properties": {
            "code": {"type": ["string", "integer"]},
            "message": {"type": "string"},
        },
        "required": ["code", "message"],
    }


def nullable_platform_name(schemas):
    """The role connection's platform_name is `?string` in the docs."""
    props = schemas["ApplicationUserRoleConnectionResponse"]["properties"]
    props["platform_name"] = {"type": ["string", "null"]}


# (what, docs URL, patch): the docs win over the spec (https://github.com/discord/discord-api-spec).
DOCS_OVER_SPEC = [
    (
        "InnerErrors._errors[].code: string (docs' Invalid Form Body example, e.g. BASE_TYPE_REQUIRED), not integer (spec's Error)",
        "https://discord.com/developers/docs/reference#error-messages",
        string_or_integer_codes,
    ),
    (
        "ApplicationUserRoleConnectionResponse.platform_name: ?string (docs), not string (spec)",
        "https://discord.com/developers/docs/resources/application-role-connection-metadata#application-role-connection-object",
        nullable_platform_name,
    ),
]


def refs(node, schemas, acc):
    """Adds to acc the names of the component schemas node references, transitively."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str) and v.startswith("#/components/schemas/"):
                name = v.rsplit("/", 1)[1]
                if name not in acc:
                    acc.add(name)
                    refs(schemas[name], schemas, acc)
            else:
                refs(v, schemas, acc)
    elif isinstance(node, list):
        for v in node:
            refs(v, schemas, acc)


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: extract.py PATH/TO/openapi.json [COMMIT]")
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    commit = sys.argv[2] if len(sys.argv) > 2 else "unknown"
    schemas = spec["components"]["schemas"]
    responses = spec["components"]["responses"]
    operations, used = {}, set()
    for method, path in OPERATIONS:
        op = spec["paths"][path][method]
        out = {}
        for status, resp in op["responses"].items():
            if "$ref" in resp:
                resp = responses[resp["$ref"].rsplit("/", 1)[1]]
            schema = resp.get("content", {}).get("application/json", {}).get("schema")
            out[status] = copy.deepcopy(schema)  # None: no body (204)
            refs(schema, schemas, used)
        operations[f"{method.upper()} {path}"] = {"operationId": op.get("operationId"), "responses": out}
    # Schemas the tests use directly (generic errors of routes outside the spec's operations).
    for name in ("ErrorResponse", "RatelimitedResponse"):
        used.add(name)
        refs(schemas[name], schemas, used)
    picked = {name: copy.deepcopy(schemas[name]) for name in sorted(used)}
    deviations = []
    for what, url, patch in DOCS_OVER_SPEC:
        patch(picked)
        deviations.append({"what": what, "docs": url})
    doc = {
        "source": {
            "repository": "https://github.com/discord/discord-api-spec",
            "title": spec.get("info", {}).get("title"),
            "commit": commit,
            "openapi": spec.get("openapi"),
            "info_version": spec.get("info", {}).get("version"),
        },
        "generated_by": "discord-oauth-mock/spec/extract.py",
        "deviations": deviations,
        "not_in_spec": NOT_IN_SPEC,
        "operations": operations,
        "components": {"schemas": picked},
    }
    json.dump(doc, sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
