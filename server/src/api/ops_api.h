#pragma once

#include "http/router.h"
#include "ingest/ingest_queue.h"
#include "store/store.h"

namespace esocore::api {

/// /healthz (the process answers), /readyz (store reachable, schema current) and /metrics.
void addOpsRoutes(http::Router& router, store::Store& store, ingest::IngestQueue& queue);

}  // namespace esocore::api
