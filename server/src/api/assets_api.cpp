#include "api/assets_api.h"

namespace esocore::api {

void addAssetRoutes(http::Router& router, const ApiContext& context) {
    (void)router;
    (void)context;
}

}  // namespace esocore::api
