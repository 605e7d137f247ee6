#include "feedback/label_store.h"

#include <sqlite3.h>

#include <filesystem>

namespace vigil {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS labels (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id     TEXT NOT NULL,
  label          TEXT NOT NULL,
  attack_type    TEXT NOT NULL,
  source         TEXT NOT NULL,
  labelled_at_ms INTEGER NOT NULL,
  received_at_ms INTEGER NOT NULL,
  key_id         TEXT NOT NULL,
  conflict       INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS labels_by_request ON labels (request_id, labelled_at_ms, id);
)sql";

constexpr const char* kColumns =
    "id, request_id, label, attack_type, source, labelled_at_ms, received_at_ms, key_id, conflict";

std::string Text(sqlite3_stmt* st, int col) {
  const auto* p = sqlite3_column_text(st, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(st, col)))
           : std::string();
}

Label Row(sqlite3_stmt* st) {
  Label l;
  l.id = sqlite3_column_int64(st, 0);
  l.request_id = Text(st, 1);
  l.label = ParseLabelClass(Text(st, 2)).value_or(LabelClass::kGenuine);
  l.attack_type = Text(st, 3);
  l.source = Text(st, 4);
  l.labelled_at_ms = sqlite3_column_int64(st, 5);
  l.received_at_ms = sqlite3_column_int64(st, 6);
  l.key_id = Text(st, 7);
  l.conflict = sqlite3_column_int(st, 8) != 0;
  return l;
}

// The label in force among a request id's labels: latest labelled_at, then latest arrival.
const Label* InForce(const std::vector<Label>& all) {
  const Label* best = nullptr;
  for (const auto& l : all) {
    if (!best || l.labelled_at_ms > best->labelled_at_ms ||
        (l.labelled_at_ms == best->labelled_at_ms && l.id > best->id)) {
      best = &l;
    }
  }
  return best;
}

}  // namespace

Result<std::unique_ptr<LabelStore>> LabelStore::Open(const std::string& dir, const std::string& synchronous) {
  std::unique_ptr<LabelStore> s(new LabelStore());
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string path = dir + "/labels.db";
  if (sqlite3_open_v2(path.c_str(), &s->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    return Error::Io(std::string("cannot open label database: ") + sqlite3_errmsg(s->db_), path);
  }
  if (synchronous != "off" && synchronous != "normal" && synchronous != "full" && synchronous != "extra") {
    return Error::Invalid("synchronous must be off, normal, full or extra");
  }
  const std::string pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=" + synchronous + "; PRAGMA busy_timeout=5000;";
  if (Status st = s->Exec(pragmas.c_str()); !st.ok()) return st.error();
  if (Status st = s->Exec(kSchema); !st.ok()) return st.error();
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(s->db_, "SELECT COUNT(*), COALESCE(SUM(conflict), 0) FROM labels", -1, &st, nullptr);
  if (sqlite3_step(st) == SQLITE_ROW) {
    s->count_ = sqlite3_column_int64(st, 0);
    s->conflicts_ = sqlite3_column_int64(st, 1);
  }
  sqlite3_finalize(st);
  return s;
}

LabelStore::~LabelStore() {
  if (db_) sqlite3_close(db_);
}

Status LabelStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "sqlite error";
    sqlite3_free(err);
    return Error::Io("label store: " + msg);
  }
  return Status::Ok();
}

Result<std::vector<Label>> LabelStore::Query(const char* sql, const std::string& bind) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) {
    return Error::Io(std::string("label store: ") + sqlite3_errmsg(db_));
  }
  if (!bind.empty()) sqlite3_bind_text(st, 1, bind.data(), static_cast<int>(bind.size()), SQLITE_TRANSIENT);
  std::vector<Label> out;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) out.push_back(Row(st));
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return Error::Io(std::string("label store: ") + sqlite3_errmsg(db_));
  return out;
}

Result<LabelStore::PutResult> LabelStore::Put(Label label) {
  std::lock_guard lk(mu_);
  const std::string select = std::string("SELECT ") + kColumns + " FROM labels WHERE request_id = ? ORDER BY id";
  auto existing = Query(select.c_str(), label.request_id);
  if (!existing.ok()) return existing.error();
  PutResult r;
  for (const auto& l : *existing) {
    if (l.label == label.label && l.attack_type == label.attack_type && l.source == label.source) {
      r.duplicate = true;
      r.stored = l;
      r.in_force = *InForce(*existing);
      r.history = static_cast<std::int64_t>(existing->size());
      return r;
    }
  }
  if (const Label* before = InForce(*existing)) {
    label.conflict = before->label != label.label || before->attack_type != label.attack_type;
  }
  sqlite3_stmt* st = nullptr;
  const std::string insert = std::string("INSERT INTO labels (") + kColumns + ") VALUES (NULL,?,?,?,?,?,?,?,?)";
  if (sqlite3_prepare_v2(db_, insert.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    return Error::Io(std::string("label store: ") + sqlite3_errmsg(db_));
  }
  const std::string cls(LabelClassName(label.label));
  sqlite3_bind_text(st, 1, label.request_id.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, cls.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, label.attack_type.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, label.source.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 5, label.labelled_at_ms);
  sqlite3_bind_int64(st, 6, label.received_at_ms);
  sqlite3_bind_text(st, 7, label.key_id.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(st, 8, label.conflict ? 1 : 0);
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return Error::Io(std::string("label store: ") + sqlite3_errmsg(db_));
  label.id = sqlite3_last_insert_rowid(db_);
  ++count_;
  if (label.conflict) ++conflicts_;
  existing->push_back(label);
  r.stored = label;
  r.in_force = *InForce(*existing);
  r.history = static_cast<std::int64_t>(existing->size());
  return r;
}

Result<std::vector<Label>> LabelStore::History(const std::string& request_id) {
  std::lock_guard lk(mu_);
  const std::string select = std::string("SELECT ") + kColumns + " FROM labels WHERE request_id = ? ORDER BY id";
  return Query(select.c_str(), request_id);
}

Status LabelStore::ForEachInForce(const std::function<void(const Label&)>& visit) {
  std::lock_guard lk(mu_);
  // The row with the greatest (labelled_at_ms, id) per request id.
  const std::string select = std::string("SELECT ") + kColumns +
                             " FROM labels l WHERE NOT EXISTS (SELECT 1 FROM labels o WHERE o.request_id = "
                             "l.request_id AND (o.labelled_at_ms > l.labelled_at_ms OR (o.labelled_at_ms = "
                             "l.labelled_at_ms AND o.id > l.id))) ORDER BY id";
  auto rows = Query(select.c_str(), "");
  if (!rows.ok()) return rows.error();
  for (const auto& l : *rows) visit(l);
  return Status::Ok();
}

std::int64_t LabelStore::conflicts() const {
  std::lock_guard lk(mu_);
  return conflicts_;
}

std::int64_t LabelStore::count() const {
  std::lock_guard lk(mu_);
  return count_;
}

}  // namespace vigil
