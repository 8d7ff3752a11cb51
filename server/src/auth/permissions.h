#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace esocore::auth {

enum class Role { owner, admin, operator_, technician, viewer };

/// Everything a person can do through the management API. Each route names one action.
enum class Action {
    organization_read,
    organization_update,
    organization_delete,
    member_read,
    member_manage,
    site_read,
    site_write,
    device_read,
    device_write,
    device_claim,
    device_rotate_key,
    device_status,
    device_configure,
    config_profile_read,
    config_profile_write,
    asset_read,
    asset_write,
    maintenance_read,
    maintenance_write,
    event_read,
    event_acknowledge,
    event_resolve,
    alert_rule_read,
    alert_rule_write,
    notification_read,
    telemetry_read,
    telemetry_export,
    firmware_read,
    firmware_upload,
    rollout_manage,
    dashboard_read,
    dashboard_write,
    audit_read,
};

inline constexpr std::size_t kActionCount = static_cast<std::size_t>(Action::audit_read) + 1;
inline constexpr std::size_t kRoleCount = 5;

/// Where a membership applies: the whole organization, or only one site or one device.
enum class Scope { organization, site, device };

std::string_view roleName(Role role);
std::optional<Role> parseRole(std::string_view name);
std::string_view actionName(Action action);
std::string_view scopeName(Scope scope);

/// Whether `role`, held with `scope`, may perform `action` on an object inside that scope.
/// Objects outside a narrowed scope are not visible at all (the API answers 404).
bool allowed(Role role, Scope scope, Action action);

}  // namespace esocore::auth
