// config/analyzers.yaml: the transaction analyzers' settings and the hosted fraud model.
// docs/transactions.md documents every option; errors name file:line:column.
#pragma once

#include <string>

#include "analyzers/probe.h"
#include "analyzers/session.h"
#include "analyzers/travel.h"
#include "analyzers/velocity.h"
#include "core/result.h"

namespace vigil::analyzers {

struct FraudModelConfig {
  bool enabled = true;
  std::string schema;              // feature schema file, relative to the config directory
  std::string evaluator = "native";  // native | c_api | auto
  // When the client also sends the signal: "hosted" (default) scores with the hosted model and
  // keeps the client's value as context.client_<signal> for the record; "client" keeps the
  // client's value and skips the model.
  std::string client_signal = "hosted";
};

struct AnalyzersConfig {
  VelocityConfig velocity;
  TravelConfig travel;
  SessionConfig session;
  ProbeConfig probe;
  FraudModelConfig fraud_model;
};

Result<AnalyzersConfig> ParseAnalyzersConfig(std::string_view text, const std::string& source);
// A missing file gives the defaults with the hosted model disabled.
Result<AnalyzersConfig> LoadAnalyzersConfig(const std::string& path);

}  // namespace vigil::analyzers
