// Where labels live: DIR/labels.db, SQLite in WAL mode beside the audit log (audit.db), one row
// per label received. Every label is kept (the history); the one in force for a request id is the
// latest by labelled_at, then by arrival. Durable on return from Put (synchronous as the audit
// store's). Thread-safe: one connection behind a mutex (labels arrive at human rates).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.h"
#include "feedback/label.h"

struct sqlite3;

namespace vigil {

class LabelStore {
 public:
  static Result<std::unique_ptr<LabelStore>> Open(const std::string& dir, const std::string& synchronous = "full");
  ~LabelStore();
  LabelStore(const LabelStore&) = delete;
  LabelStore& operator=(const LabelStore&) = delete;

  struct PutResult {
    bool duplicate = false;  // an identical label (label, attack type, source) was already stored
    Label stored;            // the new row, or the identical one already there
    Label in_force;          // the label that counts now
    std::int64_t history = 0;  // labels stored for this request id
  };
  // Stores a label unless an identical one (same label, attack type and source) is there; marks it
  // a conflict when it disagrees (label or attack type) with the label in force before it.
  Result<PutResult> Put(Label label);

  // Every label of a request id in arrival order.
  Result<std::vector<Label>> History(const std::string& request_id);
  // The label in force for each request id, in arrival order of those labels.
  Status ForEachInForce(const std::function<void(const Label&)>& visit);
  // Labels that disagreed with the one in force when they arrived.
  std::int64_t conflicts() const;
  std::int64_t count() const;

 private:
  LabelStore() = default;
  Status Exec(const char* sql);
  Result<std::vector<Label>> Query(const char* sql, const std::string& bind);
  mutable std::mutex mu_;
  sqlite3* db_ = nullptr;
  std::int64_t conflicts_ = 0;
  std::int64_t count_ = 0;
};

}  // namespace vigil
