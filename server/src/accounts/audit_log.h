#pragma once

#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "store/sql.h"

namespace esocore::accounts {

/// Who did something, and from where.
struct Actor {
    std::string user_id;          // empty when unknown (a failed sign-in of no account)
    std::string organization_id;  // empty for actions outside an organization
    std::string ip_address;
    std::string user_agent;
};

/// One change or sign-in, as the audit log keeps it.
struct AuditEntry {
    std::string action;  // dotted, e.g. "sign_in.failed", "api_token.created"
    std::string target_type;
    std::string target_id;
    std::string summary;
};

/// Appends `entry` to the append-only audit log.
Result<void> recordAudit(store::SqlSession& sql, const Actor& actor, const AuditEntry& entry,
                         Micros at);

}  // namespace esocore::accounts
