#pragma once

#include <boost/json/value.hpp>
#include <string_view>

#include "core/result.h"

namespace esocore::ingest {

/// Parses a batch body like boost::json::parse, with one difference: an integer literal that
/// a double cannot hold exactly becomes NaN (which JSON cannot express otherwise), so that the
/// record check can reject it instead of storing a rounded number.
Result<boost::json::value> parseBatchJson(std::string_view text, std::size_t max_depth);

}  // namespace esocore::ingest
