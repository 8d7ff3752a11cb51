import type { Role } from '~/types/models'

/**
 * The lowest role that may do each action the portal offers, as in the server's permission
 * table (server/src/auth/permissions.cpp), where every role may do all that the roles below it
 * may. The portal only hides what a person cannot do; the server decides every request.
 */
export const minimumRole = {
  'device.write': 'operator',
  'device.rotate_key': 'operator',
  'device.claim': 'operator',
  'device.status': 'technician',
  'device.configure': 'operator',
  'event.acknowledge': 'technician',
  'event.resolve': 'technician',
  'site.write': 'admin'
} as const satisfies Record<string, Role>

export type PortalAction = keyof typeof minimumRole

export const roleRank: Record<Role, number> = { viewer: 0, technician: 1, operator: 2, admin: 3, owner: 4 }
