#pragma once

#include "api/management.h"

namespace esocore::api {

/// /api/sites.
void addSiteRoutes(http::Router& router, const ApiContext& context);

}  // namespace esocore::api
