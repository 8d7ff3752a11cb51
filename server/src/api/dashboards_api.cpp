#include "api/dashboards_api.h"

namespace esocore::api {

void addDashboardRoutes(http::Router& router, const ApiContext& context) {
    (void)router;
    (void)context;
}

}  // namespace esocore::api
