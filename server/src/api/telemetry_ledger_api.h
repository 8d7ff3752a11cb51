#pragma once

#include "api/management.h"

namespace esocore::api {

/// /api/telemetry/packets (the ingest ledger) and /api/telemetry/windows (device-computed
/// window statistics).
void addTelemetryLedgerRoutes(http::Router& router, const ApiContext& context);

}  // namespace esocore::api
