#include "api/management.h"

#include <algorithm>

#include "core/log.h"
#include "http/response.h"

namespace esocore::api {

void addManaged(http::Router& router, const RequestAuthenticator& authenticator, std::string method,
                std::string pattern, ManagedHandler handler, http::RouteOptions options) {
    router.add(
        std::move(method), std::move(pattern),
        http::SyncHandler([&authenticator, handler = std::move(handler)](const http::Request& r) {
            auto principal = authenticator.authenticate(r);
            if (!principal) {
                return http::errorResponse(principal.error());
            }
            http::Response response = handler(r, *principal);
            if (response.header("cache-control").empty()) {
                response.setHeader("cache-control", "no-store");
            }
            return response;
        }),
        options);
}

Error notFound(std::string_view what) {
    return Error{404, "not_found", std::string(what) + " not found", {}};
}

namespace {

bool covers(const accounts::Membership& m, const Target& target) {
    if (m.organization_id != target.organization_id) {
        return false;
    }
    switch (m.scope) {
        case auth::Scope::organization:
            return true;
        case auth::Scope::site:
            return !target.site_id.empty() && m.site_id == target.site_id;
        case auth::Scope::device:
            return !target.device_id.empty() && m.device_id == target.device_id;
    }
    return false;
}

// A membership narrowed to a site or device still sees the organization itself and its
// organization-level objects (profiles, firmware), so that the 403 of a disallowed action is
// not mistaken for absence.
bool seesOrganizationLevel(const accounts::Membership& m, const Target& target) {
    return m.organization_id == target.organization_id && target.site_id.empty() &&
           target.device_id.empty();
}

}  // namespace

bool maySee(const Principal& principal, const Target& target) {
    if (principal.user.is_staff) {
        return true;
    }
    return std::any_of(principal.memberships.begin(), principal.memberships.end(),
                       [&](const accounts::Membership& m) {
                           return covers(m, target) || seesOrganizationLevel(m, target);
                       });
}

Result<void> require(const Principal& principal, auth::Action action, const Target& target,
                     std::string_view what) {
    if (!maySee(principal, target)) {
        return notFound(what);
    }
    if (!mayPerform(principal, action, target)) {
        return permissionDenied();
    }
    return {};
}

std::string addParam(store::SqlParams& params, store::SqlValue value) {
    params.push_back(std::move(value));
    std::string placeholder = "$";
    placeholder.append(std::to_string(params.size()));
    return placeholder;
}

std::string allowedRows(const Principal& principal, auth::Action action,
                        const ScopeColumns& columns, store::SqlParams& params) {
    if (principal.user.is_staff) {
        return "1 = 1";
    }
    std::vector<std::string> alternatives;
    auto add = [&](const std::string& column, const std::string& value) {
        if (!column.empty() && !value.empty()) {
            alternatives.push_back(column + " = " + addParam(params, value));
        }
    };
    for (const auto& m : principal.memberships) {
        if (!auth::allowed(m.role, m.scope, action)) {
            continue;
        }
        switch (m.scope) {
            case auth::Scope::organization:
                add(columns.organization, m.organization_id);
                break;
            case auth::Scope::site:
                add(columns.site, m.site_id);
                break;
            case auth::Scope::device:
                add(columns.device, m.device_id);
                break;
        }
    }
    if (alternatives.empty()) {
        return "1 = 0";
    }
    std::string condition = "(";
    for (std::size_t i = 0; i < alternatives.size(); ++i) {
        condition.append(i == 0 ? "" : " OR ").append(alternatives[i]);
    }
    return condition.append(")");
}

std::vector<std::string> organizationsAllowing(const Principal& principal, auth::Action action) {
    std::vector<std::string> out;
    for (const auto& m : principal.memberships) {
        if (m.scope == auth::Scope::organization && auth::allowed(m.role, m.scope, action) &&
            std::find(out.begin(), out.end(), m.organization_id) == out.end()) {
            out.push_back(m.organization_id);
        }
    }
    return out;
}

Result<std::string> targetOrganization(const Principal& principal, auth::Action action,
                                       const std::optional<std::string>& requested) {
    if (requested) {
        if (auto allowed = require(principal, action, Target{*requested, {}, {}}, "organization");
            !allowed) {
            return allowed.takeError();
        }
        return *requested;
    }
    std::vector<std::string> organizations = organizationsAllowing(principal, action);
    if (organizations.size() == 1) {
        return organizations.front();
    }
    if (organizations.empty() && !principal.user.is_staff) {
        return permissionDenied();
    }
    return Error{400,
                 "organization_required",
                 "name the organization: you belong to several",
                 {{"organization_id", "required"}}};
}

Result<void> audit(store::SqlSession& sql, const Principal& principal, const http::Request& request,
                   const std::string& organization_id, accounts::AuditEntry entry) {
    accounts::Actor actor{principal.user.id, organization_id, request.remote_address,
                          std::string(request.header("user-agent"))};
    return accounts::recordAudit(sql, actor, entry, nowMicros());
}

}  // namespace esocore::api
