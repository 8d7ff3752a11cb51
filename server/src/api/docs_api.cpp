#include "api/docs_api.h"

namespace esocore::api {

void addDocsRoutes(http::Router& router, const ApiContext& context) {
    (void)router;
    (void)context;
}

}  // namespace esocore::api
