#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "api/telemetry_points.h"
#include "api/telemetry_time.h"
#include "http/message.h"

namespace esocore::api {

enum class ExportFormat { csv, ndjson };

/// A text cell of the CSV export (RFC 4180): a cell that a spreadsheet would run as a formula
/// (it starts with = + - @, tab or CR) gets a leading single quote; a cell with a comma,
/// quote, CR or LF is quoted, its quotes doubled.
std::string csvCell(std::string_view text);

/// A reading as the export writes it: the shortest text that reads back as the same double.
std::string exportNumber(double value);

/// The lines of an export of one device's points.
class ExportWriter {
public:
    /// `device` names the device in each line (its serial number).
    ExportWriter(ExportFormat format, Zone zone, std::string device)
        : format_(format), zone_(std::move(zone)), device_(std::move(device)) {}

    /// What the body begins with: the CSV header line, nothing for NDJSON.
    std::string header() const;
    /// Appends the line of one point: a CSV record ending in CRLF, or one JSON object and LF.
    void append(std::string& out, const WalkedPoint& point) const;

private:
    ExportFormat format_;
    Zone zone_;
    std::string device_;
};

/// Streams the points of `walk` as lines of `writer`, in pieces of about 64 KiB, so that an
/// export of any size holds one page per series in memory.
http::BodyProducer exportProducer(std::shared_ptr<PointWalk> walk, ExportWriter writer);

}  // namespace esocore::api
