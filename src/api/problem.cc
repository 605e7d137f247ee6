#include "api/problem.h"

#include <array>

#include "core/json_writer.h"

namespace vigil {
namespace {
struct ProblemInfo {
  std::string_view slug;
  int status;
  std::string_view title;
};
constexpr std::array kProblems = {
#define VIGIL_PROBLEM_INFO(name, slug, status, title) ProblemInfo{slug, status, title},
    VIGIL_PROBLEM_TYPES(VIGIL_PROBLEM_INFO)
#undef VIGIL_PROBLEM_INFO
};
}  // namespace

std::string_view ProblemSlug(ProblemType t) { return kProblems[static_cast<std::size_t>(t)].slug; }
std::string_view ProblemTitle(ProblemType t) { return kProblems[static_cast<std::size_t>(t)].title; }
int ProblemStatus(ProblemType t) { return kProblems[static_cast<std::size_t>(t)].status; }
std::string ProblemTypeUri(ProblemType t) { return "urn:vigil:problem:" + std::string(ProblemSlug(t)); }

bool ProblemTypeFromSlug(std::string_view slug, ProblemType* out) {
  for (std::size_t i = 0; i < std::size(kProblems); ++i) {
    if (kProblems[i].slug == slug) {
      *out = static_cast<ProblemType>(i);
      return true;
    }
  }
  return false;
}

std::string RenderProblem(const Problem& p, std::string_view instance) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject()
      .Field("type", ProblemTypeUri(p.type))
      .Field("title", ProblemTitle(p.type))
      .Field("status", ProblemStatus(p.type));
  if (!p.detail.empty()) w.Field("detail", p.detail);
  if (!p.field.empty()) w.Field("field", p.field);
  if (!instance.empty()) w.Field("instance", instance);
  w.EndObject();
  return out;
}

}  // namespace vigil
