#include "store/postgres/pg_ingest.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <tuple>
#include <unordered_set>

#include "core/crypto.h"

namespace esocore::store::postgres {

namespace {

// Rows of a group's points go through this per-connection table: COPY fills it, one
// INSERT ... SELECT merges it into `points`, and the commit empties it.
constexpr const char* kCreateStaging =
    "CREATE TEMPORARY TABLE IF NOT EXISTS esocore_ingest_points (series_id bigint NOT NULL, "
    "ts bigint NOT NULL, value double precision NOT NULL, meta jsonb) ON COMMIT DELETE ROWS";

constexpr const char* kCopyStaging =
    "COPY esocore_ingest_points (series_id, ts, value, meta) FROM STDIN";

// Returns the points written (new or changed); the others were equal to what was stored. The
// ORDER BY takes row locks in one order in every instance, which keeps them from deadlocking.
constexpr const char* kMergeStaging =
    "INSERT INTO points AS p (series_id, ts, value, meta) "
    "SELECT series_id, ts, value, meta FROM esocore_ingest_points ORDER BY series_id, ts "
    "ON CONFLICT (series_id, ts) DO UPDATE SET value = excluded.value, meta = excluded.meta "
    "WHERE p.value IS DISTINCT FROM excluded.value OR p.meta IS DISTINCT FROM excluded.meta "
    "RETURNING p.series_id, p.ts";

// A key already in the ledger returns nothing: that batch is a replay or a conflict. A
// concurrent transaction holding the same key makes this wait for its outcome.
constexpr const char* kClaimKeys =
    "WITH input AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[]) "
    "WITH ORDINALITY AS t(device_id, idempotency_key, body_sha256, received_at, n)), "
    "claimed AS (INSERT INTO packets (device_id, idempotency_key, body_sha256, received_at, "
    "accepted, duplicates, rejected, points, events) "
    "SELECT device_id, idempotency_key, body_sha256, received_at, 0, 0, 0, 0, 0 FROM input "
    "ORDER BY n ON CONFLICT (device_id, idempotency_key) DO NOTHING "
    "RETURNING id, device_id, idempotency_key) "
    "SELECT input.n, claimed.id FROM claimed JOIN input USING (device_id, idempotency_key)";

constexpr const char* kStoredPackets =
    "SELECT t.n, p.id, p.device_id, p.idempotency_key, p.body_sha256, p.received_at, "
    "p.accepted, p.duplicates, p.rejected, p.points, p.events, p.errors "
    "FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS t(device_id, idempotency_key, n) "
    "JOIN packets p ON p.device_id = t.device_id AND p.idempotency_key = t.idempotency_key";

constexpr const char* kUpsertSeries =
    "WITH input AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[]) "
    "WITH ORDINALITY AS t(device_id, name, unit, n)), "
    "upserted AS (INSERT INTO series (device_id, name, unit, created_at) "
    "SELECT device_id, name, unit, $4::bigint FROM input ORDER BY n "
    "ON CONFLICT (device_id, name) DO UPDATE SET unit = excluded.unit "
    "RETURNING id, device_id, name) "
    "SELECT input.n, upserted.id FROM upserted JOIN input USING (device_id, name)";

constexpr const char* kInsertEvents =
    "INSERT INTO events (id, organization_id, device_id, asset_ref, site_ref, ts, received_at, "
    "type, category, severity, description, duration_ms, metadata, status) "
    "SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], "
    "$6::bigint[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[], "
    "$12::bigint[], $13::jsonb[], $14::text[]) "
    "ON CONFLICT (device_id, type, ts) DO NOTHING RETURNING id";

constexpr const char* kOpenCycle =
    "INSERT INTO asset_cycles (device_id, asset_ref, cycle_id, started_at, metadata) "
    "VALUES ($1::uuid, $2::text, $3::bigint, $4::bigint, $5::jsonb) "
    "ON CONFLICT (device_id, asset_ref, cycle_id) DO UPDATE SET started_at = excluded.started_at";

constexpr const char* kCloseCycle =
    "INSERT INTO asset_cycles (device_id, asset_ref, cycle_id, ended_at, metadata, duration_ms) "
    "VALUES ($1::uuid, $2::text, $3::bigint, $4::bigint, $5::jsonb, $6::bigint) "
    "ON CONFLICT (device_id, asset_ref, cycle_id) DO UPDATE SET ended_at = excluded.ended_at, "
    "duration_ms = coalesce(excluded.duration_ms, "
    "(excluded.ended_at - asset_cycles.started_at) / 1000)";

// A window sent again for the same series and start replaces the stored one.
constexpr const char* kUpsertWindows =
    "INSERT INTO telemetry_windows (device_id, name, start_ts, end_ts, stats, received_at) "
    "SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::bigint[], $5::jsonb[], "
    "$6::bigint[]) ON CONFLICT (device_id, name, start_ts) DO UPDATE SET "
    "end_ts = excluded.end_ts, stats = excluded.stats, received_at = excluded.received_at";

// Locks the devices in id order before updating them, for the same reason as the points.
constexpr const char* kLockDevices =
    "SELECT id FROM devices WHERE id = ANY($1::uuid[]) ORDER BY id FOR NO KEY UPDATE";

constexpr const char* kTouchDevices =
    "UPDATE devices AS d SET last_seen = greatest(coalesce(d.last_seen, 0), t.last_seen), "
    "first_seen = coalesce(d.first_seen, t.first_seen) "
    "FROM unnest($1::uuid[], $2::bigint[], $3::bigint[]) AS t(id, first_seen, last_seen) "
    "WHERE d.id = t.id";

constexpr const char* kFinishPackets =
    "UPDATE packets AS p SET accepted = t.accepted, duplicates = t.duplicates, "
    "rejected = t.rejected, points = t.points, events = t.events, errors = t.errors "
    "FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], "
    "$6::bigint[], $7::jsonb[]) AS t(id, accepted, duplicates, rejected, points, events, "
    "errors) WHERE p.id = t.id";

constexpr const char* kRewritePoint =
    "UPDATE points SET value = $3::double precision, meta = $4::jsonb "
    "WHERE series_id = $1::bigint AND ts = $2::bigint";

std::string errorsJson(const std::vector<RecordError>& errors) {
    boost::json::array out;
    out.reserve(errors.size());
    for (const auto& e : errors) {
        out.push_back(boost::json::object{{"index", e.index}, {"code", e.code}});
    }
    return boost::json::serialize(out);
}

// Equal as PostgreSQL compares jsonb: the same JSON value, however it is spelled.
bool sameMeta(const std::string& a, const std::string& b) {
    if (a == b) {
        return true;
    }
    if (a.empty() || b.empty()) {
        return false;
    }
    boost::system::error_code ea;
    boost::system::error_code eb;
    auto va = boost::json::parse(a, ea);
    auto vb = boost::json::parse(b, eb);
    return !ea && !eb && va == vb;
}

bool samePoint(const PointRow& a, const PointRow& b) {
    return a.value == b.value && sameMeta(a.meta_json, b.meta_json);
}

// Appends `text` as one field of COPY's text format.
void appendCopyField(std::string& out, std::string_view text) {
    for (char c : text) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                out += c;
        }
    }
}

// Where one point of a group came from, so that its outcome is counted for its batch.
struct PointRef {
    std::int64_t series_id;
    Micros ts;
    std::uint32_t batch;
    std::uint32_t point;

    bool sameKey(const PointRef& other) const {
        return series_id == other.series_id && ts == other.ts;
    }
    bool operator<(const PointRef& other) const {
        return series_id != other.series_id ? series_id < other.series_id : ts < other.ts;
    }
};

// The columns of a multi-row event insert, one array per column.
struct EventColumns {
    ArrayLiteral id, organization, device, asset, site, ts, received, type, category, severity,
        description, duration, metadata, status;

    void add(const IngestBatch& batch, const EventRow& event, const std::string& event_id) {
        id.add(event_id);
        organization.addOrNull(batch.organization_id);
        device.add(batch.device_id);
        asset.add(event.asset_ref);
        site.add(event.site_ref);
        ts.add(std::int64_t{event.ts});
        received.add(std::int64_t{batch.received_at});
        type.add(event.type);
        category.add(event.category);
        severity.add(event.severity);
        description.add(event.description);
        duration.add(event.duration_ms);
        metadata.add(event.meta_json.empty() ? std::string_view("{}") : event.meta_json);
        status.add(event.severity == "info" ? "resolved" : "active");
    }

    Params params() const {
        Params p;
        for (const ArrayLiteral* column :
             {&id, &organization, &device, &asset, &site, &ts, &received, &type, &category,
              &severity, &description, &duration, &metadata, &status}) {
            p.add(column->str());
        }
        return p;
    }
};

// Outside a transaction: a temporary table created inside one vanishes on rollback.
Result<void> prepareStaging(Connection& c) {
    if (c.hasSetUp("staging")) {
        return {};
    }
    if (auto ok = c.exec(kCreateStaging); !ok) {
        return ok;
    }
    c.markSetUp("staging");
    return {};
}

Result<void> writeCycle(Connection& c, const std::string& device_id, const EventRow& event) {
    const CycleMark& cycle = *event.cycle;
    Params params;
    params.add(device_id)
        .add(cycle.asset_ref)
        .add(cycle.cycle_id)
        .add(std::int64_t{event.ts})
        .add(event.meta_json.empty() ? std::string_view("{}") : event.meta_json);
    if (!cycle.opens) {
        params.add(cycle.duration_ms);
    }
    auto ok = c.query(cycle.opens ? kOpenCycle : kCloseCycle, params);
    if (!ok) {
        return ok.takeError();
    }
    return {};
}

/// One group commit, as a sequence of steps inside one transaction.
class GroupCommit {
public:
    GroupCommit(Connection& c, SeriesCache& cache, std::span<IngestBatch* const> batches)
        : c_(c),
          cache_(cache),
          batches_(batches),
          original_(batches.size(), -1),
          apply_(batches.size(), false),
          packets_(batches.size()),
          counts_(batches.size()) {}

    Result<std::vector<IngestOutcome>> run();

private:
    using Step = Result<void> (GroupCommit::*)();

    void findRepeatedKeys();
    Result<void> claimKeys();
    Result<void> readStoredPackets(const std::vector<std::size_t>& stored);
    Result<void> resolveSeries();
    Result<void> writePoints();
    std::vector<std::size_t> countRepeats(const std::vector<PointRef>& refs,
                                          std::vector<std::size_t>& rewrites);
    Result<void> mergeStaged(const std::vector<PointRef>& refs,
                             const std::vector<std::size_t>& staged);
    Result<void> writeGroupEvents() { return writeEvents(c_, batches_, apply_, counts_); }
    Result<void> writeWindows();
    Result<void> touchDevices();
    Result<void> finishPackets();
    std::vector<IngestOutcome> outcomes() const;

    const PointRow& pointOf(const PointRef& ref) const {
        return batches_[ref.batch]->points[ref.point];
    }

    Connection& c_;
    SeriesCache& cache_;
    std::span<IngestBatch* const> batches_;
    std::vector<int> original_;  // an earlier batch of the group with the same key, or -1
    std::vector<bool> apply_;
    std::vector<Packet> packets_;  // applied: the new entry; otherwise the stored one
    std::vector<IngestCounts> counts_;
    std::unordered_map<std::string, std::int64_t> series_ids_;
    std::vector<std::pair<std::string, std::int64_t>> new_series_;
};

Result<std::vector<IngestOutcome>> GroupCommit::run() {
    findRepeatedKeys();
    auto tx = Transaction::begin(c_);
    if (!tx) {
        return tx.takeError();
    }
    for (Step step :
         {&GroupCommit::claimKeys, &GroupCommit::resolveSeries, &GroupCommit::writePoints,
          &GroupCommit::writeGroupEvents, &GroupCommit::writeWindows, &GroupCommit::touchDevices,
          &GroupCommit::finishPackets}) {
        if (auto ok = (this->*step)(); !ok) {
            return ok.takeError();
        }
    }
    if (auto ok = tx->commit(); !ok) {
        return ok.takeError();
    }
    cache_.insert(new_series_);
    return outcomes();
}

void GroupCommit::findRepeatedKeys() {
    std::map<std::pair<std::string, std::string>, int> first;
    for (std::size_t i = 0; i < batches_.size(); ++i) {
        auto [it, inserted] = first.try_emplace(
            {batches_[i]->device_id, batches_[i]->idempotency_key}, static_cast<int>(i));
        if (!inserted) {
            original_[i] = it->second;
        }
    }
}

Result<void> GroupCommit::claimKeys() {
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < batches_.size(); ++i) {
        if (original_[i] < 0) {
            order.push_back(i);
        }
    }
    // One order of ledger locks in every instance.
    std::sort(order.begin(), order.end(), [this](std::size_t a, std::size_t b) {
        return std::tie(batches_[a]->device_id, batches_[a]->idempotency_key) <
               std::tie(batches_[b]->device_id, batches_[b]->idempotency_key);
    });
    ArrayLiteral devices, keys, shas, received;
    for (std::size_t i : order) {
        devices.add(batches_[i]->device_id);
        keys.add(batches_[i]->idempotency_key);
        shas.add(batches_[i]->body_sha256);
        received.add(std::int64_t{batches_[i]->received_at});
    }
    auto rows =
        c_.query(kClaimKeys,
                 Params().add(devices.str()).add(keys.str()).add(shas.str()).add(received.str()));
    if (!rows) {
        return rows.takeError();
    }
    for (int row = 0; row < rows->size(); ++row) {
        std::size_t i = order[static_cast<std::size_t>(rows->integer(row, 0) - 1)];
        apply_[i] = true;
        packets_[i].id = rows->integer(row, 1);
    }
    std::vector<std::size_t> stored;
    std::copy_if(order.begin(), order.end(), std::back_inserter(stored),
                 [this](std::size_t i) { return !apply_[i]; });
    return stored.empty() ? Result<void>() : readStoredPackets(stored);
}

Result<void> GroupCommit::readStoredPackets(const std::vector<std::size_t>& stored) {
    ArrayLiteral devices, keys;
    for (std::size_t i : stored) {
        devices.add(batches_[i]->device_id);
        keys.add(batches_[i]->idempotency_key);
    }
    auto rows = c_.query(kStoredPackets, Params().add(devices.str()).add(keys.str()));
    if (!rows) {
        return rows.takeError();
    }
    if (static_cast<std::size_t>(rows->size()) != stored.size()) {
        // Purged between the claim and this read: the device retries and finds no key.
        return Error{503, "store_unavailable", "a ledger entry was removed during its replay", {}};
    }
    for (int row = 0; row < rows->size(); ++row) {
        std::size_t i = stored[static_cast<std::size_t>(rows->integer(row, 0) - 1)];
        packets_[i] = readPacket(*rows, row, 1);
    }
    return {};
}

Result<void> GroupCommit::resolveSeries() {
    // Sorted, so that every instance takes the series row locks in one order.
    std::map<std::string, std::pair<const std::string*, const PointRow*>> missing;
    for (std::size_t b = 0; b < batches_.size(); ++b) {
        if (!apply_[b]) {
            continue;
        }
        for (const PointRow& point : batches_[b]->points) {
            std::string key = SeriesCache::key(batches_[b]->device_id, point.series);
            if (series_ids_.contains(key) || missing.contains(key)) {
                continue;
            }
            if (auto id = cache_.find(key)) {
                series_ids_.emplace(std::move(key), *id);
            } else {
                missing.emplace(std::move(key), std::pair(&batches_[b]->device_id, &point));
            }
        }
    }
    if (missing.empty()) {
        return {};
    }
    ArrayLiteral devices, names, units;
    std::vector<const std::string*> keys;
    for (const auto& [key, source] : missing) {
        devices.add(*source.first);
        names.add(source.second->series);
        units.add(source.second->unit);
        keys.push_back(&key);
    }
    auto rows = c_.query(kUpsertSeries, Params()
                                            .add(devices.str())
                                            .add(names.str())
                                            .add(units.str())
                                            .add(std::int64_t{nowMicros()}));
    if (!rows) {
        return rows.takeError();
    }
    for (int row = 0; row < rows->size(); ++row) {
        const std::string& key = *keys[static_cast<std::size_t>(rows->integer(row, 0) - 1)];
        series_ids_[key] = rows->integer(row, 1);
        new_series_.emplace_back(key, rows->integer(row, 1));
    }
    return {};
}

Result<void> GroupCommit::writePoints() {
    std::vector<PointRef> refs;
    for (std::uint32_t b = 0; b < batches_.size(); ++b) {
        if (!apply_[b]) {
            continue;
        }
        const auto& points = batches_[b]->points;
        for (std::uint32_t p = 0; p < points.size(); ++p) {
            auto id = series_ids_.at(SeriesCache::key(batches_[b]->device_id, points[p].series));
            refs.push_back(PointRef{id, points[p].ts, b, p});
        }
    }
    if (refs.empty()) {
        return {};
    }
    // A stable sort keeps arrival order among equal keys, so that the last write wins.
    std::stable_sort(refs.begin(), refs.end());
    std::vector<std::size_t> rewrites;
    std::vector<std::size_t> staged = countRepeats(refs, rewrites);
    if (auto ok = mergeStaged(refs, staged); !ok) {
        return ok;
    }
    for (std::size_t last : rewrites) {
        const PointRow& point = pointOf(refs[last]);
        auto ok = c_.query(kRewritePoint, Params()
                                              .add(refs[last].series_id)
                                              .add(std::int64_t{point.ts})
                                              .add(point.value)
                                              .addOrNull(point.meta_json));
        if (!ok) {
            return ok.takeError();
        }
    }
    return {};
}

// Counts the repeats of one (series, ts) within the group the way one-by-one inserts would
// (each against the one before it); returns the first of each key, the rows to merge, and
// adds to `rewrites` the last of each key whose value changed within the group.
std::vector<std::size_t> GroupCommit::countRepeats(const std::vector<PointRef>& refs,
                                                   std::vector<std::size_t>& rewrites) {
    std::vector<std::size_t> staged;
    for (std::size_t first = 0; first < refs.size();) {
        std::size_t end = first + 1;
        bool changed = false;
        for (; end < refs.size() && refs[end].sameKey(refs[first]); ++end) {
            IngestCounts& counts = counts_[refs[end].batch];
            if (samePoint(pointOf(refs[end - 1]), pointOf(refs[end]))) {
                ++counts.duplicates;
                continue;
            }
            ++counts.accepted;
            ++counts.points;
            changed = true;
        }
        staged.push_back(first);
        if (changed) {
            rewrites.push_back(end - 1);
        }
        first = end;
    }
    return staged;
}

Result<void> GroupCommit::mergeStaged(const std::vector<PointRef>& refs,
                                      const std::vector<std::size_t>& staged) {
    std::string copy;
    copy.reserve(staged.size() * 48);
    for (std::size_t i : staged) {
        const PointRow& point = pointOf(refs[i]);
        copy += fmt::format("{}\t{}\t{}\t", refs[i].series_id, point.ts, point.value);
        if (point.meta_json.empty()) {
            copy += "\\N";
        } else {
            appendCopyField(copy, point.meta_json);
        }
        copy += '\n';
    }
    if (auto ok = c_.copyIn(kCopyStaging, copy); !ok) {
        return ok;
    }
    auto written = c_.query(kMergeStaging);
    if (!written) {
        return written.takeError();
    }
    std::vector<std::pair<std::int64_t, Micros>> changed;
    changed.reserve(static_cast<std::size_t>(written->size()));
    for (int row = 0; row < written->size(); ++row) {
        changed.emplace_back(written->integer(row, 0), written->integer(row, 1));
    }
    std::sort(changed.begin(), changed.end());
    // Both lists are in key order: walk them together.
    auto next = changed.begin();
    for (std::size_t i : staged) {
        IngestCounts& counts = counts_[refs[i].batch];
        if (next != changed.end() && next->first == refs[i].series_id &&
            next->second == refs[i].ts) {
            ++counts.accepted;
            ++counts.points;
            ++next;
        } else {
            ++counts.duplicates;
        }
    }
    return {};
}

Result<void> GroupCommit::writeWindows() {
    // One row per (device, name, start), the last sent winning: one statement may not update
    // a row twice. Key order keeps the row locks of concurrent groups in one order.
    std::map<std::tuple<std::string_view, std::string_view, Micros>,
             std::pair<const IngestBatch*, const WindowRow*>>
        latest;
    for (std::size_t b = 0; b < batches_.size(); ++b) {
        if (!apply_[b]) {
            continue;
        }
        for (const WindowRow& window : batches_[b]->windows) {
            latest[{batches_[b]->device_id, window.name, window.start}] = {batches_[b], &window};
        }
    }
    if (latest.empty()) {
        return {};
    }
    ArrayLiteral devices, names, starts, ends, stats, received;
    for (const auto& [key, source] : latest) {
        const auto& [batch, window] = source;
        devices.add(batch->device_id);
        names.add(window->name);
        starts.add(std::int64_t{window->start});
        ends.add(std::int64_t{window->end});
        stats.add(window->stats_json);
        received.add(std::int64_t{batch->received_at});
    }
    auto ok = c_.query(kUpsertWindows, Params()
                                           .add(devices.str())
                                           .add(names.str())
                                           .add(starts.str())
                                           .add(ends.str())
                                           .add(stats.str())
                                           .add(received.str()));
    return ok ? Result<void>() : Result<void>(ok.takeError());
}

Result<void> GroupCommit::touchDevices() {
    std::map<std::string, std::pair<Micros, Micros>> seen;  // first and last received_at
    for (std::size_t i = 0; i < batches_.size(); ++i) {
        if (!apply_[i]) {
            continue;
        }
        Micros at = batches_[i]->received_at;
        auto [it, inserted] = seen.try_emplace(batches_[i]->device_id, at, at);
        it->second.second = std::max(it->second.second, at);
    }
    if (seen.empty()) {
        return {};
    }
    ArrayLiteral devices, first, last;
    for (const auto& [device, times] : seen) {
        devices.add(device);
        first.add(std::int64_t{times.first});
        last.add(std::int64_t{times.second});
    }
    if (auto locked = c_.query(kLockDevices, Params().add(devices.str())); !locked) {
        return locked.takeError();
    }
    auto ok = c_.query(kTouchDevices, Params().add(devices.str()).add(first.str()).add(last.str()));
    return ok ? Result<void>() : Result<void>(ok.takeError());
}

Result<void> GroupCommit::finishPackets() {
    ArrayLiteral ids, accepted, duplicates, rejected, points, events, errors;
    for (std::size_t i = 0; i < batches_.size(); ++i) {
        if (!apply_[i]) {
            continue;
        }
        const IngestBatch& batch = *batches_[i];
        IngestCounts& counts = counts_[i];
        counts.rejected = batch.rejected;
        Packet& packet = packets_[i];
        packet =
            Packet{packet.id,         batch.device_id, batch.idempotency_key,   batch.body_sha256,
                   batch.received_at, counts,          errorsJson(batch.errors)};
        ids.add(packet.id);
        accepted.add(counts.accepted);
        duplicates.add(counts.duplicates);
        rejected.add(counts.rejected);
        points.add(counts.points);
        events.add(counts.events);
        errors.add(packet.errors_json);
    }
    if (ids.str() == "{}") {
        return {};
    }
    auto ok = c_.query(kFinishPackets, Params()
                                           .add(ids.str())
                                           .add(accepted.str())
                                           .add(duplicates.str())
                                           .add(rejected.str())
                                           .add(points.str())
                                           .add(events.str())
                                           .add(errors.str()));
    return ok ? Result<void>() : Result<void>(ok.takeError());
}

std::vector<IngestOutcome> GroupCommit::outcomes() const {
    std::vector<IngestOutcome> out(batches_.size());
    for (std::size_t i = 0; i < batches_.size(); ++i) {
        if (apply_[i]) {
            out[i] = IngestOutcome{IngestOutcome::Kind::applied, packets_[i]};
            continue;
        }
        // A repeated key within the group answers with the earlier batch's entry.
        const Packet& packet = original_[i] >= 0 ? packets_[original_[i]] : packets_[i];
        out[i].packet = packet;
        out[i].kind = packet.body_sha256 == batches_[i]->body_sha256
                          ? IngestOutcome::Kind::replayed
                          : IngestOutcome::Kind::conflict;
    }
    return out;
}

}  // namespace

std::string SeriesCache::key(const std::string& device_id, const std::string& name) {
    std::string key;
    key.reserve(device_id.size() + name.size() + 1);
    key += device_id;
    key += '\x1f';
    key += name;
    return key;
}

std::optional<std::int64_t> SeriesCache::find(const std::string& key) const {
    std::lock_guard lock(mutex_);
    if (auto found = ids_.find(key); found != ids_.end()) {
        return found->second;
    }
    return std::nullopt;
}

void SeriesCache::insert(const std::vector<std::pair<std::string, std::int64_t>>& entries) {
    std::lock_guard lock(mutex_);
    for (const auto& [key, id] : entries) {
        ids_[key] = id;
    }
}

Packet readPacket(const Rows& rows, int row, int first) {
    Packet p;
    p.id = rows.integer(row, first);
    p.device_id = rows.text(row, first + 1);
    p.idempotency_key = rows.text(row, first + 2);
    p.body_sha256 = rows.text(row, first + 3);
    p.received_at = rows.integer(row, first + 4);
    p.counts = {rows.integer(row, first + 5), rows.integer(row, first + 6),
                rows.integer(row, first + 7), rows.integer(row, first + 8),
                rows.integer(row, first + 9)};
    p.errors_json = rows.text(row, first + 10);
    return p;
}

Result<void> writeEvents(Connection& c, std::span<IngestBatch* const> batches,
                         const std::vector<bool>& apply, std::vector<IngestCounts>& counts) {
    struct EventRef {
        std::size_t batch;
        const EventRow* event;
        std::string id;
    };
    std::vector<EventRef> refs;
    EventColumns columns;
    for (std::size_t b = 0; b < batches.size(); ++b) {
        if (!apply[b]) {
            continue;
        }
        for (const EventRow& event : batches[b]->events) {
            refs.push_back(EventRef{b, &event, newUuid()});
            columns.add(*batches[b], event, refs.back().id);
        }
    }
    if (refs.empty()) {
        return {};
    }
    auto rows = c.query(kInsertEvents, columns.params());
    if (!rows) {
        return rows.takeError();
    }
    std::unordered_set<std::string> inserted;
    for (int row = 0; row < rows->size(); ++row) {
        inserted.insert(rows->text(row, 0));
    }
    for (const EventRef& ref : refs) {
        IngestCounts& tally = counts[ref.batch];
        if (!inserted.contains(ref.id)) {
            ++tally.duplicates;
            continue;
        }
        ++tally.events;
        ++tally.accepted;
        if (ref.event->cycle) {
            if (auto ok = writeCycle(c, batches[ref.batch]->device_id, *ref.event); !ok) {
                return ok;
            }
        }
    }
    return {};
}

Result<std::vector<IngestOutcome>> commitGroup(Connection& c, SeriesCache& series,
                                               std::span<IngestBatch* const> batches) {
    if (batches.empty()) {
        return std::vector<IngestOutcome>();
    }
    if (auto ok = prepareStaging(c); !ok) {
        return ok.takeError();
    }
    return GroupCommit(c, series, batches).run();
}

}  // namespace esocore::store::postgres
