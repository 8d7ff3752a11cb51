#pragma once

#include <string_view>

#include "api/management.h"

namespace esocore::api {

/// The OpenAPI document as JSON, bundled from server/openapi/ at build time and embedded in
/// the binary (scripts/openapi-bundle.py writes its definition).
std::string_view openApiDocument();

/// /api/schema/ (the OpenAPI document), /api/docs/ (Swagger UI), /api/redoc/ (ReDoc) and
/// /api/docs/assets/{file}: the pages' scripts and styles, read from `config.docs_dir`
/// (filled by `make docs`). Without those files the pages answer 503 docs_not_built.
void addDocsRoutes(http::Router& router, const ApiContext& context);

}  // namespace esocore::api
