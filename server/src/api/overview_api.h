#pragma once

#include "api/management.h"

namespace esocore::api {

/// /api/stats (the home page's summary) and /api/branding (names from BRAND_NAME,
/// PRODUCT_NAME, ADMIN_TITLE; public).
void addOverviewRoutes(http::Router& router, const ApiContext& context);

}  // namespace esocore::api
