#pragma once

#include "api/management.h"

namespace esocore::api {

/// Every management area's routes under /api/, and the API's own documentation.
void addManagementRoutes(http::Router& router, const ApiContext& context);

}  // namespace esocore::api
