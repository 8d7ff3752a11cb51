#pragma once

#include "api/management.h"

namespace esocore::api {

/// /api/events: list, detail, acknowledge, resolve, event log.
void addEventRoutes(http::Router& router, const ApiContext& context);

}  // namespace esocore::api
