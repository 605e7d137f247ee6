// The session component's place in the server (SPEC.md 2.1): POST /v1/sessions opens a liveness
// session with its challenge and signed token; every liveness decision must present a token.
//
// On the request path (liveness flows only):
//   Analyze  no token           -> 422 missing-field (nothing written);
//            token refused      -> a TOKEN_INVALID / TOKEN_WRONG_KEY / TOKEN_EXPIRED /
//                                  TOKEN_REPLAYED finding (the policy's hard and retry rules act
//                                  on it; the decision is audited like any other);
//            token valid        -> its nonce is consumed and the attempt number comes from the
//                                  token, never from the client.
//   Finish   a refused token never yields pass (a guard under the policy: if a policy forgot the
//            hard rule, the outcome becomes fail); a retry carries the next attempt's token; a
//            final outcome closes the session.
// Sessions that expire undecided are counted as abandoned by a sweeper thread.
#pragma once

#include <memory>

#include "server/module.h"
#include "session/session.h"

namespace vigil {

struct SessionCounters {
  std::atomic<std::uint64_t> started{0};
  std::atomic<std::uint64_t> completed{0};  // a final outcome (not retry)
  std::atomic<std::uint64_t> retries{0};
  std::atomic<std::uint64_t> abandoned{0};
  std::atomic<std::uint64_t> refused[4] = {};  // invalid, wrong key, expired, replayed
};

std::unique_ptr<ServerModule> NewSessionModule(const ModuleContext& ctx, std::shared_ptr<SessionStore> store);

}  // namespace vigil
