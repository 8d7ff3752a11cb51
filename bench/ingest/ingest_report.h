#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "esocore_server.h"
#include "ingest_driver.h"
#include "raw_append.h"

namespace esocore::bench {

/// The shape of the run, repeated in the report so a RESULT line stands on its own.
struct RunShape {
    std::string store;  // "sqlite" or "postgresql"
    std::uint64_t points = 0;
    std::size_t batches = 0;
    std::uint32_t batch_size = 0;
    std::uint32_t devices = 0;
    std::uint32_t connections = 0;
};

/// Everything one full run measured.
struct IngestFigures {
    RunShape shape;
    RawAppendResult raw;
    DriveResult drive;
    std::optional<std::uint64_t> server_peak_kib;
    ServerStop server_stop;
};

/// Nearest-rank percentile (`fraction` in (0, 1]) of `samples`; 0 when there are none.
double percentile(std::vector<double> samples, double fraction);

/// Prints the figures for people, then one `RESULT {...}` line for scripts, on stdout.
void printIngestReport(const IngestFigures& figures);

/// The report of a `--raw-only` run.
void printRawReport(const RunShape& shape, const RawAppendResult& raw);

/// True when every batch was stored and the server shut down cleanly.
bool runSucceeded(const IngestFigures& figures);

}  // namespace esocore::bench
