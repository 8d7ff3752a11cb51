#pragma once

#include "api/management.h"

namespace esocore::api {

/// /api/dashboards.
void addDashboardRoutes(http::Router& router, const ApiContext& context);

}  // namespace esocore::api
