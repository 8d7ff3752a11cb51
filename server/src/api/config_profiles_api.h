#pragma once

#include <boost/json/value.hpp>
#include <string>

#include "api/management.h"

namespace esocore::api {

/// /api/config-profiles: one profile of settings per organization and device model, merged
/// under each device's own overrides (DESIGN §4).
void addConfigProfileRoutes(http::Router& router, const ApiContext& context);

/// The organization's profile for `model` as /api/config-profiles shows it, or null when
/// there is none.
Result<boost::json::value> configProfileFor(store::SqlSession& sql,
                                            const std::string& organization_id,
                                            const std::string& model);

}  // namespace esocore::api
