#include "accounts/audit_log.h"

namespace esocore::accounts {

Result<void> recordAudit(store::SqlSession& sql, const Actor& actor, const AuditEntry& entry,
                         Micros at) {
    auto inserted = sql.execute(
        "INSERT INTO audit_log(user_id, organization_id, action, target_type, target_id, "
        "summary, ip_address, user_agent, created_at) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        {store::textOrNull(actor.user_id), store::textOrNull(actor.organization_id), entry.action,
         entry.target_type, entry.target_id, entry.summary, actor.ip_address, actor.user_agent,
         at});
    if (!inserted) {
        return inserted.takeError();
    }
    return {};
}

}  // namespace esocore::accounts
