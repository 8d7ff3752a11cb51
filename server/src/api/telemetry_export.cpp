#include "api/telemetry_export.h"

#include <boost/json.hpp>
#include <charconv>

namespace esocore::api {

namespace json = boost::json;

namespace {

constexpr std::size_t kPieceBytes = 64 * 1024;

bool startsFormula(std::string_view text) {
    if (text.empty()) {
        return false;
    }
    switch (text.front()) {
        case '=':
        case '+':
        case '-':
        case '@':
        case '\t':
        case '\r':
            return true;
        default:
            return false;
    }
}

std::string jsonText(std::string_view text) {
    return json::serialize(json::string(text));
}

// Stored meta is JSON already; it is parsed again so that each line is sure to be one line.
std::string metaJson(const std::optional<std::string>& meta) {
    if (!meta || meta->empty()) {
        return "null";
    }
    json::error_code ec;
    json::value value = json::parse(*meta, ec);
    return ec ? "null" : json::serialize(value);
}

}  // namespace

std::string csvCell(std::string_view text) {
    std::string cell;
    cell.reserve(text.size() + 3);
    if (startsFormula(text)) {
        cell.push_back('\'');
    }
    cell.append(text);
    if (cell.find_first_of(",\"\r\n") == std::string::npos) {
        return cell;
    }
    std::string quoted = "\"";
    for (char c : cell) {
        quoted.push_back(c);
        if (c == '"') {
            quoted.push_back('"');
        }
    }
    quoted.push_back('"');
    return quoted;
}

std::string exportNumber(double value) {
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    return ec == std::errc() ? std::string(buffer, end) : std::string("0");
}

std::string ExportWriter::header() const {
    return format_ == ExportFormat::csv ? "timestamp,device,metric,value,unit\r\n" : "";
}

void ExportWriter::append(std::string& out, const WalkedPoint& point) const {
    std::string timestamp = zone_.format(point.ts, fractionDigits(point.ts));
    if (format_ == ExportFormat::csv) {
        out.append(timestamp).append(",").append(csvCell(device_)).append(",");
        out.append(csvCell(point.series->name)).append(",").append(exportNumber(point.value));
        out.append(",").append(csvCell(point.series->unit)).append("\r\n");
        return;
    }
    out.append(R"({"timestamp":")").append(timestamp).append(R"(","device":)");
    out.append(jsonText(device_)).append(R"(,"metric":)").append(jsonText(point.series->name));
    out.append(R"(,"value":)").append(exportNumber(point.value));
    out.append(R"(,"unit":)").append(jsonText(point.series->unit));
    out.append(R"(,"meta":)").append(metaJson(point.meta)).append("}\n");
}

http::BodyProducer exportProducer(std::shared_ptr<PointWalk> walk, ExportWriter writer) {
    struct State {
        std::shared_ptr<PointWalk> walk;
        ExportWriter writer;
        bool header_sent = false;
        bool finished = false;
    };
    auto state = std::make_shared<State>(State{std::move(walk), std::move(writer)});
    return [state]() -> Result<std::string> {
        std::string piece;
        if (!state->header_sent) {
            piece = state->writer.header();
            state->header_sent = true;
        }
        while (!state->finished && piece.size() < kPieceBytes) {
            auto point = state->walk->next();
            if (!point) {
                return point.takeError();
            }
            if (!*point) {
                state->finished = true;
                break;
            }
            state->writer.append(piece, **point);
        }
        return piece;
    };
}

}  // namespace esocore::api
