#include "api/management_routes.h"

#include "api/assets_api.h"
#include "api/audit_api.h"
#include "api/config_profiles_api.h"
#include "api/dashboards_api.h"
#include "api/devices_api.h"
#include "api/docs_api.h"
#include "api/events_api.h"
#include "api/firmware_api.h"
#include "api/organizations_api.h"
#include "api/overview_api.h"
#include "api/sites_api.h"
#include "api/telemetry_api.h"

namespace esocore::api {

void addManagementRoutes(http::Router& router, const ApiContext& context) {
    addOrganizationRoutes(router, context);
    addSiteRoutes(router, context);
    addDeviceRoutes(router, context);
    addConfigProfileRoutes(router, context);
    addAssetRoutes(router, context);
    addEventRoutes(router, context);
    addTelemetryRoutes(router, context);
    addFirmwareRoutes(router, context);
    addDashboardRoutes(router, context);
    addAuditRoutes(router, context);
    addOverviewRoutes(router, context);
    addDocsRoutes(router, context);
}

}  // namespace esocore::api
