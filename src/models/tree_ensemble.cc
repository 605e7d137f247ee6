// XGBoost JSON model parsing (simdjson DOM) into flat node arrays, and evaluation.
#include "models/tree_ensemble.h"

#include <simdjson.h>

#include <cmath>
#include <cstdlib>

#include "core/file.h"

namespace vigil {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

Error Bad(const std::string& source, const std::string& msg) {
  return Error::Invalid(msg, source);
}

// XGBoost writes most scalar parameters as strings ("5E-1", "18").
bool NumberField(object o, std::string_view key, double* out) {
  element e;
  if (o.at_key(key).get(e)) return false;
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) {
    std::string text(s);
    char* end = nullptr;
    *out = std::strtod(text.c_str(), &end);
    return end != text.c_str() && *end == '\0';
  }
  return e.get_double().get(*out) == simdjson::SUCCESS;
}

template <typename T, typename F>
bool ReadArray(object tree, std::string_view key, std::size_t n, std::vector<T>& out, F convert) {
  array a;
  if (tree.at_key(key).get_array().get(a)) return false;
  if (a.size() != n) return false;
  out.clear();
  out.reserve(n);
  for (element e : a) {
    T v{};
    if (!convert(e, v)) return false;
    out.push_back(v);
  }
  return true;
}

bool AsInt(element e, std::int64_t& v) { return e.get_int64().get(v) == simdjson::SUCCESS; }
bool AsDouble(element e, double& v) { return e.get_double().get(v) == simdjson::SUCCESS; }

struct Parsed {
  object learner;
  ModelInfo info;
  double base_score = 0.5;
};

Result<Parsed> ParseHeader(element doc, const std::string& source) {
  Parsed p;
  if (doc.at_key("learner").get_object().get(p.learner)) {
    return Bad(source, "not an XGBoost JSON model (no 'learner' object)");
  }
  object lmp;
  if (p.learner.at_key("learner_model_param").get_object().get(lmp)) {
    return Bad(source, "learner.learner_model_param missing");
  }
  double nf = 0, nc = 0;
  if (!NumberField(lmp, "num_feature", &nf) || nf < 1) return Bad(source, "learner_model_param.num_feature missing");
  if (!NumberField(lmp, "base_score", &p.base_score)) return Bad(source, "learner_model_param.base_score missing");
  if (NumberField(lmp, "num_class", &nc) && nc > 1) p.info.objective = "multiclass";
  p.info.num_feature = static_cast<std::size_t>(nf);
  std::string_view obj;
  if (p.learner.at_key("objective").at_key("name").get_string().get(obj)) {
    return Bad(source, "learner.objective.name missing");
  }
  if (p.info.objective.empty()) p.info.objective = std::string(obj);
  array names;
  if (p.learner.at_key("feature_names").get_array().get(names) == simdjson::SUCCESS) {
    for (element e : names) {
      std::string_view s;
      if (e.get_string().get(s)) return Bad(source, "learner.feature_names must be strings");
      p.info.feature_names.emplace_back(s);
    }
    if (!p.info.feature_names.empty() && p.info.feature_names.size() != p.info.num_feature) {
      return Bad(source, "learner.feature_names has " + std::to_string(p.info.feature_names.size()) +
                             " names for " + std::to_string(p.info.num_feature) + " features");
    }
  }
  return p;
}

thread_local simdjson::dom::parser t_parser;

}  // namespace

Result<ModelInfo> TreeEnsemble::ReadInfo(std::string_view json, const std::string& source) {
  element doc;
  if (auto err = t_parser.parse(json.data(), json.size(), true).get(doc)) {
    return Error::Parse(std::string("not JSON: ") + simdjson::error_message(err), source);
  }
  auto p = ParseHeader(doc, source);
  if (!p.ok()) return p.error();
  return p->info;
}

Result<TreeEnsemble> TreeEnsemble::LoadFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.error();
  return Parse(*text, path);
}

Result<TreeEnsemble> TreeEnsemble::Parse(std::string_view json, const std::string& source) {
  element doc;
  if (auto err = t_parser.parse(json.data(), json.size(), true).get(doc)) {
    return Error::Parse(std::string("not JSON: ") + simdjson::error_message(err), source);
  }
  auto header = ParseHeader(doc, source);
  if (!header.ok()) return header.error();
  TreeEnsemble m;
  m.info_ = header->info;
  const std::string& objective = m.info_.objective;
  if (objective == "binary:logistic" || objective == "reg:logistic") {
    if (!(header->base_score > 0 && header->base_score < 1)) return Bad(source, "base_score must be in (0, 1)");
    m.link_ = Link::kSigmoid;
    m.base_margin_ = -std::log(1.0f / static_cast<float>(header->base_score) - 1.0f);
  } else if (objective == "binary:logitraw" || objective == "reg:squarederror") {
    m.link_ = Link::kIdentity;
    m.base_margin_ = static_cast<float>(header->base_score);
  } else {
    return Bad(source, "objective '" + objective + "' is not evaluated natively (use the C API evaluator)");
  }

  object booster;
  std::string_view booster_name;
  if (header->learner.at_key("gradient_booster").get_object().get(booster) ||
      booster.at_key("name").get_string().get(booster_name) || booster_name != "gbtree") {
    return Bad(source, "only gbtree boosters are evaluated natively");
  }
  array trees;
  if (booster.at_key("model").at_key("trees").get_array().get(trees)) {
    return Bad(source, "gradient_booster.model.trees missing");
  }
  std::size_t t_index = 0;
  std::vector<std::int64_t> left, right, split_index, default_left, split_type;
  std::vector<double> cond;
  for (element te : trees) {
    const std::string where = "trees[" + std::to_string(t_index) + "]";
    object tree;
    if (te.get_object().get(tree)) return Bad(source, where + " is not an object");
    double nn = 0;
    object tp;
    if (tree.at_key("tree_param").get_object().get(tp) || !NumberField(tp, "num_nodes", &nn) || nn < 1) {
      return Bad(source, where + ".tree_param.num_nodes missing");
    }
    double leaf_vector = 0;
    if (NumberField(tp, "size_leaf_vector", &leaf_vector) && leaf_vector > 1) {
      return Bad(source, where + ": vector leaves are not evaluated natively");
    }
    const auto n = static_cast<std::size_t>(nn);
    if (!ReadArray(tree, "left_children", n, left, AsInt) || !ReadArray(tree, "right_children", n, right, AsInt) ||
        !ReadArray(tree, "split_indices", n, split_index, AsInt) ||
        !ReadArray(tree, "split_conditions", n, cond, AsDouble) ||
        !ReadArray(tree, "default_left", n, default_left, AsInt)) {
      return Bad(source, where + ": node arrays missing or not of num_nodes entries");
    }
    if (ReadArray(tree, "split_type", n, split_type, AsInt)) {
      for (auto s : split_type) {
        if (s != 0) return Bad(source, where + ": categorical splits are not evaluated natively");
      }
    }
    const auto base = static_cast<std::int32_t>(m.nodes_.size());
    m.roots_.push_back(base);
    // Depth by walking from the root; also proves every child index is in range and the tree
    // has no cycle (each node is reached once).
    std::vector<int> depth(n, -1);
    depth[0] = 0;
    std::size_t reached = 1;
    for (std::size_t i = 0; i < n; ++i) {
      Node node{};
      node.value = static_cast<float>(cond[i]);
      if (left[i] == -1) {
        node.left = node.right = -1;
        node.feature = 0;
      } else {
        if (left[i] <= 0 || right[i] <= 0 || static_cast<std::size_t>(left[i]) >= n ||
            static_cast<std::size_t>(right[i]) >= n) {
          return Bad(source, where + ": child index out of range at node " + std::to_string(i));
        }
        if (split_index[i] < 0 || static_cast<std::size_t>(split_index[i]) >= m.info_.num_feature) {
          return Bad(source, where + ": split feature out of range at node " + std::to_string(i));
        }
        for (auto c : {left[i], right[i]}) {
          if (depth[static_cast<std::size_t>(c)] != -1 || depth[i] < 0) {
            return Bad(source, where + ": nodes are not a tree at node " + std::to_string(i));
          }
          depth[static_cast<std::size_t>(c)] = depth[i] + 1;
          ++reached;
          if (depth[i] + 1 > m.info_.max_depth) m.info_.max_depth = depth[i] + 1;
        }
        node.left = base + static_cast<std::int32_t>(left[i]);
        node.right = base + static_cast<std::int32_t>(right[i]);
        node.feature = static_cast<std::uint32_t>(split_index[i]) | (default_left[i] ? kDefaultLeft : 0u);
      }
      m.nodes_.push_back(node);
    }
    if (reached != n) return Bad(source, where + ": nodes not reachable from the root");
    ++t_index;
  }
  array tree_info;
  if (booster.at_key("model").at_key("tree_info").get_array().get(tree_info) == simdjson::SUCCESS) {
    for (element e : tree_info) {
      std::int64_t g = 0;
      if (!AsInt(e, g) || g != 0) return Bad(source, "multi-output models are not evaluated natively");
    }
  }
  m.info_.num_trees = m.roots_.size();
  m.info_.num_nodes = m.nodes_.size();
  if (m.info_.max_depth <= kMaxPaddedDepth) m.BuildPadded();
  return m;
}

void TreeEnsemble::BuildPadded() {
  const int d = info_.max_depth;
  const std::size_t inner = (std::size_t{1} << d) - 1, leaves = std::size_t{1} << d;
  splits_.assign(roots_.size() * inner, Split{0, 0.0f});
  leaves_.assign(roots_.size() * leaves, 0.0f);
  // Depth-first over (original node, perfect position, level); at most d + 1 levels deep.
  struct Item {
    std::int32_t node;
    std::size_t pos;
    int level;
  };
  std::vector<Item> stack;
  for (std::size_t t = 0; t < roots_.size(); ++t) {
    Split* s = splits_.data() + t * inner;
    float* l = leaves_.data() + t * leaves;
    stack.push_back({roots_[t], 0, 0});
    while (!stack.empty()) {
      const Item it = stack.back();
      stack.pop_back();
      const Node& n = nodes_[static_cast<std::size_t>(it.node)];
      if (it.level == d) {
        l[it.pos - inner] = n.value;  // a leaf: the walk from the root checked depths
        continue;
      }
      const bool leaf = n.left < 0;
      // A leaf above the last level: both sides lead to it, so the split does not matter.
      s[it.pos] = leaf ? Split{0, 0.0f} : Split{n.feature, n.value};
      stack.push_back({leaf ? it.node : n.right, 2 * it.pos + 2, it.level + 1});
      stack.push_back({leaf ? it.node : n.left, 2 * it.pos + 1, it.level + 1});
    }
  }
  padded_depth_ = d;
}

float TreeEnsemble::PaddedMargin(const float* row) const {
  if (padded_depth_ < 0) return std::nanf("");
  const int d = padded_depth_;
  const std::size_t inner = (std::size_t{1} << d) - 1, nleaves = std::size_t{1} << d;
  const std::size_t trees = roots_.size();
  constexpr std::size_t kLanes = 8;
  float sum = base_margin_;
  for (std::size_t t0 = 0; t0 < trees; t0 += kLanes) {
    const std::size_t lanes = trees - t0 < kLanes ? trees - t0 : kLanes;
    std::size_t pos[kLanes] = {};
    for (int level = 0; level < d; ++level) {
      for (std::size_t k = 0; k < lanes; ++k) {
        const Split& s = splits_[(t0 + k) * inner + pos[k]];
        const float v = row[s.feature & ~kDefaultLeft];
        // NaN compares false: it goes left only with the default-left flag.
        const bool left = (v < s.value) | (std::isnan(v) & ((s.feature & kDefaultLeft) != 0));
        pos[k] = 2 * pos[k] + 2 - static_cast<std::size_t>(left);
      }
    }
    for (std::size_t k = 0; k < lanes; ++k) sum += leaves_[(t0 + k) * nleaves + pos[k] - inner];
  }
  return sum;
}

float TreeEnsemble::NodeMargin(const float* row) const {
  const Node* nodes = nodes_.data();
  float sum = base_margin_;
  for (std::int32_t root : roots_) {
    const Node* n = nodes + root;
    while (n->left >= 0) {
      const float v = row[n->feature & ~kDefaultLeft];
      std::int32_t next;
      if (std::isnan(v)) {
        next = (n->feature & kDefaultLeft) ? n->left : n->right;
      } else {
        next = v < n->value ? n->left : n->right;
      }
      n = nodes + next;
    }
    sum += n->value;
  }
  return sum;
}

float TreeEnsemble::Transform(float margin) const {
  if (link_ == Link::kSigmoid) return 1.0f / (1.0f + std::exp(-margin));
  return margin;
}

}  // namespace vigil
