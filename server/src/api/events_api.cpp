#include "api/events_api.h"

namespace esocore::api {

void addEventRoutes(http::Router& router, const ApiContext& context) {
    (void)router;
    (void)context;
}

}  // namespace esocore::api
