#pragma once

#include "api/management.h"

namespace esocore::api {

/// /api/audit-log.
void addAuditRoutes(http::Router& router, const ApiContext& context);

}  // namespace esocore::api
