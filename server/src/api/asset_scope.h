#pragma once

// An asset as the routes below /api/assets/{id} and the maintenance routes need it: where it
// is (for permissions and its local calendar) and which cycles are its.

#include <optional>
#include <string>
#include <string_view>

#include "api/management.h"

namespace esocore::api {

struct AssetScope {
    std::string id;
    std::string organization_id;
    std::string site_id;  // empty when the asset is at no site
    std::string external_id;
    std::string time_zone;  // the site's zone, UTC without a site

    Target target() const { return Target{organization_id, site_id, {}}; }
};

/// The asset with that id when the caller may perform `action` on it; 404 not_found for a
/// malformed id, a missing asset or one the caller may not see, 403 permission_denied when
/// its role does not allow the action.
Result<AssetScope> loadAsset(store::SqlSession& sql, const Principal& principal,
                             std::string_view id, auth::Action action);

/// The moment a cycle is counted at: its start, or its end when the start was never received.
inline constexpr const char* kCycleTime = "coalesce(c.started_at, c.ended_at)";

/// A condition on `asset_cycles c` joined with `devices d` (on c.device_id) that keeps the
/// asset's cycles: those that devices of its organization reported under its external id.
std::string assetCycles(const AssetScope& asset, store::SqlParams& params);

/// How many cycles of the asset were counted after `after` (all of them without it) and up to
/// `until` when given.
Result<std::int64_t> countCycles(store::SqlSession& sql, const AssetScope& asset,
                                 std::optional<Micros> after,
                                 std::optional<Micros> until = std::nullopt);

}  // namespace esocore::api
