#pragma once

#include <boost/json/value.hpp>
#include <string_view>

#include "core/result.h"

namespace esocore::ingest {

/// Parses a batch body like boost::json::parse, except that
/// - an integer literal that a double cannot hold exactly becomes NaN (which JSON cannot
///   express otherwise), so that the record check can reject it instead of storing a rounded
///   number;
/// - every other number becomes the double nearest to it;
/// - parsing stops with 413 `too_many_records` as soon as a top-level array passes
///   `max_records` elements, so that a body of millions of tiny values never becomes a
///   document in memory.
Result<boost::json::value> parseBatchJson(std::string_view text, std::size_t max_depth,
                                          std::size_t max_records);

}  // namespace esocore::ingest
