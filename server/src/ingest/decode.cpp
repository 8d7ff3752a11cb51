#include "ingest/decode.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <memory>

namespace esocore::ingest {

namespace {

constexpr std::size_t kChunk = 256 * 1024;

Error tooLarge(std::size_t limit) {
    return Error{413,
                 "decoded_body_too_large",
                 "decompressed body larger than " + std::to_string(limit) + " bytes",
                 {}};
}

Error corrupt(std::string_view what) {
    return Error{
        400, "invalid_encoding", "body could not be decompressed: " + std::string(what), {}};
}

// The capacity that holds `needed` bytes: twice the current one, except that the last step
// lands on `limit` + 1 exactly. std::string left to itself (and reserve() too) never grows by
// less than double, and would hold twice the limit near the end.
std::size_t nextCapacity(std::size_t capacity, std::size_t needed, std::size_t limit) {
    std::size_t target = std::max(needed, 2 * capacity);
    return target > (limit + 1) / 2 ? limit + 1 : target;
}

// Grows `out` by one chunk without passing `limit` + 1, so overflow is detected exactly.
// What is reserved is used up before anything is reallocated.
bool grow(std::string& out, std::size_t& used, std::size_t limit) {
    if (used > limit) {
        return false;
    }
    std::size_t next = std::min(out.size() + kChunk, limit + 1);
    if (out.size() < out.capacity()) {
        next = std::min(next, out.capacity());
    } else if (next > out.capacity()) {
        out.reserve(nextCapacity(out.capacity(), next, limit));
    }
    if (next <= used) {
        return false;
    }
    out.resize(next);
    return true;
}

// What the body says it inflates to, reserved up front (one byte more, for the decoder to see
// the end) so that an honest body is inflated into one allocation, never copied. Only a hint: a
// body may lie, and the output still grows, and stops at the limit, as it must. gzip's trailer
// holds the size of its (last) member modulo 2^32; a zstd frame header may hold the frame's size.
std::size_t gzipSizeHint(std::string_view body) {
    if (body.size() < 18) {
        return 0;
    }
    const auto* trailer = reinterpret_cast<const unsigned char*>(body.data() + body.size() - 4);
    return std::size_t{trailer[0]} | std::size_t{trailer[1]} << 8 | std::size_t{trailer[2]} << 16 |
           std::size_t{trailer[3]} << 24;
}

std::size_t zstdSizeHint(std::string_view body) {
    unsigned long long size = ZSTD_getFrameContentSize(body.data(), body.size());
    bool known = size != ZSTD_CONTENTSIZE_UNKNOWN && size != ZSTD_CONTENTSIZE_ERROR;
    return known ? static_cast<std::size_t>(std::min<unsigned long long>(size, SIZE_MAX)) : 0;
}

Result<std::string> inflateGzip(std::string_view body, std::size_t limit) {
    z_stream stream{};
    // 32 + 15: accept gzip and zlib headers, detected automatically.
    if (inflateInit2(&stream, 32 + 15) != Z_OK) {
        return internalError("zlib could not be initialized");
    }
    std::unique_ptr<z_stream, decltype(&inflateEnd)> guard(&stream, inflateEnd);
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
    stream.avail_in = static_cast<uInt>(body.size());
    std::string out;
    out.reserve(std::min(gzipSizeHint(body), limit) + 1);
    std::size_t used = 0;
    for (;;) {
        if (used == out.size() && !grow(out, used, limit)) {
            return tooLarge(limit);
        }
        stream.next_out = reinterpret_cast<Bytef*>(out.data() + used);
        stream.avail_out = static_cast<uInt>(out.size() - used);
        int rc = inflate(&stream, Z_NO_FLUSH);
        used = out.size() - stream.avail_out;
        if (used > limit) {
            return tooLarge(limit);
        }
        if (rc == Z_STREAM_END && stream.avail_in == 0) {
            break;
        }
        if (rc == Z_STREAM_END) {
            // Another gzip member follows (RFC 1952 §2.2): the body is their concatenation.
            inflateReset(&stream);
            continue;
        }
        if (rc == Z_BUF_ERROR && stream.avail_in == 0) {
            return corrupt("truncated gzip stream");
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            return corrupt(stream.msg != nullptr ? stream.msg : "gzip error");
        }
    }
    out.resize(used);
    return out;
}

Result<std::string> decompressZstd(std::string_view body, std::size_t limit) {
    std::unique_ptr<ZSTD_DStream, decltype(&ZSTD_freeDStream)> stream(ZSTD_createDStream(),
                                                                      ZSTD_freeDStream);
    if (!stream) {
        return internalError("zstd could not be initialized");
    }
    ZSTD_inBuffer input{body.data(), body.size(), 0};
    std::string out;
    out.reserve(std::min(zstdSizeHint(body), limit) + 1);
    std::size_t used = 0;
    std::size_t last = 1;
    while (input.pos < input.size || last != 0) {
        if (used == out.size() && !grow(out, used, limit)) {
            return tooLarge(limit);
        }
        ZSTD_outBuffer output{out.data(), out.size(), used};
        std::size_t before_in = input.pos;
        last = ZSTD_decompressStream(stream.get(), &output, &input);
        if (ZSTD_isError(last)) {
            return corrupt(ZSTD_getErrorName(last));
        }
        std::size_t produced = output.pos - used;
        used = output.pos;
        if (used > limit) {
            return tooLarge(limit);
        }
        if (input.pos == input.size && last != 0 && produced == 0 && before_in == input.pos &&
            used < out.size()) {
            return corrupt("truncated zstd stream");
        }
    }
    out.resize(used);
    return out;
}

}  // namespace

std::optional<Encoding> parseEncoding(std::string_view header) {
    // Content codings are case-insensitive (RFC 9110 §8.4.1).
    std::string name(header);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (name.empty() || name == "identity") {
        return Encoding::identity;
    }
    if (name == "gzip" || name == "x-gzip") {
        return Encoding::gzip;
    }
    if (name == "zstd") {
        return Encoding::zstd;
    }
    return std::nullopt;
}

Result<std::string> decodeBody(std::string_view body, Encoding encoding, std::size_t limit) {
    switch (encoding) {
        case Encoding::identity:
            if (body.size() > limit) {
                return tooLarge(limit);
            }
            return std::string(body);
        case Encoding::gzip:
            return inflateGzip(body, limit);
        case Encoding::zstd:
            return decompressZstd(body, limit);
    }
    return internalError("unknown encoding");
}

}  // namespace esocore::ingest
