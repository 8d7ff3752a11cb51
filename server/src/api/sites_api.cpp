#include "api/sites_api.h"

namespace esocore::api {

void addSiteRoutes(http::Router& router, const ApiContext& context) {
    (void)router;
    (void)context;
}

}  // namespace esocore::api
