#include "api/config_profiles_api.h"

namespace esocore::api {

void addConfigProfileRoutes(http::Router& router, const ApiContext& context) {
    (void)router;
    (void)context;
}

}  // namespace esocore::api
