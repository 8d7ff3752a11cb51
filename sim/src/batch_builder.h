#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace esocore::sim {

/// How a batch body is compressed on the wire.
enum class Encoding { Gzip, Zstd };

/// The `Content-Encoding` token for an encoding.
std::string_view encodingName(Encoding encoding);

/// A batch as it goes over the wire. Once sealed its key and bytes never change, so a resend
/// is recognised by the server as the same batch.
struct SealedBatch {
    std::string idempotency_key;
    std::string body;         // compressed JSON array, exactly as sent
    std::string body_sha256;  // lowercase hex digest of `body`
    Encoding encoding = Encoding::Gzip;
    std::size_t record_count = 0;
    int attempts = 0;              // requests made for this batch so far
    bool maybe_delivered = false;  // the last attempt may have reached the server
};

/// Joins already serialized records into one JSON array.
std::string jsonArray(std::span<const std::string> records);

/// Compresses `input` as a gzip stream (RFC 1952).
std::string gzipCompress(std::string_view input);

/// Compresses `input` as one zstd frame.
std::string zstdCompress(std::string_view input);

/// Lowercase hex SHA-256 of `bytes`.
std::string sha256Hex(std::string_view bytes);

/// A fresh random (version 4) UUID for the `Idempotency-Key` header.
std::string newIdempotencyKey();

/// Builds the wire form of a batch from serialized records.
SealedBatch sealBatch(std::span<const std::string> records, Encoding encoding);

}  // namespace esocore::sim
