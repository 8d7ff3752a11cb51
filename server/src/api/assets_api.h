#pragma once

#include "api/management.h"

namespace esocore::api {

/// /api/assets (with cycles, counters, histograms, maintenance plans) and /api/maintenance-tickets.
void addAssetRoutes(http::Router& router, const ApiContext& context);

}  // namespace esocore::api
