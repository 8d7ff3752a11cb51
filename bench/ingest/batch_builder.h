#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "point_plan.h"

namespace esocore::bench {

/// One upload, ready to send: the compressed body and the headers that identify it.
struct PreparedBatch {
    std::uint32_t device;
    std::uint32_t points;
    std::string body;             // gzip-compressed JSON array of point records
    std::string idempotency_key;  // UUID v4, unique per batch
    std::string content_sha256;   // lowercase hex SHA-256 of `body`
};

/// The JSON array the device would send for `slice`, one record per point.
std::string encodeBatchJson(const PointPlan& plan, const BatchSlice& slice);

/// `text` as a gzip member, the way devices send `Content-Encoding: gzip`.
std::string gzipCompress(std::string_view text);

/// Lowercase hex SHA-256, the form of the `Content-SHA256` header.
std::string sha256Hex(std::string_view bytes);

/// Encodes and compresses every batch of the plan on all cores; done before anything is timed.
std::vector<PreparedBatch> prepareBatches(const PointPlan& plan);

}  // namespace esocore::bench
