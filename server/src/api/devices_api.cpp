#include "api/devices_api.h"

namespace esocore::api {

void addDeviceRoutes(http::Router& router, const ApiContext& context) {
    (void)router;
    (void)context;
}

}  // namespace esocore::api
