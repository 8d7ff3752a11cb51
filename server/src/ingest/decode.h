#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace esocore::ingest {

enum class Encoding { identity, gzip, zstd };

/// Reads a Content-Encoding header value; nothing for encodings the device API does not take.
std::optional<Encoding> parseEncoding(std::string_view header);

/// Decompresses `body`, stopping with 413 `decoded_body_too_large` as soon as the output would
/// pass `limit`, so a small body that inflates enormously never takes more memory than that.
Result<std::string> decodeBody(std::string_view body, Encoding encoding, std::size_t limit);

}  // namespace esocore::ingest
