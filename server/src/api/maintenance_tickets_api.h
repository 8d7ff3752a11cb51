#pragma once

#include "api/management.h"

namespace esocore::api {

/// /api/maintenance-tickets: work orders for an organization's assets, moving from open to
/// assigned to done (and reopened when needed).
void addMaintenanceTicketRoutes(http::Router& router, const ApiContext& context);

}  // namespace esocore::api
