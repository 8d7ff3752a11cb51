#pragma once

#include "api/management.h"

namespace esocore::api {

/// /api/schema/ (the OpenAPI document), /api/docs/ (Swagger UI) and /api/redoc/ (ReDoc).
void addDocsRoutes(http::Router& router, const ApiContext& context);

}  // namespace esocore::api
