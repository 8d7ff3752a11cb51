#pragma once

#include "api/management.h"

namespace esocore::api {

/// /api/rollouts: an organization's rollouts of firmware bundles, their progress and
/// devices, and pause, resume and cancel. Registered by addFirmwareRoutes.
void addRolloutRoutes(http::Router& router, const ApiContext& context);

}  // namespace esocore::api
