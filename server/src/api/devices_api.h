#pragma once

#include "api/management.h"

namespace esocore::api {

/// /api/devices: list, detail, claim, rotate-key, status, configuration, claim QR code.
void addDeviceRoutes(http::Router& router, const ApiContext& context);

}  // namespace esocore::api
