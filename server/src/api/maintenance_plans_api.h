#pragma once

#include <boost/json/array.hpp>

#include "api/asset_scope.h"
#include "api/management.h"

namespace esocore::api {

/// /api/assets/{id}/maintenance-plans and /api/maintenance-plans/{id} (with /done): plans
/// that fall due every N cycles of the asset and/or every N days.
void addMaintenancePlanRoutes(http::Router& router, const ApiContext& context);

/// The asset's active plans with how far each is from being due at `now`, as the asset's
/// counters show them.
Result<boost::json::array> maintenanceDue(store::SqlSession& sql, const AssetScope& asset,
                                          Micros now);

}  // namespace esocore::api
