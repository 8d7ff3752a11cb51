#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"

namespace esocore::store {

/// One value bound to or read from a statement.
using SqlValue = std::variant<std::nullptr_t, std::int64_t, double, std::string>;
using SqlParams = std::vector<SqlValue>;

/// One row of an answer. Both stores hand back the same kinds of values: integers (and
/// PostgreSQL booleans, as 0 or 1), reals, text (anything else, uuid included), or null.
class SqlRow {
public:
    explicit SqlRow(std::vector<SqlValue> values) : values_(std::move(values)) {}

    std::size_t size() const { return values_.size(); }
    const SqlValue& value(std::size_t column) const { return values_.at(column); }
    bool isNull(std::size_t column) const;
    /// Text as stored; a number in its decimal form; empty for null.
    std::string text(std::size_t column) const;
    /// An integer; a real truncated; text parsed; 0 for null.
    std::int64_t integer(std::size_t column) const;
    double real(std::size_t column) const;
    std::optional<std::int64_t> optionalInteger(std::size_t column) const;
    std::optional<std::string> optionalText(std::size_t column) const;

private:
    std::vector<SqlValue> values_;
};

/// Portable SQL over either store, for the management resources that must behave alike on
/// SQLite and PostgreSQL. Statements use `$1, $2, ...` placeholders and SQL both dialects
/// accept (ON CONFLICT, RETURNING, LIMIT/OFFSET, lower, coalesce). PostgreSQL infers each
/// parameter's type from where it stands, so a parameter goes beside a column or literal
/// (`created_at > $1`), never into arithmetic with another parameter (compute `$1 - $2` in
/// C++). The ingest path keeps its own dialect-specific code. Safe to call from several
/// threads.
class SqlSession {
public:
    virtual ~SqlSession() = default;

    /// "sqlite" or "postgresql".
    virtual std::string dialect() const = 0;

    /// Runs one statement and returns its rows (none for a statement without RETURNING).
    virtual Result<std::vector<SqlRow>> query(std::string_view sql,
                                              const SqlParams& params = {}) = 0;

    /// Runs one statement and returns how many rows it inserted, updated or deleted.
    virtual Result<std::int64_t> execute(std::string_view sql, const SqlParams& params = {}) = 0;

    /// Runs `work` in one transaction, committed when it succeeds and rolled back otherwise.
    /// Inside, use only the session passed to `work`: on SQLite it holds the one writer.
    /// A transaction begun inside `work` joins the outer one.
    virtual Result<void> transaction(const std::function<Result<void>(SqlSession&)>& work) = 0;
};

/// An integer, or null when absent.
SqlValue integerOrNull(std::optional<std::int64_t> value);
/// Text, or null when empty.
SqlValue textOrNull(const std::string& text);

/// `$N` placeholders as SQLite's `?N`, leaving quoted literals and identifiers alone.
std::string sqlitePlaceholders(std::string_view sql);

}  // namespace esocore::store
