#include "api/organizations_api.h"

namespace esocore::api {

void addOrganizationRoutes(http::Router& router, const ApiContext& context) {
    (void)router;
    (void)context;
}

}  // namespace esocore::api
