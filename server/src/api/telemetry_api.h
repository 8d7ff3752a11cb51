#pragma once

#include "api/management.h"

namespace esocore::api {

/// /api/telemetry: points, latest, buckets, export, packets, windows.
void addTelemetryRoutes(http::Router& router, const ApiContext& context);

}  // namespace esocore::api
