#include "record.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "timestamp.h"

namespace esocore::sim {

std::string recordToJson(const Record& record, const DeviceIdentity& identity) {
    boost::json::object object;
    object["ts"] = formatRfc3339Ms(record.ts_ms);
    object["device_id"] = identity.serial;
    object["site_id"] = identity.site_id;
    object["asset_id"] = identity.asset_id;
    object["series"] = record.series;
    object["val"] = record.val ? boost::json::value(*record.val) : boost::json::value(nullptr);
    object["unit"] =
        record.unit.empty() ? boost::json::value(nullptr) : boost::json::value(record.unit);
    object["meta"] = record.meta;
    return boost::json::serialize(object);
}

}  // namespace esocore::sim
