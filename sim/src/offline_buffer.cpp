#include "offline_buffer.h"

#include <algorithm>
#include <vector>

namespace esocore::sim {

OfflineBuffer::OfflineBuffer(std::size_t capacity)
    : capacity_(std::max<std::size_t>(capacity, 1)) {}

bool OfflineBuffer::push(std::string record_json) {
    if (backlog() < capacity_) {
        queued_.push_back(std::move(record_json));
        return false;
    }
    ++dropped_;
    // The open batch may already be stored on the server, so room comes from the queue; with
    // nothing queued the new record is the one lost.
    if (!queued_.empty()) {
        queued_.pop_front();
        queued_.push_back(std::move(record_json));
    }
    return true;
}

SealedBatch* OfflineBuffer::openBatch(std::size_t max_records, Encoding encoding) {
    if (open_) {
        return &*open_;
    }
    if (queued_.empty()) {
        return nullptr;
    }
    const std::size_t count = std::min(std::max<std::size_t>(max_records, 1), queued_.size());
    std::vector<std::string> records(std::make_move_iterator(queued_.begin()),
                                     std::make_move_iterator(queued_.begin() + count));
    queued_.erase(queued_.begin(), queued_.begin() + count);
    open_ = sealBatch(records, encoding);
    return &*open_;
}

SealedBatch* OfflineBuffer::currentBatch() {
    return open_ ? &*open_ : nullptr;
}

std::size_t OfflineBuffer::closeBatch() {
    const std::size_t count = open_ ? open_->record_count : 0;
    open_.reset();
    return count;
}

std::size_t OfflineBuffer::backlog() const {
    return queued_.size() + (open_ ? open_->record_count : 0);
}

}  // namespace esocore::sim
