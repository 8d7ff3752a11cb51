#pragma once

#include "api/management.h"

namespace esocore::api {

/// /api/assets/{id}/cycles, /counters and /histogram: an asset's cycles as reported by the
/// devices of its organization, counted per local day and week of its site.
void addAssetCycleRoutes(http::Router& router, const ApiContext& context);

}  // namespace esocore::api
