// vigil audit verify | show, and vigil keys add.
#include <iostream>

#include "auth/keys.h"
#include "auth/secrets.h"
#include "cli/commands.h"
#include "store/sqlite_audit_store.h"

namespace vigil::cli {
namespace {

Result<std::unique_ptr<AuditStore>> OpenStore(const std::string& data) {
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
  auto* verify = audit->add_subcommand("verify", "Check the whole hash chain; name the first bad record");
  verify->add_option("--data", data, "Data directory");
  verify->callback([&exit_code] {
    auto store = OpenStore(data);
    if (!store.ok()) {
      std::cerr << "error: " << store.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
    ChainVerifier v((*store)->SignedHead());
    Status s = (*store)->ForEach(1, [&](const AuditRecord& r) { return v.Add(r); });
    if (!s.ok()) {
      std::cerr << "error: " << s.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
    VerifyReport rep = v.Finish();
    if (rep.ok) {
      std::cout << "ok: " << rep.records << " records, chain intact\n";
      return;
    }
    std::cout << "BROKEN at record " << rep.bad_seq;
    if (!rep.bad_request_id.empty()) std::cout << " (request_id " << rep.bad_request_id << ")";
    std::cout << ": " << rep.problem << "\n" << rep.records << " records verified before it\n";
    exit_code = 1;
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
