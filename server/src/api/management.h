#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "accounts/audit_log.h"
#include "api/principal.h"
#include "auth/permissions.h"
#include "core/config.h"
#include "core/result.h"
#include "http/message.h"
#include "http/router.h"
#include "store/sql.h"
#include "store/store.h"

namespace esocore::live {
class Bus;
}

namespace esocore::api {

/// What every management area needs: configuration, the store, portable SQL, the
/// authenticator of callers, and the bus that changes are published to for live updates
/// (live/publish.h).
struct ApiContext {
    const Config& config;
    store::Store& store;
    store::SqlSession& sql;
    const RequestAuthenticator& authenticator;
    live::Bus& live;
};

/// A management handler: runs only for an authenticated caller.
using ManagedHandler = std::function<http::Response(const http::Request&, const Principal&)>;

/// Adds a route that first authenticates the caller (401 not_authenticated, 403 csrf_failed)
/// and then runs `handler`. A failure of the store inside the handler answers 500.
void addManaged(http::Router& router, const RequestAuthenticator& authenticator, std::string method,
                std::string pattern, ManagedHandler handler, http::RouteOptions options = {});

/// The one answer for an object that does not exist or that the caller may not see:
/// 404 not_found "<what> not found", the same body in both cases.
Error notFound(std::string_view what);

/// Whether any of the principal's memberships covers the target, whatever its role.
bool maySee(const Principal& principal, const Target& target);

/// Ok when the principal may perform `action` on `target`; 404 (notFound(what)) when it
/// cannot see the target at all; 403 permission_denied when it sees it but its role does
/// not allow the action.
Result<void> require(const Principal& principal, auth::Action action, const Target& target,
                     std::string_view what);

/// Columns (SQL expressions) of a listed table that place a row: its organization and, when
/// the table has them, its site and device. Empty when the row has no such column.
struct ScopeColumns {
    std::string organization;
    std::string site;
    std::string device;
};

/// A SQL condition that keeps the rows on which the principal may perform `action`, with
/// its values appended to `params` (`$N` numbered after those already there). "1 = 1" for
/// platform staff, "1 = 0" when no membership allows the action.
std::string allowedRows(const Principal& principal, auth::Action action,
                        const ScopeColumns& columns, store::SqlParams& params);

/// The organizations in which the principal holds an organization-wide membership allowing
/// `action` (all of them for staff is not implied: staff see every organization).
std::vector<std::string> organizationsAllowing(const Principal& principal, auth::Action action);

/// The organization a new object goes into: the body's `organization_id` when given (the
/// caller must be allowed `action` there, else 404/403 as for any object), or the single
/// organization in which the caller may do it. 400 organization_required when that is
/// ambiguous.
Result<std::string> targetOrganization(const Principal& principal, auth::Action action,
                                       const std::optional<std::string>& requested);

/// Appends one change to the audit log, as done by the principal from this request.
Result<void> audit(store::SqlSession& sql, const Principal& principal, const http::Request& request,
                   const std::string& organization_id, accounts::AuditEntry entry);

/// `$N` for the next parameter: appends `value` to `params` and returns its placeholder.
std::string addParam(store::SqlParams& params, store::SqlValue value);

}  // namespace esocore::api
