#include "api/audit_api.h"

namespace esocore::api {

void addAuditRoutes(http::Router& router, const ApiContext& context) {
    (void)router;
    (void)context;
}

}  // namespace esocore::api
