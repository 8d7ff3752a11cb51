#pragma once

#include <boost/json/array.hpp>
#include <string>

#include "core/clock.h"
#include "store/types.h"

namespace esocore::ingest {

/// What a record is checked against.
struct RecordRules {
    Micros now = 0;
    Micros max_skew = 120'000'000;  // how far in the future a ts may be
    bool restamp_future = false;    // the device asked the server to re-stamp such records
    std::string device_id;
    std::string device_serial;
    std::string device_asset;  // the device's own asset, used when a record names none
};

/// Checks each record and sorts it into the batch's points or events. A bad record is counted
/// in `batch.rejected` with its index and code (the first 100 are listed); it never fails the
/// batch.
void readRecords(const boost::json::array& records, const RecordRules& rules,
                 store::IngestBatch& batch);

/// NFC form of a UTF-8 name; nothing when the bytes are not valid UTF-8.
std::optional<std::string> normalizeName(std::string_view name);

/// True for series names that devices use for system events rather than readings.
bool isKnownEventName(std::string_view series);

}  // namespace esocore::ingest
