#pragma once

#include "api/management.h"

namespace esocore::api {

/// /api/config-profiles.
void addConfigProfileRoutes(http::Router& router, const ApiContext& context);

}  // namespace esocore::api
