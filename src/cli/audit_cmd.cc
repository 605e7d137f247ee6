// vigil audit verify | archive | show, and vigil keys add.
#include <chrono>
#include <filesystem>
#include <iostream>

#include "auth/keys.h"
#include "auth/secrets.h"
#include "cli/commands.h"
#include "store/audit_archive.h"
#include "store/sqlite_audit_store.h"

namespace vigil::cli {
namespace {

// The audit commands read an existing log: in a directory without one they say so, and create
// nothing (no empty log reported as intact, no new secret beside it).
Status RequireLog(const std::string& data) {
  std::error_code ec;
  if (!std::filesystem::exists(data + "/audit.db", ec)) {
    return Error::NotFound("no audit log here (is --data the server's data directory?)", data);
  }
  return Status::Ok();
}

Result<std::unique_ptr<AuditStore>> OpenStore(const std::string& data) {
  if (Status s = RequireLog(data); !s.ok()) return s.error();
  auto secret = LoadOrCreateServerSecret(data);
  if (!secret.ok()) return secret.error();
  SqliteAuditOptions opt;
  opt.head_secret = *secret;
  opt.synchronous = "normal";  // the CLI only reads; do not refuse to open a truncated log
  return OpenSqliteAuditStore(data, opt);
}

}  // namespace

void RegisterAuditCommands(CLI::App& app, int& exit_code) {
  auto* audit = app.add_subcommand("audit", "Check and read the tamper-evident audit log");
  audit->require_subcommand(1);
  static std::string data = "./vigil-data", id;
  static std::vector<std::string> archives;
  auto* verify = audit->add_subcommand("verify", "Check the whole hash chain; name the first bad record");
  verify->add_option("--data", data, "Data directory");
  verify->add_option("--archive", archives,
                     "Archive files made by `vigil audit archive`, oldest first (repeat): checked as the "
                     "chain's start, so that the whole history is verified");
  verify->callback([&exit_code] {
    auto store = OpenStore(data);
    if (!store.ok()) {
      std::cerr << "error: " << store.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
    auto anchor = (*store)->Anchor();
    if (!anchor.ok()) {  // a forged anchor: the log's start cannot be trusted
      std::cout << "BROKEN at the log's start: " << anchor.error().message << "\n";
      exit_code = 1;
      return;
    }
    ChainVerifier v((*store)->SignedHead());
    std::int64_t archived = 0;
    bool started = false;
    // Records already checked (archives that overlap after an interrupted archiving, or a live log
    // that still holds records of the last archive) are skipped; the chain must join after them.
    bool broken = false;  // once a record is wrong, the report names it: nothing more is fed
    auto add = [&](const AuditRecord& r) {
      if (r.seq < v.next_seq()) return true;
      broken = !v.Add(r);
      return !broken;
    };
    for (const std::string& file : archives) {
      Status s = ReadAuditArchive(
          file,
          [&](const ChainHead& start) {
            if (!started) v.StartAt(start.seq, start.hash);
            started = true;
          },
          [&](const AuditRecord& r) {
            ++archived;
            return add(r);
          });
      if (broken) break;
      if (!s.ok()) {
        std::cerr << "error: " << s.error().ToString() << "\n";
        exit_code = 2;
        return;
      }
    }
    if (!started && *anchor) v.StartAt((*anchor)->seq, (*anchor)->hash);
    const std::int64_t from = v.next_seq();
    Status s = broken ? Status::Ok() : (*store)->ForEach(1, add);
    if (!s.ok()) {
      std::cerr << "error: " << s.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
    VerifyReport rep = v.Finish();
    if (rep.ok) {
      std::cout << "ok: " << rep.records << " records, chain intact";
      if (!archives.empty()) std::cout << " (" << archived << " read from " << archives.size() << " archive file(s))";
      if (from > 1 && archives.empty()) {
        std::cout << "; records before " << from << " were archived (pass their files with --archive to check them)";
      }
      std::cout << "\n";
      return;
    }
    std::cout << "BROKEN at record " << rep.bad_seq;
    if (!rep.bad_request_id.empty()) std::cout << " (request_id " << rep.bad_request_id << ")";
    std::cout << ": " << rep.problem << "\n" << rep.records << " records verified before it\n";
    exit_code = 1;
  });

  static std::string out;
  static double older_than_days = 0;
  static std::int64_t through = 0;
  static std::size_t batch = 2000;
  auto* archive = audit->add_subcommand(
      "archive",
      "Move the oldest records into an archive file and out of the live log (the server may be running); "
      "`vigil audit verify --archive FILE` checks the whole history");
  archive->add_option("--data", data, "Data directory");
  archive->add_option("--out", out, "The archive file to write (must not exist)")->required();
  auto* age = archive->add_option("--older-than-days", older_than_days, "Archive the records older than this");
  auto* upto = archive->add_option("--through", through, "Archive the records up to this seq");
  age->excludes(upto);
  archive->add_option("--batch", batch, "Records deleted per transaction (each holds the write lock briefly)");
  archive->callback([&exit_code] {
    if (older_than_days <= 0 && through <= 0) {
      std::cerr << "error: choose the records: --older-than-days D or --through SEQ\n";
      exit_code = 2;
      return;
    }
    Status present = RequireLog(data);
    auto secret = present.ok() ? LoadOrCreateServerSecret(data) : Result<std::string>(present.error());
    if (!secret.ok()) {
      std::cerr << "error: " << secret.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
    ArchiveOptions opt;
    opt.out_path = out;
    opt.through_seq = through;
    if (older_than_days > 0) {
      const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
      opt.before_ms = now - static_cast<std::int64_t>(older_than_days * 86400e3);
    }
    opt.secret = *secret;
    opt.batch = batch;
    int shown = -1;
    std::string shown_phase;
    opt.progress = [&](std::string_view phase, std::int64_t done, std::int64_t total) {
      const int pct = static_cast<int>(100 * done / total);
      if (phase != shown_phase) shown = -1;
      if (pct / 10 != shown / 10 || done == total) {
        std::cerr << phase << " " << done << " of " << total
                  << (phase == "written" ? " records to the archive (" : " archived records from the log (") << pct
                  << "%)\n";
        shown = pct;
        shown_phase = std::string(phase);
      }
    };
    auto rep = ArchiveAuditLog(data, opt);
    if (!rep.ok()) {
      std::cerr << "error: " << rep.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
    if (rep->records == 0) {
      std::cout << "nothing to archive: no record is old enough (the newest record always stays)\n";
      return;
    }
    std::cout << "archived records " << rep->first_seq << " to " << rep->last_seq << " (" << rep->records
              << ") to " << out << "; the log now starts at record " << rep->last_seq + 1 << ", after "
              << rep->last_hash << "\n";
    std::cerr << "a running server drops the archived request ids from its index within a minute, once they are a "
                 "quarter of it\n";
  });
  auto* show = audit->add_subcommand("show", "Print the record of a request id or evidence id");
  show->add_option("id", id, "request_id")->required();
  show->add_option("--data", data, "Data directory");
  show->callback([&exit_code] {
    auto store = OpenStore(data);
    if (!store.ok()) {
      std::cerr << "error: " << store.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
    auto rec = (*store)->FindByRequestId(id);
    std::optional<AuditRecord> found = rec.ok() ? *rec : std::nullopt;
    if (!found) {
      (void)(*store)->ForEach(1, [&](const AuditRecord& r) {
        if (r.hash == id) found = r;
        return !found;
      });
    }
    if (!found) {
      std::cerr << "no record with request id or evidence id '" << id << "'\n";
      exit_code = 1;
      return;
    }
    std::cout << "{\"seq\":" << found->seq << ",\"evidence_id\":\"" << found->hash << "\",\"prev\":\"" << found->prev
              << "\",\"record\":" << found->payload << "}\n";
  });

  auto* keys = app.add_subcommand("keys", "Manage API keys");
  keys->require_subcommand(1);
  auto* add = keys->add_subcommand("add", "Create a key; it is printed once and only its hash is stored");
  static std::vector<std::string> scopes;
  static double rps = 100, burst = 200;
  static std::string name;
  add->add_option("--data", data, "Data directory");
  add->add_option("--scope", scopes, "decide, label, read or admin (repeat for several)")->required();
  add->add_option("--rate", rps, "Requests per second (token-bucket rate)");
  add->add_option("--burst", burst, "Token-bucket size");
  add->add_option("--name", name, "What the key is for");
  add->callback([&exit_code] {
    auto bits = ParseScopes(scopes);
    if (!bits.ok()) {
      std::cerr << "error: " << bits.error().message << "\n";
      exit_code = 2;
      return;
    }
    auto key = AddKey(data + "/keys.yaml", *bits, rps, burst, name);
    if (!key.ok()) {
      std::cerr << "error: " << key.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
    std::cout << *key << "\n";
    std::cerr << "key created with scopes " << ScopeNames(*bits)
              << "; send SIGHUP to a running server to load it\n";
  });
}

}  // namespace vigil::cli
