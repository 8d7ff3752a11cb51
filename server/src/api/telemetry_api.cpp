#include "api/telemetry_api.h"

namespace esocore::api {

void addTelemetryRoutes(http::Router& router, const ApiContext& context) {
    (void)router;
    (void)context;
}

}  // namespace esocore::api
