#include "ingest/json_reader.h"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>
#include <charconv>
#include <cmath>
#include <limits>

namespace esocore::ingest {

namespace {

constexpr std::int64_t kExactLimit = std::int64_t{1} << 53;

// True when the decimal integer literal equals the double exactly.
bool integerLiteralIsExact(std::string_view literal, double value) {
    if (!literal.empty() && literal.front() == '-') {
        literal.remove_prefix(1);
        value = -value;
    }
    char buf[400];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed, 0);
    return ec == std::errc() &&
           std::string_view(buf, static_cast<std::size_t>(end - buf)) == literal;
}

bool isIntegerLiteral(std::string_view literal) {
    return literal.find_first_of(".eE") == std::string_view::npos;
}

// The double nearest to the literal. Boost.JSON before 1.83 parses some literals to a
// neighbouring double; std::from_chars rounds correctly. Out of range, Boost's answer (an
// infinity, or zero) stands.
double nearestDouble(std::string_view literal, double parsed) {
    double value = 0;
    auto [end, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), value);
    return ec == std::errc() && end == literal.data() + literal.size() ? value : parsed;
}

class Handler {
public:
    constexpr static std::size_t max_object_size = std::size_t(-1);
    constexpr static std::size_t max_array_size = std::size_t(-1);
    constexpr static std::size_t max_key_size = std::size_t(-1);
    constexpr static std::size_t max_string_size = std::size_t(-1);

    explicit Handler(std::size_t max_records) : max_records_(max_records) {}

    boost::json::value_stack stack;

    bool on_document_begin(boost::json::error_code&) { return true; }
    bool on_document_end(boost::json::error_code&) { return true; }
    bool on_object_begin(boost::json::error_code& ec) {
        ++depth_;
        return countRecord(depth_ - 1, ec);
    }
    bool on_object_end(std::size_t n, boost::json::error_code&) {
        --depth_;
        stack.push_object(n);
        return true;
    }
    bool on_array_begin(boost::json::error_code& ec) {
        records_array_ = records_array_ || depth_ == 0;
        ++depth_;
        return countRecord(depth_ - 1, ec);
    }
    bool on_array_end(std::size_t n, boost::json::error_code&) {
        --depth_;
        stack.push_array(n);
        return true;
    }
    bool on_key_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
        stack.push_chars(s);
        return true;
    }
    bool on_key(boost::json::string_view s, std::size_t, boost::json::error_code&) {
        stack.push_key(s);
        return true;
    }
    bool on_string_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
        stack.push_chars(s);
        return true;
    }
    bool on_string(boost::json::string_view s, std::size_t, boost::json::error_code& ec) {
        stack.push_string(s);
        return countRecord(depth_, ec);
    }
    bool on_number_part(boost::json::string_view s, boost::json::error_code&) {
        number_.append(s.data(), s.size());
        return true;
    }
    bool on_int64(std::int64_t i, boost::json::string_view, boost::json::error_code& ec) {
        number_.clear();
        // An int64 that rounds to 2^63 is not exact, and converting 2^63 back would overflow.
        double d = static_cast<double>(i);
        bool exact = (i >= -kExactLimit && i <= kExactLimit) ||
                     (d < 9223372036854775808.0 && static_cast<std::int64_t>(d) == i);
        exact ? stack.push_int64(i) : stack.push_double(std::nan(""));
        return countRecord(depth_, ec);
    }
    bool on_uint64(std::uint64_t u, boost::json::string_view, boost::json::error_code& ec) {
        number_.clear();
        double d = static_cast<double>(u);
        bool exact = d < 18446744073709551616.0 && static_cast<std::uint64_t>(d) == u;
        exact ? stack.push_uint64(u) : stack.push_double(std::nan(""));
        return countRecord(depth_, ec);
    }
    bool on_double(double d, boost::json::string_view s, boost::json::error_code& ec) {
        number_.append(s.data(), s.size());
        d = nearestDouble(number_, d);
        bool inexact =
            isIntegerLiteral(number_) && std::isfinite(d) && !integerLiteralIsExact(number_, d);
        number_.clear();
        stack.push_double(inexact ? std::nan("") : d);
        return countRecord(depth_, ec);
    }
    bool on_bool(bool b, boost::json::error_code& ec) {
        stack.push_bool(b);
        return countRecord(depth_, ec);
    }
    bool on_null(boost::json::error_code& ec) {
        stack.push_null();
        return countRecord(depth_, ec);
    }
    bool on_comment_part(boost::json::string_view, boost::json::error_code&) { return true; }
    bool on_comment(boost::json::string_view, boost::json::error_code&) { return true; }

private:
    // Counts a value found at `depth`; the elements of the top-level array are the records.
    bool countRecord(std::size_t depth, boost::json::error_code& ec) {
        if (depth == 1 && records_array_ && ++records_ > max_records_) {
            ec = boost::json::error::array_too_large;
            return false;
        }
        return true;
    }

    std::string number_;
    std::size_t max_records_;
    std::size_t records_ = 0;
    std::size_t depth_ = 0;
    bool records_array_ = false;
};

}  // namespace

Result<boost::json::value> parseBatchJson(std::string_view text, std::size_t max_depth,
                                          std::size_t max_records) {
    boost::json::parse_options options;
    options.max_depth = max_depth;
    boost::json::basic_parser<Handler> parser(options, max_records);
    parser.handler().stack.reset();
    boost::json::error_code ec;
    std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
    if (!ec && used < text.size()) {
        ec = boost::json::error::extra_data;
    }
    if (ec == boost::json::error::array_too_large) {
        return Error{413,
                     "too_many_records",
                     "at most " + std::to_string(max_records) + " records per batch",
                     {}};
    }
    if (ec) {
        std::string message = ec == boost::json::error::too_deep
                                  ? "JSON nested deeper than " + std::to_string(max_depth)
                                  : "body is not valid JSON: " + ec.message();
        return Error{400, "invalid_json", message, {}};
    }
    return parser.handler().stack.release();
}

}  // namespace esocore::ingest
