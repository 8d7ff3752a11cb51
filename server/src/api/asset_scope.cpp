#include "api/asset_scope.h"

#include "api/list_filters.h"

namespace esocore::api {

Result<AssetScope> loadAsset(store::SqlSession& sql, const Principal& principal,
                             std::string_view id, auth::Action action) {
    std::string asset_id = canonicalId(id);
    if (asset_id.empty()) {
        return notFound("asset");
    }
    auto rows = sql.query(
        "SELECT a.id, a.organization_id, a.site_id, a.external_id, s.time_zone "
        "FROM assets a LEFT JOIN sites s ON s.id = a.site_id WHERE a.id = $1",
        {asset_id});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return notFound("asset");
    }
    const store::SqlRow& row = rows->front();
    AssetScope asset{row.text(0), row.text(1), row.text(2), row.text(3),
                     row.optionalText(4).value_or("UTC")};
    if (auto allowed = require(principal, action, asset.target(), "asset"); !allowed) {
        return allowed.takeError();
    }
    return asset;
}

std::string assetCycles(const AssetScope& asset, store::SqlParams& params) {
    return "c.asset_ref = " + addParam(params, asset.external_id) +
           " AND d.organization_id = " + addParam(params, asset.organization_id);
}

Result<std::int64_t> countCycles(store::SqlSession& sql, const AssetScope& asset,
                                 std::optional<Micros> after, std::optional<Micros> until) {
    store::SqlParams params;
    std::string sql_text =
        "SELECT count(*) FROM asset_cycles c JOIN devices d ON d.id = c.device_id WHERE " +
        assetCycles(asset, params);
    if (after) {
        sql_text.append(" AND ").append(kCycleTime).append(" > ").append(addParam(params, *after));
    }
    if (until) {
        sql_text.append(" AND ").append(kCycleTime).append(" <= ").append(addParam(params, *until));
    }
    auto rows = sql.query(sql_text, params);
    if (!rows) {
        return rows.takeError();
    }
    return rows->front().integer(0);
}

}  // namespace esocore::api
