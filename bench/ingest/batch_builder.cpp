#include "batch_builder.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <chrono>
#include <exception>
#include <iterator>
#include <stdexcept>
#include <thread>

namespace esocore::bench {

namespace {

// gzip framing rather than zlib's: windowBits 15 plus 16.
constexpr int kGzipWindowBits = 15 + 16;
constexpr int kMemLevel = 8;

void appendRfc3339Millis(fmt::memory_buffer& out, std::int64_t ts_ms) {
    using namespace std::chrono;
    const sys_time<milliseconds> when{milliseconds{ts_ms}};
    const auto day = floor<days>(when);
    const year_month_day date{day};
    const hh_mm_ss<milliseconds> time{when - day};
    fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                   static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                   static_cast<unsigned>(date.day()), time.hours().count(), time.minutes().count(),
                   time.seconds().count(), time.subseconds().count());
}

void appendRecord(fmt::memory_buffer& out, const Point& point) {
    const SeriesSpec& spec = kBenchSeries[point.series];
    fmt::format_to(std::back_inserter(out), R"({{"ts":")");
    appendRfc3339Millis(out, point.ts_ms);
    // `{}` prints the shortest text that parses back to the same double, so the server stores
    // exactly the value the raw table gets.
    fmt::format_to(std::back_inserter(out), R"(","series":"{}","val":{},"unit":"{}"}})", spec.name,
                   point.value, spec.unit);
}

PreparedBatch prepareBatch(const PointPlan& plan, std::size_t index,
                           boost::uuids::random_generator& uuids) {
    const BatchSlice slice = plan.batch(index);
    std::string body = gzipCompress(encodeBatchJson(plan, slice));
    std::string digest = sha256Hex(body);
    return PreparedBatch{.device = slice.device,
                         .points = slice.points,
                         .body = std::move(body),
                         .idempotency_key = boost::uuids::to_string(uuids()),
                         .content_sha256 = std::move(digest)};
}

}  // namespace

std::string encodeBatchJson(const PointPlan& plan, const BatchSlice& slice) {
    fmt::memory_buffer out;
    out.push_back('[');
    for (std::uint32_t i = 0; i < slice.points; ++i) {
        if (i > 0) {
            out.push_back(',');
        }
        appendRecord(out, plan.point(slice.device, slice.first_point + i));
    }
    out.push_back(']');
    return fmt::to_string(out);
}

std::string gzipCompress(std::string_view text) {
    z_stream zs{};
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindowBits, kMemLevel,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        throw std::runtime_error("gzip: deflateInit2 failed");
    }
    std::string out(deflateBound(&zs, text.size()), '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    zs.avail_in = static_cast<uInt>(text.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    const int rc = deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        throw std::runtime_error(fmt::format("gzip: deflate failed ({})", rc));
    }
    return out;
}

std::string sha256Hex(std::string_view bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("sha256: EVP_Digest failed");
    }
    std::string hex;
    hex.reserve(length * 2);
    for (unsigned int i = 0; i < length; ++i) {
        fmt::format_to(std::back_inserter(hex), "{:02x}", digest[i]);
    }
    return hex;
}

std::vector<PreparedBatch> prepareBatches(const PointPlan& plan) {
    std::vector<PreparedBatch> batches(plan.batchCount());
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr failure;

    auto work = [&] {
        boost::uuids::random_generator uuids;
        for (auto i = next++; i < batches.size() && !failed; i = next++) {
            try {
                batches[i] = prepareBatch(plan, i, uuids);
            } catch (...) {
                // Only the first failure is kept; the others stop at the flag.
                if (!failed.exchange(true)) {
                    failure = std::current_exception();
                }
            }
        }
    };
    {
        std::vector<std::jthread> workers(std::max(1U, std::thread::hardware_concurrency()));
        for (auto& worker : workers) {
            worker = std::jthread(work);
        }
    }
    if (failure) {
        std::rethrow_exception(failure);
    }
    return batches;
}

}  // namespace esocore::bench
