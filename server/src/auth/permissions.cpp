#include "auth/permissions.h"

namespace esocore::auth {

namespace {

// The permission table: one row per action, one column per role (owner, admin, operator,
// technician, viewer), and whether a membership narrowed to a site or a device may use it.
// Organization-wide actions (members, firmware, audit, profiles) need an organization-wide
// membership: a narrowed one only ever sees its own site's or device's objects.
struct Row {
    Action action;
    std::array<bool, kRoleCount> roles;
    bool narrowed;
};

constexpr bool Y = true;
constexpr bool N = false;

// clang-format off
constexpr std::array<Row, kActionCount> kTable{{
    //                                  owner admin oper  tech  viewer  narrowed
    {Action::organization_read,        {Y,    Y,    Y,    Y,    Y},     Y},
    {Action::organization_update,      {Y,    Y,    N,    N,    N},     N},
    {Action::organization_delete,      {Y,    N,    N,    N,    N},     N},
    {Action::member_read,              {Y,    Y,    Y,    N,    N},     N},
    {Action::member_manage,            {Y,    Y,    N,    N,    N},     N},
    {Action::site_read,                {Y,    Y,    Y,    Y,    Y},     Y},
    {Action::site_write,               {Y,    Y,    N,    N,    N},     N},
    {Action::device_read,              {Y,    Y,    Y,    Y,    Y},     Y},
    {Action::device_write,             {Y,    Y,    Y,    N,    N},     Y},
    {Action::device_claim,             {Y,    Y,    Y,    N,    N},     N},
    {Action::device_rotate_key,        {Y,    Y,    Y,    N,    N},     Y},
    {Action::device_status,            {Y,    Y,    Y,    Y,    N},     Y},
    {Action::device_configure,         {Y,    Y,    Y,    N,    N},     Y},
    {Action::config_profile_read,      {Y,    Y,    Y,    Y,    Y},     N},
    {Action::config_profile_write,     {Y,    Y,    N,    N,    N},     N},
    {Action::asset_read,               {Y,    Y,    Y,    Y,    Y},     Y},
    {Action::asset_write,              {Y,    Y,    Y,    N,    N},     Y},
    {Action::maintenance_read,         {Y,    Y,    Y,    Y,    Y},     Y},
    {Action::maintenance_write,        {Y,    Y,    Y,    Y,    N},     Y},
    {Action::event_read,               {Y,    Y,    Y,    Y,    Y},     Y},
    {Action::event_acknowledge,        {Y,    Y,    Y,    Y,    N},     Y},
    {Action::event_resolve,            {Y,    Y,    Y,    Y,    N},     Y},
    {Action::alert_rule_read,          {Y,    Y,    Y,    Y,    Y},     Y},
    {Action::alert_rule_write,         {Y,    Y,    Y,    N,    N},     N},
    {Action::notification_read,        {Y,    Y,    Y,    Y,    N},     Y},
    {Action::telemetry_read,           {Y,    Y,    Y,    Y,    Y},     Y},
    {Action::telemetry_export,         {Y,    Y,    Y,    Y,    N},     Y},
    {Action::firmware_read,            {Y,    Y,    Y,    Y,    Y},     N},
    {Action::firmware_upload,          {Y,    Y,    N,    N,    N},     N},
    {Action::rollout_manage,           {Y,    Y,    Y,    N,    N},     N},
    {Action::dashboard_read,           {Y,    Y,    Y,    Y,    Y},     Y},
    {Action::dashboard_write,          {Y,    Y,    Y,    Y,    N},     Y},
    {Action::audit_read,               {Y,    Y,    N,    N,    N},     N},
}};
// clang-format on

constexpr std::array<std::string_view, kActionCount> kActionNames{
    "organization.read", "organization.update", "organization.delete",  "member.read",
    "member.manage",     "site.read",           "site.write",           "device.read",
    "device.write",      "device.claim",        "device.rotate_key",    "device.status",
    "device.configure",  "config_profile.read", "config_profile.write", "asset.read",
    "asset.write",       "maintenance.read",    "maintenance.write",    "event.read",
    "event.acknowledge", "event.resolve",       "alert_rule.read",      "alert_rule.write",
    "notification.read", "telemetry.read",      "telemetry.export",     "firmware.read",
    "firmware.upload",   "rollout.manage",      "dashboard.read",       "dashboard.write",
    "audit.read",
};

constexpr bool tableIsInActionOrder() {
    for (std::size_t i = 0; i < kTable.size(); ++i) {
        if (static_cast<std::size_t>(kTable[i].action) != i) {
            return false;
        }
    }
    return true;
}
static_assert(tableIsInActionOrder(), "one row per action, in the order of Action");

constexpr std::array<std::string_view, kRoleCount> kRoleNames{"owner", "admin", "operator",
                                                              "technician", "viewer"};

}  // namespace

std::string_view roleName(Role role) {
    return kRoleNames[static_cast<std::size_t>(role)];
}

std::optional<Role> parseRole(std::string_view name) {
    for (std::size_t i = 0; i < kRoleNames.size(); ++i) {
        if (kRoleNames[i] == name) {
            return static_cast<Role>(i);
        }
    }
    return std::nullopt;
}

std::string_view actionName(Action action) {
    return kActionNames[static_cast<std::size_t>(action)];
}

std::string_view scopeName(Scope scope) {
    switch (scope) {
        case Scope::organization:
            return "organization";
        case Scope::site:
            return "site";
        case Scope::device:
            return "device";
    }
    return "organization";
}

bool allowed(Role role, Scope scope, Action action) {
    const Row& row = kTable[static_cast<std::size_t>(action)];
    if (scope != Scope::organization && !row.narrowed) {
        return false;
    }
    return row.roles[static_cast<std::size_t>(role)];
}

}  // namespace esocore::auth
