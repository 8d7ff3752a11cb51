#include "api/overview_api.h"

namespace esocore::api {

void addOverviewRoutes(http::Router& router, const ApiContext& context) {
    (void)router;
    (void)context;
}

}  // namespace esocore::api
