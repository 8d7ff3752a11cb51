#pragma once

#include <cstdint>

namespace esocore::testing {

/// The peak resident memory of this process (VmHWM), in bytes. Test servers run in the test
/// process, so this includes the server's memory.
std::int64_t peakResidentBytes();

/// Starts a new peak from the current resident memory; false when the kernel does not allow
/// it, in which case peakResidentBytes() keeps the peak since the process started.
bool resetPeakResident();

}  // namespace esocore::testing
