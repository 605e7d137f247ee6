// The feedback loop in the server (SPEC.md section 2.14):
//   POST /v1/labels                  (scope label)  store a ground-truth label for a decision
//   GET  /v1/labels/{request_id}     (scope read)   a decision's label history and the label in force
//   GET  /v1/monitor/performance     (scope read)   live error rates; ?window=24h (1h, 7d, all, ...)
// Labels are kept in DATA/labels.db (label_store.h) and each new one is written to the audit log
// as a "label" event. See docs/feedback.md.
#pragma once

#include <memory>

#include "server/module.h"

namespace vigil {

Result<std::unique_ptr<ServerModule>> MakeFeedbackModule(const ModuleContext& ctx);

}  // namespace vigil
