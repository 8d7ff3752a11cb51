#include "support/compressed_body.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <stdexcept>

namespace esocore::testing {

namespace {

constexpr std::size_t kBlock = 1 << 20;

// Calls `feed` with the text in pieces of about kBlock bytes; `last` marks the final piece.
// The repeated part is one block fed again and again, so that building it costs nothing.
void forEachBlock(const RepeatedText& text,
                  const std::function<void(const std::string&, bool last)>& feed) {
    std::size_t per_block =
        std::max<std::size_t>(1, kBlock / std::max<std::size_t>(1, text.unit.size()));
    std::string block;
    for (std::size_t i = 0; i < per_block && i < text.count; ++i) {
        block += text.unit;
    }
    feed(text.head, false);
    std::size_t fed = 0;
    for (; fed + per_block <= text.count; fed += per_block) {
        feed(block, false);
    }
    std::string rest;
    for (; fed < text.count; ++fed) {
        rest += text.unit;
    }
    feed(rest + text.tail, true);
}

}  // namespace

std::string gzipRepeated(const RepeatedText& text) {
    z_stream stream{};
    if (deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, 16 + 15, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
        throw std::runtime_error("deflateInit2 failed");
    }
    std::unique_ptr<z_stream, decltype(&deflateEnd)> guard(&stream, deflateEnd);
    std::string out;
    char buffer[64 * 1024];
    forEachBlock(text, [&](const std::string& block, bool last) {
        stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(block.data()));
        stream.avail_in = static_cast<uInt>(block.size());
        int rc = Z_OK;
        do {
            stream.next_out = reinterpret_cast<Bytef*>(buffer);
            stream.avail_out = sizeof buffer;
            rc = deflate(&stream, last ? Z_FINISH : Z_NO_FLUSH);
            out.append(buffer, sizeof buffer - stream.avail_out);
        } while (stream.avail_in > 0 || (last && rc != Z_STREAM_END));
    });
    return out;
}

std::string zstdRepeated(const RepeatedText& text) {
    std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> context(ZSTD_createCCtx(), ZSTD_freeCCtx);
    std::string out;
    char buffer[64 * 1024];
    forEachBlock(text, [&](const std::string& block, bool last) {
        ZSTD_inBuffer input{block.data(), block.size(), 0};
        std::size_t remaining = 0;
        do {
            ZSTD_outBuffer output{buffer, sizeof buffer, 0};
            remaining = ZSTD_compressStream2(context.get(), &output, &input,
                                             last ? ZSTD_e_end : ZSTD_e_continue);
            if (ZSTD_isError(remaining)) {
                throw std::runtime_error(ZSTD_getErrorName(remaining));
            }
            out.append(buffer, output.pos);
        } while (input.pos < input.size || (last && remaining != 0));
    });
    return out;
}

}  // namespace esocore::testing
