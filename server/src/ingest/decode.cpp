#include "ingest/decode.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
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

// Grows `out` by one chunk without passing `limit` + 1, so overflow is detected exactly.
bool grow(std::string& out, std::size_t& used, std::size_t limit) {
    if (used > limit) {
        return false;
    }
    std::size_t next = std::min(out.size() + kChunk, limit + 1);
    if (next <= used) {
        return false;
    }
    out.resize(next);
    return true;
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
        if (rc == Z_STREAM_END) {
            break;
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
    if (header.empty() || header == "identity") {
        return Encoding::identity;
    }
    if (header == "gzip" || header == "x-gzip") {
        return Encoding::gzip;
    }
    if (header == "zstd") {
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
