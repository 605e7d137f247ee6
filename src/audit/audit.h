// The tamper-evident audit log's records. Each record is a canonical JSON payload (stable key
// order, shortest round-trip numbers) chained to the one before it:
//   hash(n) = SHA-256( hash(n-1) "\n" n "\n" payload(n) ),  hash(0) = 64 zeros
// The record hash is the decision's evidence id. A change, deletion or reordering of any record
// breaks the chain; truncating the tail is caught by the signed head the store keeps beside it.
// Records keep what replay needs (inputs, raw and calibrated scores, versions, decision, reasons,
// latencies); raw media never, only digests; subject ids only as keyed pseudonyms.
// Functions here are pure and thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/decision.h"
#include "core/result.h"
#include "reasons/catalogue.h"

namespace vigil {

inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// One stored record.
struct AuditRecord {
  std::int64_t seq = 0;
  std::string kind;        // "decision" or an event type ("policy_reload", "rollback", ...)
  std::string request_id;  // decisions only
  std::int64_t time_ms = 0;
  std::string prev;        // previous record's hash
  std::string hash;        // this record's hash: the evidence id
  std::string payload;     // canonical JSON
  std::string response;    // the response body sent to the client (decisions; not hashed)
  std::string body_sha256; // SHA-256 of the request body, for idempotency
};

std::string ChainHash(std::string_view prev_hash, std::int64_t seq, std::string_view payload);

// Context fields that identify a person, account or device; stored only as pseudonyms.
bool IsSubjectField(std::string_view context_key);
// "ps_" + 24 hex digits of HMAC-SHA256(secret, value): stable per secret, so replay and
// velocity joins still work, while the raw id is not in the log.
std::string SubjectRef(std::string_view secret, std::string_view value);

// What the server adds to a decision's record.
struct AuditContext {
  std::string key_id;
  std::int64_t time_ms = 0;
  std::string session_ref;                 // pseudonym of the liveness session, or ""
  std::vector<std::string> media_sha256;   // digests of the frames, never the frames
  double decision_latency_ms = 0.0;
  std::vector<std::pair<std::string, double>> stage_ms;  // per-stage latency
  std::vector<std::pair<std::string, std::string>> calibration_versions;  // signal -> version
};

// The canonical payload of a decision record.
// Reason codes are stored by name (catalogue), so records outlive changes to the code list.
std::string BuildDecisionPayload(const DecisionRequest& request, const Decision& decision,
                                 const AuditContext& ctx, const ReasonCatalogue& catalogue,
                                 std::string_view pseudonym_secret);

// The canonical payload of an operational event (reload, rollback, promotion). `fields_json` is a
// JSON object built with JsonWriter in a fixed key order.
std::string BuildEventPayload(std::string_view type, std::int64_t time_ms, std::string_view fields_json);

// Reads records in sequence order; returns false at the end. Errors are returned by the source.
using RecordVisitor = std::function<bool(const AuditRecord&)>;

struct ChainHead {
  std::int64_t seq = 0;
  std::string hash;
};

struct VerifyReport {
  bool ok = true;
  std::int64_t records = 0;
  std::int64_t bad_seq = 0;       // the first record found wrong (or where the chain stops)
  std::string bad_request_id;
  std::string problem;            // for people: what is wrong there
};

// Checks records fed in sequence order. `head` is the store's signed head, when it has one.
class ChainVerifier {
 public:
  explicit ChainVerifier(std::optional<ChainHead> head) : head_(std::move(head)) {}
  // Starts the chain at record `seq` following the hash `prev` (the records before it archived),
  // not at record 1 after the genesis hash. Before the first Add.
  void StartAt(std::int64_t seq, std::string prev) {
    expected_seq_ = seq;
    prev_ = std::move(prev);
  }
  // The seq the next record must have.
  std::int64_t next_seq() const { return expected_seq_; }
  // Returns false once a problem is found (stop feeding).
  bool Add(const AuditRecord& r);
  VerifyReport Finish();

 private:
  std::optional<ChainHead> head_;
  VerifyReport report_;
  std::string prev_ = std::string(kGenesisHash);
  std::int64_t expected_seq_ = 1;
};

}  // namespace vigil
