#pragma once

#include "api/management.h"

namespace esocore::api {

/// /api/firmware: the platform-wide firmware bundles (upload, list, detail, edit, delete)
/// and the key that signs them; and /api/rollouts (rollouts_api.h), each organization's
/// rollouts of those bundles to its devices.
void addFirmwareRoutes(http::Router& router, const ApiContext& context);

}  // namespace esocore::api
