#pragma once

#include <cstddef>
#include <string>

namespace esocore::testing {

/// What a highly compressible body inflates to: `head`, then `unit` `count` times, then
/// `tail`. The inflated text is never held in memory, so a test can send a body that inflates
/// to far more than it could afford to build.
struct RepeatedText {
    std::string head;
    std::string unit;
    std::size_t count = 0;
    std::string tail;

    std::size_t size() const { return head.size() + unit.size() * count + tail.size(); }
};

/// One gzip member holding `text`, compressed as a stream.
std::string gzipRepeated(const RepeatedText& text);

/// One zstd frame holding `text`, compressed as a stream.
std::string zstdRepeated(const RepeatedText& text);

}  // namespace esocore::testing
