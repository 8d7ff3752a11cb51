#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>

#include "batch_builder.h"

namespace esocore::sim {

/// A device's store-and-forward queue. Records stay here until a batch holding them is
/// acknowledged; at most one batch is open (sent or about to be) at a time, and it is resent
/// unchanged until the server acknowledges or refuses it.
class OfflineBuffer {
public:
    /// `capacity` bounds queued plus open-batch records, like the SD card's ring buffer.
    explicit OfflineBuffer(std::size_t capacity);

    /// Queues one serialized record. When full the oldest queued record is dropped to make room
    /// (never one in the open batch); returns whether a record was dropped.
    bool push(std::string record_json);

    /// The open batch, sealing one from the oldest queued records when none is open.
    /// Returns nullptr when nothing is buffered.
    SealedBatch* openBatch(std::size_t max_records, Encoding encoding);

    /// The open batch, or nullptr.
    SealedBatch* currentBatch();

    /// Forgets the open batch once the server acknowledged or refused it; returns its record
    /// count.
    std::size_t closeBatch();

    /// Records not yet in a batch.
    std::size_t queued() const { return queued_.size(); }

    /// Records waiting for an acknowledgement: queued plus those in the open batch.
    std::size_t backlog() const;

    /// Records lost because the buffer was full.
    std::size_t droppedRecords() const { return dropped_; }

private:
    std::size_t capacity_;
    std::deque<std::string> queued_;
    std::optional<SealedBatch> open_;
    std::size_t dropped_ = 0;
};

}  // namespace esocore::sim
