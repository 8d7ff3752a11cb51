#pragma once

#include "api/management.h"

namespace esocore::api {

/// /api/organizations, /api/users and /api/memberships.
void addOrganizationRoutes(http::Router& router, const ApiContext& context);

}  // namespace esocore::api
