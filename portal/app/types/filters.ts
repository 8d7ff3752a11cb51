/** The device list's filters, as kept in the query string (empty = any). */
export interface DeviceFilterValues extends Record<string, string> {
  search: string
  status: string
  site_id: string
  online: string
}

export interface EventFilterValues extends Record<string, string> {
  status: string
  min_severity: string
  site_id: string
  search: string
}
