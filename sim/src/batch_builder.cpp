#include "batch_builder.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <zlib.h>
#include <zstd.h>

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <new>

namespace esocore::sim {
namespace {

constexpr int kGzipWindowBits = 15 + 16;  // zlib's way of asking for a gzip header and trailer
constexpr int kZstdLevel = 3;

}  // namespace

std::string_view encodingName(Encoding encoding) {
    return encoding == Encoding::Zstd ? "zstd" : "gzip";
}

std::string jsonArray(std::span<const std::string> records) {
    std::size_t size = 2 + records.size();
    for (const auto& record : records) {
        size += record.size();
    }
    std::string array;
    array.reserve(size);
    array += '[';
    for (std::size_t i = 0; i < records.size(); ++i) {
        if (i > 0) {
            array += ',';
        }
        array += records[i];
    }
    array += ']';
    return array;
}

std::string gzipCompress(std::string_view input) {
    z_stream stream{};
    // With valid parameters zlib fails only when it cannot allocate.
    if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindowBits, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        throw std::bad_alloc();
    }
    std::string output(deflateBound(&stream, static_cast<uLong>(input.size())) + 32, '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    stream.avail_in = static_cast<uInt>(input.size());
    stream.next_out = reinterpret_cast<Bytef*>(output.data());
    stream.avail_out = static_cast<uInt>(output.size());
    const int status = deflate(&stream, Z_FINISH);
    output.resize(stream.total_out);
    deflateEnd(&stream);
    if (status != Z_STREAM_END) {
        throw std::bad_alloc();
    }
    return output;
}

std::string zstdCompress(std::string_view input) {
    std::string output(ZSTD_compressBound(input.size()), '\0');
    const std::size_t size =
        ZSTD_compress(output.data(), output.size(), input.data(), input.size(), kZstdLevel);
    // The output buffer is always big enough, so an error can only be a failed allocation.
    if (ZSTD_isError(size) != 0U) {
        throw std::bad_alloc();
    }
    output.resize(size);
    return output;
}

std::string sha256Hex(std::string_view bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
        throw std::bad_alloc();
    }
    std::string hex;
    hex.reserve(2 * length);
    for (unsigned int i = 0; i < length; ++i) {
        fmt::format_to(std::back_inserter(hex), "{:02x}", digest[i]);
    }
    return hex;
}

std::string newIdempotencyKey() {
    // Drawn from the operating system, never from --seed: a rerun with the same seed against
    // the same server must not collide with the keys of the previous run.
    thread_local boost::uuids::random_generator generator;
    return boost::uuids::to_string(generator());
}

SealedBatch sealBatch(std::span<const std::string> records, Encoding encoding) {
    const std::string json = jsonArray(records);
    SealedBatch batch;
    batch.idempotency_key = newIdempotencyKey();
    batch.body = encoding == Encoding::Zstd ? zstdCompress(json) : gzipCompress(json);
    batch.body_sha256 = sha256Hex(batch.body);
    batch.encoding = encoding;
    batch.record_count = records.size();
    return batch;
}

}  // namespace esocore::sim
